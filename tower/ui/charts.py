"""One Plotly look for every Tower chart.

`charts.apply(fig, ctx)` styles a figure in place (and returns it): a clean light theme normally, a
dark high-contrast theme with larger type in kiosk (wall-screen) mode. `charts.show(fig, ctx)` applies
it and draws the figure with Streamlit's own theme switched off, so ours is what you see.
`charts.draw(build, data, ctx)` does the same for a chart every wall screen refreshes: the figure is
built once per (data, look) and shared by every screen showing it.
Colours are named for what they mean (RAG status, actual vs forecast) so pages agree."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from tower.ui import i18n

# Red/amber/green readable on both light and dark backgrounds (and distinct in greyscale).
RAG = {"green": "#1a9850", "yellow": "#f2a900", "red": "#e03131", "grey": "#8c96a3"}
ACTUAL = "#2f80ed"
FORECAST = "#8c96a3"
SURGE = "#e03131"
# Okabe–Ito: colour-blind-safe qualitative palette for categories (carriers, markets, tiers…).
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"]

LIGHT = {"paper": "#ffffff", "plot": "#ffffff", "font": "#1b1f24", "grid": "#e3e7ec", "size": 14}
KIOSK = {"paper": "#05080d", "plot": "#05080d", "font": "#f5f7fa", "grid": "#2b3440", "size": 22}


def rag_color(status: str | None) -> str:
    """'red' / 'yellow' / 'amber' / 'green' → the shared colour; anything else → grey."""
    status = (status or "").lower()
    return RAG.get("yellow" if status == "amber" else status, RAG["grey"])


def _is_kiosk(ctx) -> bool:
    return bool(getattr(ctx, "kiosk", ctx if isinstance(ctx, bool) else False))


def apply(fig: go.Figure, ctx=None) -> go.Figure:
    """Style `fig` for the current screen (`ctx` is the page context, or a bool meaning kiosk).
    With ?scale=2 (a 3840×2160 wall) type and the figure's height grow by that factor. What a page
    set on the figure itself (a legend's place, a title) keeps its own value: the look is a template."""
    kiosk = _is_kiosk(ctx)
    scale = float(getattr(ctx, "scale", 1.0) or 1.0)
    size = round((KIOSK if kiosk else LIGHT)["size"] * scale)
    if scale != 1.0 and fig.layout.height:
        fig.layout.height = round(fig.layout.height * scale)
    _set_template(fig, _template(kiosk, size))
    fig.layout.margin = dict(l=10, r=10, t=50 if fig.layout.title.text else 20, b=10)
    if getattr(ctx, "lang", "en") == "zh" and _has_time_axis(fig):
        fig.update_xaxes(tickformatstops=ZH_DATE_TICKS)  # Plotly's own date ticks are English
    return fig


def _set_template(fig: go.Figure, template: go.layout.Template) -> None:
    """Put an already validated template on `fig` without validating it again, as Plotly does with
    its own default template (`BaseFigure._initialize_layout_template`): validating a full template
    took 16-30 ms per chart, for every chart of every screen on every refresh, and the figure's JSON
    is the same either way (tests/test_frame.py)."""
    fig.layout._validate = False
    try:
        fig.layout.template = template
    finally:
        fig.layout._validate = fig._validate


@lru_cache(maxsize=16)
def _template(kiosk: bool, size: int) -> go.layout.Template:
    """Plotly's white or dark template with Tower's colours and type, built once per look: setting
    each property on every figure cost ~20 ms of validation per chart, on every screen refresh."""
    k = KIOSK if kiosk else LIGHT
    axis = dict(gridcolor=k["grid"], zerolinecolor=k["grid"], linecolor=k["grid"],
                tickfont=dict(size=size - 2, color=k["font"]),
                title=dict(font=dict(size=size, color=k["font"])))
    template = go.layout.Template(pio.templates["plotly_dark" if kiosk else "plotly_white"])
    template.layout.update(
        paper_bgcolor=k["paper"], plot_bgcolor=k["plot"],
        font=dict(size=size, color=k["font"],
                  family="Inter, 'Noto Sans CJK SC', 'Microsoft YaHei', 'PingFang SC', sans-serif"),
        colorway=PALETTE,
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0,
                    font=dict(size=size - 2, color=k["font"]), bgcolor="rgba(0,0,0,0)"),
        hoverlabel=dict(font_size=size - 2),
        title=dict(font=dict(size=size + 4, color=k["font"])),
        xaxis=axis, yaxis=axis,
    )
    return template


# Chinese date ticks by zoom level (dtick in ms): within a day "09:00 / 12月4日", then days, months.
ZH_DATE_TICKS = [
    dict(dtickrange=[None, 86_400_000], value="%H:%M\n%m月%d日"),
    dict(dtickrange=[86_400_000, "M1"], value="%m月%d日"),
    dict(dtickrange=["M1", None], value="%Y年%m月"),
]


def _has_time_axis(fig: go.Figure) -> bool:
    """True when the x axis carries instants (a date axis, or datetimes as x values)."""
    if fig.layout.xaxis.type == "date":
        return True
    for trace in fig.data:
        x = getattr(trace, "x", None)
        if x is None or not len(x):
            continue
        if getattr(getattr(x, "dtype", None), "kind", "") == "M" or isinstance(x[0], (datetime, np.datetime64)):
            return True
    return False


def show(fig: go.Figure, ctx=None, **kwargs) -> None:
    """Apply the theme and draw the figure full-width (Streamlit's theme off so ours shows)."""
    apply(fig, ctx)
    kwargs.setdefault("config", _config(_is_kiosk(ctx)))
    st.plotly_chart(fig, theme=None, width="stretch", **kwargs)


def _config(kiosk: bool) -> dict:
    """Plotly's toolbar: none on a wall screen (nobody clicks it), no Plotly logo anywhere."""
    return {"displaylogo": False, "displayModeBar": not kiosk}


@dataclass(frozen=True)
class Look:
    """Everything a shared chart may depend on besides its data: what a builder passed to `draw`
    gets instead of the page context, so that nothing else (the clock, the filters) can slip into a
    figure that other screens reuse. Has the context's `t`, `lang`, `tz`, `kiosk` and `scale`."""
    lang: str = i18n.DEFAULT_LANG
    tz: str = "UTC"
    kiosk: bool = False
    scale: float = 1.0

    def t(self, key: str, **fmt_args) -> str:
        return i18n.t(key, self.lang, **fmt_args)


def look(ctx) -> Look:
    return Look(ctx.lang, ctx.tz, bool(ctx.kiosk), float(ctx.scale or 1.0))


def draw(build: Callable[[pd.DataFrame, Look], go.Figure], data: pd.DataFrame, ctx, *, key: str) -> None:
    """`show(build(data, look(ctx)), ctx)` for a chart every wall screen redraws on each refresh,
    built once per (builder, data values, look) and shared by all of them: building, styling and
    validating a Plotly figure took about half of the overview's interpreter time per refresh, the
    same figure on every screen (bench/README.md, "Soak"). `build` must depend on nothing else."""
    shown = look(ctx)
    fig = _shared(f"{build.__module__}.{build.__qualname__}", fingerprint(data), shown, i18n.version(), data, build)
    st.plotly_chart(fig, theme=None, width="stretch", key=key, config=_config(shown.kiosk))


def fingerprint(data: pd.DataFrame) -> str:
    """A digest of `data`'s values, index, column names and types, for the shared figure's key:
    Streamlit's own hashing of a DataFrame argument took ~3.5 ms for the overview's 48-row sales
    frame, ~10x this, on every screen at every refresh (bench/README.md, "Soak")."""
    try:
        values = pd.util.hash_pandas_object(data, index=True)
    except TypeError:  # unhashable cells (lists, dicts): their text, slower but exact (not a pickle,
        values = pd.util.hash_pandas_object(data.map(repr), index=True)  # which varies with identity)
    digest = hashlib.blake2b(values.to_numpy().tobytes(), digest_size=16)
    digest.update(repr([(str(c), str(t)) for c, t in data.dtypes.items()]).encode())
    return digest.hexdigest()


class Finished(go.Figure):
    """A shared figure, complete: st.plotly_chart calls to_dict() at every draw, a deep copy of every
    trace, the layout and the theme (~2-3 ms for the overview's sales chart, on every screen at every
    refresh); this one makes it once. Nothing changes a shared figure once it is built (see _shared),
    so the dict made the first time stays true; Streamlit only reads it (plotly.io.to_json)."""
    _spec: dict | None = None

    def to_dict(self) -> dict:
        if self._spec is None:
            self._spec = super().to_dict()
        return self._spec


def finish(fig: go.Figure) -> Finished:
    """`fig` itself, made a Finished: copying a figure validates it all again (13.5 ms for the sales
    chart, more than building it)."""
    fig.__class__ = Finished
    return fig


# Keyed on the data's fingerprint, not the frame itself (see fingerprint). Streamlit holds a per-key
# lock while the first screen builds, so screens asking together build once. The figure is shared,
# not copied: nothing after `apply` changes it (st.plotly_chart serialises a copy). `words`: the
# locale files read (an edited one gives new figures).
@st.cache_resource(max_entries=64, show_spinner=False)
def _shared(name: str, data_key: str, shown: Look, words: tuple, _data: pd.DataFrame, _build) -> go.Figure:
    return finish(apply(_build(_data, shown), shown))
