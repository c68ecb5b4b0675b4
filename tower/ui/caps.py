"""How much a page lists at once. A wall screen reads tens of rows, and Streamlit styles a table
through pandas' Styler, which refuses more than `styler.render.max_elements` (262,144) cells: at the
reference scale the Stock page's detail (40,000 SKU × warehouse pairs × 14 columns) raised instead of
rendering. Pages list the most urgent rows up to these caps, say how many they left out, and the
sidebar filters (warehouse, market) narrow the rest."""
from __future__ import annotations

import pandas as pd

STOCK_DETAIL_ROWS = 500      # pairs listed in the Stock page's detail table, worst first
STYLED_CELLS = 10_000        # cells of a coloured grid: 500 SKUs x 20 warehouses (styling costs ~25 µs a cell)
# A wall screen cannot scroll: it shows what it can read. Styling all the rows above on every kiosk
# rotation took ~0.25 s of the app server's one interpreter per screen at the reference scale.
KIOSK_GRID_SKUS = 12
KIOSK_DETAIL_ROWS = 8


def head(frame: pd.DataFrame, rows: int) -> tuple[pd.DataFrame, int]:
    """(the first `rows` rows, how many were left out)."""
    return frame.head(rows), max(len(frame) - rows, 0)


def grid_rows(columns: int) -> int:
    """How many rows of a styled grid with `columns` columns fit the cell budget."""
    return max(1, STYLED_CELLS // max(columns, 1))
