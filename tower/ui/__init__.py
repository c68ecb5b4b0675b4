"""Tower's shared UI layer: the page frame (context, filters, kiosk mode), translations, number and
date formats, and the Plotly theme. Pages import from here; nothing here knows about one page."""
