"""Labels and callbacks for widgets that hold nothing of the page that drew them.

Streamlit keeps a keyed widget's format_func and callbacks in the session's state for as long as
the session lives, also after the viewer has moved on to another page. A lambda written in a page
script keeps that script's whole namespace alive with it: every frame the page read. At the
reference scale the Stock page's grid alone is 22 MB, and every wall screen whose rotation passed
the Stock page kept its own copy of the page (issue 15; bench/README.md, "Server memory"). So
pages hand widgets labels computed at once, in a plain dict, and callbacks defined here."""
from __future__ import annotations

from typing import Callable, Hashable, Iterable

import streamlit as st


def labels(options: Iterable[Hashable], text: Callable[[Hashable], str], *,
           none: str | None = None) -> Callable[[Hashable], str]:
    """A widget's format_func: `text(option)` for each option, computed now and kept as a dict
    (`text` itself is not kept, nor anything it refers to); `none` labels the option None (a
    filter's "all")."""
    return {option: none if option is None and none is not None else text(option) for option in options}.__getitem__


def copy_choice(source_key: str, target_key: str, transform: Callable[[str], str]) -> None:
    """An on_click callback: when the widget at `source_key` holds a choice, put
    `transform(choice)` in the widget at `target_key` (callbacks run before widgets are drawn,
    so the target may still be set)."""
    choice = st.session_state.get(source_key)
    if choice:
        st.session_state[target_key] = transform(choice)
