"""The retro's tables as a person reads them: translated column labels with their unit, numbers
formatted for the viewer's language, "—" for a missing value and a column tooltip saying what the
column means and why a cell can be "—". The page shows these frames and the HTML report gets the
very same frames, so the report never shows raw column names or unformatted floats."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pandas as pd
import streamlit as st

from tower.ui import fmt


@dataclass(frozen=True)
class Column:
    source: str              # column of the domain frame
    label: str               # i18n key of the header (with its unit)
    kind: str = "text"       # text | int | num1 | num2 | pct | money | money2 | ts | yes_no | a code (CODES)
    help: str | None = None  # i18n key: meaning, unit and why a cell can be "—"


def cell(value, kind: str, t: Callable[[str], str], lang: str, tz: str) -> str:
    """One value as text; missing values (None, NaN, NaT) are fmt.MISSING ("—")."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return fmt.MISSING
    if kind == "int":
        return fmt.number(value, lang)
    if kind == "num1":
        return fmt.number(value, lang, 1)
    if kind == "num2":
        return fmt.number(value, lang, 2)
    if kind == "pct":  # a value already in percent (0–100)
        return fmt.pct(float(value) / 100.0, lang)
    if kind == "money":
        return fmt.money(value, lang)
    if kind == "money2":
        return fmt.money(value, lang, digits=2)
    if kind == "ts":
        return fmt.ts(value, lang, tz)
    if kind == "yes_no":
        return t("retro.yes") if bool(value) else t("retro.no")
    if kind in CODES:  # codes (carrier tags, modes, severities) in the viewer's words
        return CODES[kind](str(value), lang, t)
    return str(value)


CODES: dict[str, Callable] = {
    "tag": lambda v, lang, t: fmt.tag(v, lang),
    "mode": lambda v, lang, t: fmt.mode(v, lang),
    "direction": lambda v, lang, t: fmt.direction(v, lang),
    "severity": lambda v, lang, t: t(f"alerts.sev_{v}"),
    "stock_status": lambda v, lang, t: t(f"retro.stock_{v}"),  # queries/retro/replay_stock.sql
}


def table(df: pd.DataFrame, columns: list[Column], t: Callable[[str], str], lang: str,
          tz: str = "UTC") -> tuple[pd.DataFrame, dict]:
    """(labelled, formatted frame; st.column_config with each column's tooltip)."""
    out, config = {}, {}
    for c in columns:
        label = t(c.label)
        values = df[c.source] if c.source in df.columns else pd.Series([None] * len(df), index=df.index)
        out[label] = [cell(v, c.kind, t, lang, tz) for v in values]
        config[label] = st.column_config.TextColumn(label, help=t(c.help) if c.help else None)
    return pd.DataFrame(out, columns=list(out)), config


def show(df: pd.DataFrame, columns: list[Column], t, lang: str, tz: str, *, key: str) -> pd.DataFrame:
    """Draw the formatted table and return it (for the report)."""
    shown, config = table(df, columns, t, lang, tz)
    st.dataframe(shown, hide_index=True, width="stretch", key=key, column_config=config)
    return shown


SCORECARD = [
    Column("link_id", "retro.col_link"),
    Column("name", "retro.col_name"),
    Column("n", "retro.col_judged", "int", "retro.help_judged"),
    Column("on_time_pct", "retro.col_on_time", "pct", "retro.help_on_time"),
    Column("delays", "retro.col_delays", "int", "retro.help_delays"),
    Column("exceptions", "retro.col_exceptions", "int", "retro.help_exceptions"),
    Column("stockout_hours", "retro.col_stockout_h", "num1", "retro.help_stockout_h"),
]

STOCKOUTS = [
    Column("sku", "retro.col_sku"),
    Column("warehouse_id", "retro.col_warehouse"),
    Column("out_from", "retro.col_out_from", "ts"),
    Column("out_to", "retro.col_out_to", "ts", "retro.help_out_to"),
    Column("hours", "retro.col_hours", "num1", "retro.help_hours"),
    Column("rate_per_hour", "retro.col_rate", "num2", "retro.help_rate"),
    Column("unit_price", "retro.col_price", "money2", "retro.help_price"),
    Column("lost_units", "retro.col_lost_units", "num1"),
    Column("lost_sales", "retro.col_lost_sales", "money"),
]

TOTALS = [
    Column("measure_label", "retro.col_measure"),
    Column("event_text", "retro.col_event"),
    Column("baseline_text", "retro.col_baseline"),
    Column("delta_text", "retro.col_delta"),
    Column("change_pct", "retro.col_change", "pct", "retro.help_change"),
]

ALERTS = [
    Column("alert_id", "retro.col_alert_id"),
    Column("severity", "retro.col_severity", "severity"),
    Column("title", "retro.col_title"),
    Column("opened_at", "retro.col_opened", "ts"),
    Column("acknowledged_at", "retro.col_acked", "ts", "retro.help_acked"),
    Column("acknowledged_by", "retro.col_acked_by", help="retro.help_acked"),
    Column("minutes_to_ack", "retro.col_min_ack", "int", "retro.help_acked"),
    Column("ack_on_time", "retro.col_ack_on_time", "yes_no", "retro.help_ack_on_time"),
    Column("resolved_at", "retro.col_resolved", "ts", "retro.help_resolved"),
    Column("minutes_to_resolve", "retro.col_min_resolve", "int", "retro.help_resolved"),
]

DISRUPTIONS = [
    Column("name", "retro.col_name"),
    Column("starts_at", "retro.col_starts", "ts"),
    Column("ends_at", "retro.col_ends", "ts", "retro.help_ends"),
    Column("source", "retro.col_source"),
]

NOTES = [
    Column("happened_at", "retro.col_when", "ts"),
    Column("author", "retro.note_author"),
    Column("text", "retro.note_text"),
]

REPLAY_STOCK = [
    Column("sku", "retro.col_sku"),
    Column("warehouse_id", "retro.col_warehouse"),
    Column("available", "retro.col_available", "int"),
    Column("status", "retro.col_status", "stock_status"),
    Column("observed_at", "retro.col_observed", "ts"),
]

REPLAY_TRANSIT = [
    Column("shipment_id", "retro.col_shipment"),
    Column("carrier", "retro.col_carrier"),
    Column("mode", "retro.col_mode", "mode"),
    Column("direction", "retro.col_direction", "direction"),
    Column("tag", "retro.col_status", "tag"),
    Column("past_eta", "retro.col_past_eta", "yes_no"),
]

ROI = [
    Column("item", "retro.col_item"),
    Column("amount", "retro.col_amount", "money"),
    Column("how", "retro.col_how"),
]
