"""KPI tiles: a KPI of the semantic layer as a metric with its change, n and red/yellow/green.
Every page that shows a KPI headline draws it here, so a number looks the same on every screen."""
from __future__ import annotations

import streamlit as st

from tower.ui import fmt


def tile_value(tile, lang: str = "en") -> str:
    return fmt.units(tile.kpi.format_value(tile.value), lang) if tile.value is not None else fmt.MISSING


def tile_delta(tile, lang: str) -> str | None:
    """The change since the previous window as shown, or None when there is none to show: a change
    that rounds to zero would otherwise get an arrow (and a colour) for nothing."""
    if tile.delta is None:
        return None
    if tile.kpi.unit == "pct":  # a change of a percentage is in percentage points
        text = fmt.pp(tile.delta / 100, lang)
    else:
        sign = "+" if tile.delta > 0 else "-" if tile.delta < 0 else ""
        text = sign + fmt.units(tile.kpi.format_value(abs(tile.delta)), lang).lstrip("+")  # scores have a sign
    return text if any(c in "123456789" for c in text) else None


def draw_tile(tile, ctx) -> None:
    help_text = tile.kpi.meaning(ctx.lang)
    if tile.error:
        help_text = f"{ctx.t('overview.tile_error')}: {tile.error}"
    elif tile.target:
        help_text += "\n\n" + ctx.t("overview.tile_target", green=tile.target.green, yellow=tile.target.yellow)
    with st.container(border=True, key=f"rag-{tile.status or 'grey'}-{tile.name}"):
        st.metric(tile.kpi.title(ctx.lang), tile_value(tile, ctx.lang), tile_delta(tile, ctx.lang),
                  delta_color="normal" if tile.kpi.better == "higher" else "inverse", help=help_text)
        if tile.value is not None and tile.target and tile.target.min_n:
            # a rate is only as good as its sample: say how many it stands on
            n = fmt.number(tile.n, ctx.lang)
            st.caption(ctx.t("overview.tile_too_few", n=n, min_n=tile.target.min_n)
                       if tile.n < tile.target.min_n else ctx.t("overview.tile_n", n=n))


def draw_grid(cells, per_row: int = 5) -> None:
    """Draw callables in rows of `per_row` columns."""
    for i in range(0, len(cells), per_row):
        for col, cell in zip(st.columns(per_row), cells[i:i + per_row]):
            with col:
                cell()
