"""Vendor formats: one module per API family renders world records in that vendor's real shapes
(`aftership`, `shopify`, `returns`, `nps`, `supplier_portal`, `planning`); `base` holds what they share."""
