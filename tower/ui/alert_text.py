"""Alert titles and details in the viewer's language.

The alert rules (queries/alerts/<rule>.sql) write one English `title` and `detail` per alert, which
also go out in notifications. The UI shows them through the catalogue instead: each rule's English
text has a fixed shape, so a pattern per rule reads its parts back (SKU, market, hours, …) and the
locale template `alerts.rule.<rule>.title` / `.detail` (tower/ui/locales/alert_text.toml) puts them
in a sentence. Codes among the parts (carrier tags, modes, node statuses) are translated too.
Text that matches no pattern (a rule changed its wording) is shown as the rule wrote it."""
from __future__ import annotations

import re
from typing import Callable

from tower.ui import fmt, i18n

_N = r"-?[\d.]+"
_TS = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"
# rule → (title pattern, detail pattern); the shapes of the strings built in queries/alerts/*.sql.
PATTERNS: dict[str, tuple[str, str]] = {
    "demand_surge": (
        rf"Demand surge: (?P<sku>\S+) in (?P<market>\S+) at (?P<pct>{_N}) % of forecast",
        rf"(?P<sold>{_N}) sold vs (?P<forecast>{_N}) forecast in the last (?P<hours>{_N}) h"),
    "hours_to_stockout": (
        rf"Stockout in (?P<hours>{_N}) h: (?P<sku>\S+) at (?P<warehouse>\S+)",
        rf"(?P<available>{_N}) available, selling (?P<rate>{_N})/h "
        rf"\((?P<sku_class>\w+) threshold (?P<hours>{_N}) h\)"),
    "node_congested": (
        r"(?P<kind>\w+) (?P<name>.+) is (?P<status>\w+)",
        rf"(?P<n>{_N}) inbound shipments in transit from (?P<country>\S+)"),
    "nps": (
        rf"NPS (?P<nps>{_N}) in (?P<market>\S+)",
        rf"(?P<n>{_N}) responses in the last (?P<hours>{_N}) h; target (?P<target>{_N})"),
    "on_time_rate": (
        rf"On-time delivery (?P<pct>{_N}) % in (?P<market>\S+)",
        rf"(?P<n>{_N}) orders delivered in the last (?P<hours>{_N}) h; target (?P<target>{_N}) %, "
        rf"red below (?P<red>{_N}) % \(at best (?P<bound>{_N}) % allowing for chance\)"),
    "return_rate": (
        rf"Return rate (?P<pct>{_N}) % in (?P<market>\S+)",
        rf"(?P<n>{_N}) orders delivered in the last (?P<hours>{_N}) h; target (?P<target>{_N}) %, "
        rf"red above (?P<red>{_N}) % \(at least (?P<bound>{_N}) % allowing for chance\)"),
    "parcel_lanes": (
        rf"(?P<n>{_N}) parcels in trouble (?P<carrier>\S+) → (?P<country>\S+)",
        rf"(?P<late>{_N}) past the promised delivery, (?P<exceptions>{_N}) in carrier exception, "
        rf"(?P<silent>{_N}) without a scan; e\.g\. (?P<examples>.*)"),
    "po_behind_plan": (
        rf"PO (?P<po>\S+) \((?P<supplier>[^)]+)\) (?P<points>{_N}) pts behind plan",
        rf"(?P<sku>\S+): produced (?P<produced>{_N})/(?P<ordered>{_N}) \((?P<pct>{_N}) %\) vs "
        rf"(?P<expected>{_N}) % expected; ships by (?P<date>\S+)"),
    "shipment_exception": (
        r"Carrier (?P<tag>\w+): (?P<tracking>\S+) \((?P<carrier>[^)]+)\)",
        r"(?P<subtag>\w+)(?:, PO (?P<po>\S+))?"),
    "shipment_past_eta": (
        rf"Late inbound shipment (?P<tracking>\S+) \((?P<carrier>[^)]+)\), (?P<hours>{_N}) h past ETA",
        rf"tag (?P<tag>\S+), ETA (?P<eta>{_TS})(?:, for (?P<po>\S+))?"),
    "shipment_silent": (
        rf"No tracking update for (?P<hours>{_N}) h: (?P<tracking>\S+) \((?P<carrier>[^)]+)\)",
        rf"(?P<mode>\S+) shipment, tag (?P<tag>\w+), last checkpoint (?P<at>{_TS})"),
    "source_stale": (
        rf"Source (?P<source>\S+) (?P<how>failing|stale): no fresh data for (?P<minutes>{_N}) min"
        rf"(?:, (?P<streak>{_N}) failed runs in a row)?",
        rf"latest run (?P<status>\S+), (?P<failures>{_N}) failures in a row "
        rf"\(red at (?P<red_failures>{_N}) or (?P<red_minutes>{_N}) min\)(?:; (?P<error>.*))?"),
    "stock_watermark": (
        r"Stock below (?P<level>limit|warning): (?P<sku>\S+) at (?P<warehouse>\S+)",
        rf"(?P<available>{_N}) available; warning (?P<warning>{_N}), limit (?P<limit>{_N})"),
    "supplier_silent": (
        rf"Supplier (?P<name>.+) silent for (?P<hours>{_N}) h",
        rf"(?P<tier>\S+) supplier, (?P<pos>{_N}) open POs \((?P<units>{_N}) units\), "
        rf"last report (?P<at>{_TS})(?:, usually every (?P<every>{_N}) h)?"),
    "vessel_eta_past_stockout": (  # texts in tower/ui/locales/ocean.toml
        r"Vessel ETA past stockout: (?P<container>\S+) \((?P<vessel>[^)]+)\) for (?P<sku>\S+) at (?P<warehouse>\S+)",
        rf"arrives (?P<port>\S+) (?P<eta>{_TS}), slipped (?P<slip>{_N}) h; stock runs out (?P<stockout>{_TS}) "
        rf"\((?P<available>{_N}) available\), (?P<short>{_N}) h short with (?P<margin>{_N}) h handling"),
}


def _word(value: str, lang: str) -> str:
    """A code word inside an alert (port, congested, core, primary, failed) from `alerts.word.*`."""
    key = f"alerts.word.{value}"
    text = i18n.t(key, lang)
    return value if text == key else text


# Parts that are codes get plain words; the rest (ids, numbers, names) stay as written.
_CODES: dict[str, Callable[[str, str], str]] = {
    "tag": fmt.tag, "subtag": fmt.subtag, "mode": fmt.mode, "kind": _word, "status": _word,
    "level": _word, "how": _word, "tier": _word, "sku_class": _word,
}


def _render(rule: str, part: str, text, lang: str) -> str:
    if text is None or (isinstance(text, float) and text != text):
        return ""
    text = str(text)
    pattern = PATTERNS.get(rule, (None, None))[0 if part == "title" else 1]
    match = re.fullmatch(pattern, text.strip()) if pattern else None
    key = f"alerts.rule.{rule}.{part}"
    template = i18n.t(key, lang)
    if match is None or template == key:
        return text
    fields = {k: ("" if v is None else _CODES.get(k, lambda s, _l: s)(v, lang))
              for k, v in match.groupdict().items()}
    for name, value in fields.items():  # optional tails (", for PO-7") have their own template
        tail = f"{key.rsplit('.', 1)[0]}.{name}"
        if value and i18n.t(tail, lang) != tail:
            fields[name] = i18n.t(tail, lang, value=value)
    return i18n.t(key, lang, **fields)


def title(rule, text, lang: str = "en") -> str:
    """The alert's title in `lang`, from the rule's English title; unchanged if it has an unknown shape."""
    return _render(str(rule), "title", text, lang)


def detail(rule, text, lang: str = "en") -> str:
    """The alert's detail line in `lang`, from the rule's English detail."""
    return _render(str(rule), "detail", text, lang)
