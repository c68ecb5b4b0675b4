"""Clients for the writes Tower's actions make (issue 13): supplier POs, freight bookings, stock
transfers, storefront changes (Shopify GraphQL), coupons and team messages. See base.py."""
