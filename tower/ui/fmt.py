"""Numbers, money, percentages, times and ages, formatted for English or Simplified Chinese.

Every function takes the value first and the language second, accepts None/NaN (shown as "—")
and never raises on odd input, so a page can format whatever a query returns."""
from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from tower.ui import i18n

MISSING = "—"
_SYMBOLS = {"USD": ("$", "US$"), "CNY": ("CN¥", "¥"), "EUR": ("€", "€"), "GBP": ("£", "£"),
            "JPY": ("JP¥", "日元"), "CAD": ("CA$", "加元"), "AUD": ("A$", "澳元")}


def _num(x) -> float | None:
    """A float, or None for missing/NaN/unparseable values (pandas NA, None, '', 'abc')."""
    if x is None or isinstance(x, bool):
        return None if x is None else float(x)
    try:
        v = float(x.item() if hasattr(x, "item") else x) if not isinstance(x, Decimal) else float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) or math.isinf(v) else v


def _compact(v: float, lang: str, digits: int) -> str:
    # Chinese groups by 10^4 (万) and 10^8 (亿), English by 10^3.
    steps = ((1e8, "亿"), (1e4, "万")) if lang == "zh" else ((1e9, "B"), (1e6, "M"), (1e3, "K"))
    for size, suffix in steps:
        if abs(v) >= size:
            return f"{v / size:,.{digits}f}".rstrip("0").rstrip(".") + suffix
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.{digits}f}"


def number(x, lang: str = "en", digits: int = 0, *, compact: bool = False, signed: bool = False) -> str:
    """12345.6 → '12,346' (both languages group by thousands in full form);
    compact: en '12.3K', zh '1.2万'. signed adds '+' to positive values (for deltas)."""
    v = _num(x)
    if v is None:
        return MISSING
    text = _compact(v, lang, max(digits, 1)) if compact else f"{v:,.{digits}f}"
    return ("+" + text) if signed and v > 0 else text


def pct(ratio, lang: str = "en", digits: int = 1, *, signed: bool = False) -> str:
    """A ratio (0.934) as a percentage ('93.4%'). signed: '+2.0%' for deltas."""
    v = _num(ratio)
    if v is None:
        return MISSING
    text = f"{v * 100:,.{digits}f}%"
    return ("+" + text) if signed and v > 0 else text


def pp(points, lang: str = "en", digits: int = 1) -> str:
    """A difference of two percentages, in percentage points: '+1.5 pp' / '+1.5 个百分点'."""
    v = _num(points)
    if v is None:
        return MISSING
    unit = " 个百分点" if lang == "zh" else " pp"
    return f"{'+' if v > 0 else ''}{v * 100:,.{digits}f}{unit}"


def money(x, lang: str = "en", currency: str = "USD", digits: int = 0, *, compact: bool = False) -> str:
    """1234.5 → '$1,235' (en) / 'US$1,235' (zh); unknown currencies get their ISO code."""
    v = _num(x)
    if v is None:
        return MISSING
    en_sym, zh_sym = _SYMBOLS.get((currency or "USD").upper(), (currency.upper() + " ", currency.upper() + " "))
    sym = zh_sym if lang == "zh" else en_sym
    body = _compact(abs(v), lang, max(digits, 1)) if compact else f"{abs(v):,.{digits}f}"
    return f"{'-' if v < 0 else ''}{sym}{body}"


def _zone(tz) -> ZoneInfo | timezone:
    if tz is None or tz == "UTC":
        return timezone.utc
    if not isinstance(tz, str):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def ts(dt, lang: str = "en", tz=None, *, date: bool = True, seconds: bool = False) -> str:
    """An instant in the viewer's zone (`tz`, an IANA name; UTC when unknown):
    en '2026-11-24 10:05 UTC', zh '2026年11月24日 10:05 UTC'. Naive datetimes are taken as UTC."""
    if dt is None or (isinstance(dt, datetime) and dt != dt):  # None or NaT (NaT != NaT)
        return MISSING
    if not isinstance(dt, datetime):
        try:  # pandas Timestamp, ISO string, numpy datetime64
            dt = pd.Timestamp(dt)
            if pd.isna(dt):
                return MISSING
            dt = dt.to_pydatetime()
        except (TypeError, ValueError):
            return MISSING
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    local = dt.astimezone(_zone(tz))
    zone = local.tzname() or "UTC"
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    if not date:
        return f"{clock} {zone}"
    if lang == "zh":
        return f"{local.year}年{local.month}月{local.day}日 {clock} {zone}"
    return f"{local:%Y-%m-%d} {clock} {zone}"


def duration(seconds, lang: str = "en") -> str:
    """A span in the largest sensible units: '45 s', '12 min', '3 h 20 min', '2 d 4 h' / zh '3 小时 20 分钟'."""
    v = _num(seconds)
    if v is None:
        return MISSING
    v = max(0.0, v)
    zh = lang == "zh"
    u = {"s": " 秒" if zh else " s", "min": " 分钟" if zh else " min",
         "h": " 小时" if zh else " h", "d": " 天" if zh else " d"}
    if v < 60:
        return f"{v:.0f}{u['s']}"
    if v < 3600:
        return f"{v // 60:.0f}{u['min']}"
    if v < 86400:
        h, m = divmod(int(v) // 60, 60)
        return f"{h}{u['h']}" + (f" {m}{u['min']}" if m else "")
    d, h = divmod(int(v) // 3600, 24)
    return f"{d}{u['d']}" + (f" {h}{u['h']}" if h else "")


def hours(h, lang: str = "en") -> str:
    """Hours (e.g. hours to stockout) as a duration: 5.5 → '5 h 30 min'."""
    v = _num(h)
    return MISSING if v is None else duration(v * 3600, lang)


def ago(seconds, lang: str = "en") -> str:
    """'45 s ago' / '45 秒前'; future or missing values are shown honestly, not as 'just now'."""
    v = _num(seconds)
    if v is None:
        return MISSING
    if v < 0:
        return ("时钟超前 " if lang == "zh" else "in ") + duration(-v, lang)
    return f"{duration(v, lang)}前" if lang == "zh" else f"{duration(v, lang)} ago"


def _coded(prefix: str, code, lang: str) -> str:
    """A code in plain words from the catalogue (`<prefix>.<code>`); unknown codes stay as they are."""
    if code is None or (isinstance(code, float) and math.isnan(code)) or str(code) == "":
        return MISSING
    key = f"{prefix}.{code}"
    text = i18n.t(key, lang)
    return str(code) if text == key else text


def tag(code, lang: str = "en") -> str:
    """A carrier tracking tag (AfterShip's nine) in plain words: 'InTransit' → 'In transit' / '运输中'."""
    return _coded("carrier.tag", code, lang)


def subtag(code, lang: str = "en") -> str:
    """A tracking subtag ('Exception_004') in plain words; an unknown one falls back to its tag's words."""
    text = _coded("carrier.subtag", code, lang)
    if text == str(code) and "_" in str(code):
        return tag(str(code).split("_", 1)[0], lang)
    return text


def mode(code, lang: str = "en") -> str:
    """A shipping mode ('express', 'sea', …) in the viewer's language."""
    return _coded("carrier.mode", code, lang)


def direction(code, lang: str = "en") -> str:
    """'inbound' / 'outbound' in the viewer's language."""
    return _coded("carrier.direction", code, lang)


def event(name, lang: str = "en") -> str:
    """An event's display name from the planning source: known events are translated
    (`event.name.<slug>` in events.toml, slug = lowercase words joined by '_'); others stay as named."""
    if name is None or str(name).strip() == "":
        return MISSING
    slug = re.sub(r"[^a-z0-9]+", "_", str(name).lower()).strip("_")
    text = _coded("event.name", slug, lang)
    if text != slug:
        return text
    # generated names ("Supplier VN-BAMBOO-01 silent"): `event.pattern.*` templates in events.toml
    for key, template in i18n.table()["en"].items():
        if key.startswith("event.pattern."):
            regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>.+?)", re.escape(template))
            match = re.fullmatch(regex, str(name).strip())
            if match:
                return i18n.t(key, lang, **match.groupdict())
    return str(name)


_UNIT_WORD = re.compile(r"(?<=[\d\s])(pts|pp|h|d|min|s|units)\b")


def units(text, lang: str = "en") -> str:
    """Unit abbreviations after a number in an already formatted value ('12.5 pts', '3.0 h') in
    the viewer's language (`unit.<abbr>` in units.toml): zh '12.5 个百分点', '3.0 小时'."""
    if lang == "en" or text is None:
        return MISSING if text is None else str(text)
    return _UNIT_WORD.sub(lambda m: i18n.t(f"unit.{m.group(1)}", lang), str(text))
