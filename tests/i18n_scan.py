"""What a user reads on a page, collected from an AppTest, and the English left in it.

`visible_texts(at)` gathers every text element's value (titles, markdown, captions, metric labels
and values, alerts, widget labels and options, tab and expander labels, dataframe column labels and
text cells, plotly titles / axis titles / legend names / category labels). `english_words(text,
allow)` returns the ASCII words of three or more letters that are not codes, identifiers, URLs or
allowed proper nouns: in zh mode that list must be empty. (No tests in this module.)"""
from __future__ import annotations

import json
import re

import pandas as pd

from tower.ui import i18n

# Proper nouns, product and vendor names, codes and units that stay as they are in Chinese.
ALLOWED = {
    "sku", "nps", "csat", "otif", "eta", "csv", "sql", "duckdb", "utc", "usd", "cny", "eur", "gbp",
    "jpy", "cad", "aud", "tower", "aftership", "shopify", "feishu", "slack", "carto", "kpi", "kpis",
    "api", "http", "https", "json", "toml", "pdf", "png", "xlsx", "html", "url", "ups", "dhl",
    "fedex", "usps", "maersk", "cosco", "msc", "yunexpress", "cainiao", "sfexpress", "tiktok",
    "amazon", "web", "rma", "ddp", "iso", "gmt", "id", "markdown", "streamlit", "python",
    "parquet", "jupyter",  # file format / tool names
    "english",  # the language switch names each language in itself (English / 中文)
    # DuckDB column types, listed by the SQL console's schema browser (code to type, not prose)
    "varchar", "timestamp", "with", "time", "zone", "decimal", "bigint", "integer", "double",
    "boolean", "date", "hugeint", "smallint", "float", "json", "interval", "blob", "ubigint",
}
_URL = re.compile(r"(https?://|www\.)\S+|\S+@\S+\.\w+|\S*/\S+\.(md|sql|toml|csv|py|json|duckdb)\b")
# A token: a run of letters, digits and identifier punctuation. Tokens with a digit, underscore,
# hyphen, @, colon or dot inside are identifiers (GL-BOWL-01, supplier_portal, ups:US) → not words.
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-@:.]*[A-Za-z0-9]|[A-Za-z]")


_MARKUP = re.compile(r"<style>.*?</style>|<script>.*?</script>|<[^>]+>|&\w+;|`[^`]*`", re.DOTALL)


def english_words(text: str, allow: set[str] = frozenset()) -> list[str]:
    """English words left in `text`. HTML/CSS markup, `inline code` and URLs are not prose."""
    found = []
    for token in _TOKEN.findall(_URL.sub(" ", _MARKUP.sub(" ", str(text)))):
        token = token.strip(".:")
        if re.search(r"[0-9_\-@:.]", token) or len(token) < 3 or not token.isascii():
            continue
        if token.isupper() and len(token) <= 5:  # ISO codes and acronyms: US, DE, SKU, OTIF
            continue
        low = token.lower()
        if low in ALLOWED or low in allow:
            continue
        found.append(token)
    return found


def _plotly_texts(spec: dict) -> list[str]:
    out: list[str] = []
    layout = spec.get("layout", {})

    def title_of(node) -> None:
        t = node.get("title") if isinstance(node, dict) else None
        if isinstance(t, dict):
            t = t.get("text")
        if t:
            out.append(str(t))

    title_of(layout)
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
            title_of(axis)
            out.extend(str(v) for v in axis.get("ticktext", []) or [])
    legend = layout.get("legend", {})
    title_of(legend)
    for trace in spec.get("data", []):
        if trace.get("showlegend", True) is not False and trace.get("name"):
            out.append(str(trace["name"]))
        for axis in ("x", "y"):  # category labels (bar charts of statuses, SKUs)
            values = trace.get(axis)
            if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
                out.extend(values)
        ht = trace.get("hovertemplate")
        if ht:
            out.append(re.sub(r"%\{[^}]*\}|<[^>]+>", " ", str(ht)))
    for ann in layout.get("annotations", []) or []:
        if ann.get("text"):
            out.append(re.sub(r"<[^>]+>", " ", str(ann["text"])))
    return out


def _frame_texts(df: pd.DataFrame, config: str = "", order=()) -> list[str]:
    """Column headers (the column_config label where one is set) and the text cells."""
    try:
        labels = {k: v.get("label") for k, v in json.loads(config or "{}").items() if isinstance(v, dict)}
    except ValueError:
        labels = {}
    shown = list(order) or list(df.columns)  # column_order hides helper columns
    df = df[[c for c in df.columns if c in shown or str(c) in shown]]
    out = [str(labels.get(f"name:{c}") or labels.get(str(c)) or c) for c in df.columns]
    for col in df.columns:
        series = df[col]
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            out.extend(str(v) for v in series.dropna().unique()[:200] if isinstance(v, str))
    return out


def visible_texts(at) -> list[tuple[str, str]]:
    """(element kind, text) for everything a user reads on the rendered page."""
    out: list[tuple[str, str]] = []

    def add(kind, *texts):
        out.extend((kind, str(t)) for t in texts if t not in (None, ""))

    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error",
                 "success", "text"):  # st.code is code, not prose
        for el in at.get(kind):
            add(kind, getattr(el, "value", None))
    for el in at.get("metric"):
        add("metric", el.label, el.value, getattr(el, "delta", None))
        add("metric.help", getattr(el.proto, "help", None))
    for kind in ("button", "checkbox", "toggle", "text_input", "text_area", "number_input",
                 "date_input", "time_input", "color_picker", "download_button", "page_link"):
        for el in at.get(kind):
            label = getattr(el, "label", None) or getattr(getattr(el, "proto", None), "label", None)
            add(kind, label)
            add(kind + ".help", getattr(getattr(el, "proto", None), "help", None))
    for kind in ("radio", "selectbox", "multiselect", "select_slider", "button_group"):
        for el in at.get(kind):
            add(kind, getattr(el, "label", None))
            options = getattr(el, "options", None) or list(getattr(el.proto, "options", []))
            add(kind + ".option", *options)
            add(kind + ".help", getattr(el.proto, "help", None))
    for el in at.get("slider"):
        add("slider", el.label)
    for kind in ("tab", "expander"):
        for el in at.get(kind):
            add(kind, getattr(el, "label", None))
    for el in at.get("dataframe") + at.get("table"):
        value = el.value
        if isinstance(value, pd.DataFrame):
            add("dataframe", *_frame_texts(value, getattr(el.proto, "columns", ""),
                                           getattr(el.proto, "column_order", ())))
    for el in at.get("plotly_chart"):
        try:
            spec = json.loads(el.proto.spec)
        except (AttributeError, ValueError):
            continue
        add("plotly", *_plotly_texts(spec))
    return out


def missing_keys(text: str) -> list[str]:
    """Catalogue keys shown as text: i18n.t falls back to the key itself when no language has it."""
    namespaces = {key.split(".")[0] for key in i18n.table()["en"]}
    return [k for k in re.findall(r"(?<![A-Za-z_.])[a-z_]+(?:\.[A-Za-z0-9_]+)+", _URL.sub(" ", str(text)))
            if k.split(".")[0] in namespaces and not k.endswith((".md", ".sql", ".py", ".toml", ".csv"))]


def untranslated(at, allow: set[str], documents: list[str] = ()) -> list[tuple[str, str, list[str]]]:
    """(kind, text, english words) for every visible text with English left in it. `documents` are
    exact passages of English reference documents (playbooks, SQL headers) taken out first."""
    bad = []
    for kind, text in visible_texts(at):
        for doc in documents:
            if doc and doc in text:
                text = text.replace(doc, " ")
        words = english_words(text, allow) + missing_keys(text)
        if words:
            bad.append((kind, text[:160], words))
    return bad
