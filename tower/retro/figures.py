"""Retro figures (plotly only: the page and the HTML report draw the same ones): the event and its
baseline on an event-relative hour axis, and the alert / annotation / disruption timeline."""
from __future__ import annotations

import html
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go

from tower.clock import utc
from tower.retro.windows import Window

NOTE_COLOUR = "#6f42c1"
DISRUPTION_FILL = "rgba(224, 49, 49, 0.12)"
EVENT_COLOUR = "#2f80ed"
BASELINE_COLOUR = "#8c96a3"
SEVERITY_COLOUR = {"red": "#e03131", "yellow": "#f2a900"}


def _mark(fig, notes: list[tuple[object, str]], spans: list[tuple[object, object, str]],
          y_top: float | str | None, notes_label: str) -> None:
    """Annotations as vertical lines plus hoverable markers; disruptions as shaded spans."""
    for x0, x1, name in spans:
        fig.add_shape(type="rect", xref="x", yref="paper", x0=x0, x1=x1, y0=0, y1=1,
                      fillcolor=DISRUPTION_FILL, line_width=0, layer="below")
        fig.add_annotation(x=x0, xref="x", yref="paper", y=1, text=html.escape(name)[:60],
                           showarrow=False, xanchor="left", yanchor="bottom",
                           font={"size": 11, "color": "#e03131"})
    if not notes:
        return
    for x, _ in notes:
        fig.add_shape(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1,
                      line={"color": NOTE_COLOUR, "width": 1, "dash": "dot"})
    fig.add_scatter(x=[x for x, _ in notes], y=[y_top] * len(notes), mode="markers",
                    name=notes_label, marker={"symbol": "triangle-down", "size": 13, "color": NOTE_COLOUR},
                    text=[html.escape(text)[:200] for _, text in notes],
                    hovertemplate="%{text}<extra></extra>")


def relative_figure(event: pd.DataFrame, base: pd.DataFrame | None, metric: str, *,
                    event_label: str, base_label: str, y_title: str, x_title: str,
                    notes: list[tuple[float, str]] = (), spans: list[tuple[float, float, str]] = (),
                    notes_label: str = "Notes"):
    """The event and its baseline (or another event) on one event-relative hour axis."""
    fig = go.Figure()
    shape = "hv" if metric != "on_time_rate" else "linear"
    if base is not None and len(base):
        fig.add_scatter(x=base["hour_offset"], y=base[metric], name=base_label, mode="lines",
                        line={"color": BASELINE_COLOUR, "dash": "dash", "shape": shape}, connectgaps=False)
    fig.add_scatter(x=event["hour_offset"], y=event[metric], name=event_label, mode="lines+markers",
                    line={"color": EVENT_COLOUR, "width": 3, "shape": shape}, marker={"size": 5})
    values = pd.concat([event[metric], base[metric] if base is not None and len(base) else event[metric]])
    top = float(values.max()) if values.notna().any() else 1.0
    _mark(fig, list(notes), list(spans), top * 1.05 if top > 0 else 1.0, notes_label)
    fig.add_vline(x=0, line={"color": "#1b1f24", "width": 1})
    fig.update_layout(height=380, xaxis_title=x_title, yaxis_title=y_title, hovermode="x unified")
    return fig


def timeline_figure(alerts: pd.DataFrame | None, notes: pd.DataFrame, spans: pd.DataFrame,
                    window: Window, now: datetime, *, notes_label: str, x_title: str = "",
                    severity_label=str):
    """Alerts as bars from opened to resolved (or to now while unresolved) coloured by severity,
    annotations as markers and disruptions as shaded spans, on one time axis. None when there is
    nothing to draw."""
    has_alerts = alerts is not None and len(alerts) > 0
    if not has_alerts and notes.empty and spans.empty:
        return None
    fig = go.Figure()
    end_cap = min(window.end, utc(now))
    if has_alerts:
        for severity, group in alerts.groupby(alerts["severity"].fillna("yellow")):
            opened = pd.to_datetime(group["opened_at"], utc=True)
            closed = pd.to_datetime(group["resolved_at"], utc=True).fillna(pd.Timestamp(end_cap))
            duration_ms = ((closed - opened).dt.total_seconds().clip(lower=60) * 1000).tolist()
            label = (group["title"].fillna(group["rule"]).astype(str).str.slice(0, 48)
                     + " #" + group["alert_id"].astype(str))
            fig.add_bar(base=opened.tolist(), x=duration_ms, y=label.tolist(), orientation="h",
                        name=severity_label(severity), marker_color=SEVERITY_COLOUR.get(severity, "#8c96a3"),
                        hovertemplate="%{y}<extra></extra>")
        fig.update_xaxes(type="date")
    notes_xy = [(pd.Timestamp(r.happened_at).to_pydatetime(), f"{r.author}: {r.text}")
                for r in notes.itertuples(index=False)]
    span_xy = [(pd.Timestamp(r.starts_at).to_pydatetime(),
                pd.Timestamp(r.ends_at if pd.notna(r.ends_at) else end_cap).to_pydatetime(), str(r.name))
               for r in spans.itertuples(index=False)]
    _mark(fig, notes_xy, span_xy, notes_label if has_alerts else 0, notes_label)
    if not has_alerts and not notes_xy:  # only disruptions: an invisible point gives the axis its range
        fig.add_scatter(x=[window.start, window.end], y=[0, 0], mode="markers", marker_opacity=0,
                        showlegend=False, hoverinfo="skip")
    fig.update_layout(height=max(260, 34 * (len(alerts) if has_alerts else 0) + 160),
                      xaxis_title=x_title, barmode="overlay", xaxis={"type": "date"})
    fig.update_yaxes(autorange="reversed", showticklabels=has_alerts)
    return fig
