"""Every figure the digital twin shows, explained in the viewer's language (the What-if page and
the glossary page both draw this list; the texts live in tower/ui/locales/what_if.toml)."""
from __future__ import annotations

from collections.abc import Callable

import streamlit as st

# in the order the What-if page shows them
TERMS = ("p_stockout", "stockout_hours", "lost_units", "lost_sales", "extra_cost", "on_time", "net_benefit",
         "winner", "fan", "decision", "backtest")


def entries(t: Callable[..., str], search: str = "") -> list[tuple[str, str]]:
    """(term, meaning) per twin figure; with `search`, only those whose words contain it."""
    items = [(t(f"what_if.g.{k}"), t(f"what_if.gd.{k}")) for k in TERMS]
    search = search.strip().lower()
    return [i for i in items if not search or search in f"{i[0]} {i[1]}".lower()]


def draw(t: Callable[..., str], search: str = "") -> int:
    """The entries as a definition list; returns how many were drawn."""
    items = entries(t, search)
    if items:
        st.markdown("\n".join(f"- **{term}**: {meaning}" for term, meaning in items))
    return len(items)
