"""A map that stays light with hundreds of thousands of parcels in transit.

Beyond `MAX_POINTS` parcels the map would ship every parcel to the browser as a point and an arc
(at the reference scale that took minutes per render). The query (queries/pages/map_shipments.sql,
given `max_points`) does the merging where the rows are: the parcels that need a person —
exceptions and delayed, worst first — stay individual (up to half the budget), and the rest merge
into grid cells, one point per cell at its parcels' mean position, the grid coarsened until the
cells fit the budget; its headline counts cover every parcel, merged or not. This module reads its
answer: the counts, the cells labelled with their count in the viewer's language, the parcels.

Merged parcels draw no arcs of their own; the lanes view (one arc per warehouse → city) shows where
they go."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tower.ui import fmt, i18n

MAX_POINTS = 2000          # points sent to the browser at most
CELL_PREFIX = "cell:"      # shipment_id of a cell row: not a parcel, nothing to pick


@dataclass(frozen=True)
class Totals:
    """Counts over every parcel on the map, merged into cells or not."""
    in_transit: int = 0
    delayed: int = 0
    exceptions: int = 0
    attention: int = 0     # delayed or in exception (the attention list's full length)
    merged: int = 0        # parcels drawn inside cells, not one by one


def totals(drawn: pd.DataFrame) -> Totals:
    """The query's counts (repeated on each of its rows); zero when nothing is on the map."""
    if drawn is None or drawn.empty or "total_in_transit" not in drawn:
        return Totals()
    first = drawn.iloc[0]
    return Totals(int(first["total_in_transit"]), int(first["total_delayed"]), int(first["total_exceptions"]),
                  int(first["total_attention"]), int(first["merged"]))


def labelled(drawn: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """`drawn` with each cell labelled by its count ('120 parcels on track here', or how many of them
    are late when some are) and no carrier, so its dot and tooltip read like a parcel's; parcel rows
    unchanged."""
    if drawn is None or drawn.empty or "kind" not in drawn:
        return drawn
    is_cell = drawn["kind"] == "cell"
    if not is_cell.any():
        return drawn
    out = drawn.copy()
    out.loc[is_cell, "carrier"] = None
    cells = out.loc[is_cell]
    out.loc[is_cell, "tracking_number"] = [
        i18n.t("map.cell_label_late", lang, n=int(n), late=int(late)) if late
        else i18n.t("map.cell_label", lang, n=int(n))
        for n, late in zip(cells["parcels"], cells["late_parcels"].fillna(0))]
    return out


def merged_note(counts: Totals, shown_late: int, lang: str = "en") -> str:
    """What the caption under the map says about the cells: how many parcels they hold and, when
    late ones had to be merged too, how many of those and how many late ones are drawn one by one."""
    merged_late = counts.attention - shown_late
    if merged_late > 0:
        return i18n.t("map.merged_note_late", lang, n=fmt.number(counts.merged, lang),
                      late=fmt.number(merged_late, lang), shown=fmt.number(shown_late, lang))
    return i18n.t("map.merged_note", lang, n=fmt.number(counts.merged, lang))


def parcels(drawn: pd.DataFrame) -> pd.DataFrame:
    """The rows that are one shipment each (what the picker and the attention list may show)."""
    if drawn is None or drawn.empty or "kind" not in drawn:
        return drawn
    return drawn[drawn["kind"] == "parcel"]


def words(values: pd.Series, word, lang: str) -> list[str]:
    """`word(code, lang)` for each value, each distinct code translated once: a per-row catalogue
    lookup over thousands of rows cost seconds per render."""
    memo: dict = {}
    out = []
    for v in values:
        key = None if v is None or (isinstance(v, float) and pd.isna(v)) else v
        if key not in memo:
            memo[key] = word(key, lang)
        out.append(memo[key])
    return out
