"""Translations: every `tower/ui/locales/*.toml` file holds `[en]` and `[zh]` tables of
`key = "text"`. Each page author owns one file, so keys are namespaced by page (`overview.title`).

`t("frame.updated_ago", "zh", ago="5 秒")` looks the key up in the language, falls back to English,
then to the key itself (a missing translation shows up visibly instead of crashing)."""
from __future__ import annotations

import logging
import time
import tomllib
from pathlib import Path

LOCALES = Path(__file__).resolve().parent / "locales"
LANGS = ("en", "zh")
DEFAULT_LANG = "en"
log = logging.getLogger(__name__)

RECHECK_S = 1.0  # how often the locale files are looked at for edits (a glob + a stat per file)
_cache: dict[str, object] = {"stamp": None, "table": {}, "checked": None}


def _stamp() -> tuple:
    """Names and mtimes of the locale files: a new or edited file reloads the table."""
    return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in LOCALES.glob("*.toml")))


def _load() -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {lang: {} for lang in LANGS}
    for path in sorted(LOCALES.glob("*.toml")):
        try:
            with path.open("rb") as f:
                data = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as e:
            # One broken locale file must not take the whole UI down: skip it, say so in the log.
            log.error("skipping locale file %s: %s", path.name, e)
            continue
        for lang in LANGS:
            for key, text in _flatten(data.get(lang, {})).items():
                if key in table[lang] and table[lang][key] != text:
                    log.warning("locale key %r (%s) redefined in %s", key, lang, path.name)
                table[lang][key] = text
    return table


def _flatten(d: dict, prefix: str = "") -> dict[str, str]:
    """`[en.overview] title = "…"` and `[en] "overview.title" = "…"` both give `overview.title`."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = str(v)
    return out


def table() -> dict[str, dict[str, str]]:
    # Checking the files on every lookup cost ~0.3 ms each: a page with thousands of translated
    # cells spent seconds in stat(). An edit is picked up within RECHECK_S instead.
    checked = _cache["checked"]
    if checked is None or time.monotonic() - checked >= RECHECK_S:  # type: ignore[operator]
        stamp = _stamp()
        if _cache["stamp"] != stamp:
            _cache["table"] = _load()
            _cache["stamp"] = stamp
        _cache["checked"] = time.monotonic()
    return _cache["table"]  # type: ignore[return-value]


def version() -> tuple:
    """Which locale files the current table was read from (names and modification times)."""
    table()
    return _cache["stamp"]  # type: ignore[return-value]


def normalize(lang: str | None) -> str:
    """'zh', 'zh-CN', 'ZH' → 'zh'; anything unknown → 'en'."""
    lang = (lang or "").strip().lower()
    for known in LANGS:
        if lang == known or lang.startswith(known + "-") or lang.startswith(known + "_"):
            return known
    return DEFAULT_LANG


def t(key: str, lang: str = DEFAULT_LANG, **fmt) -> str:
    tables = table()
    # an empty translation is a real one (e.g. no unit after a count), not a missing key
    text = next((t[key] for t in (tables.get(normalize(lang), {}), tables[DEFAULT_LANG]) if key in t), key)
    if not fmt:
        return text
    try:
        return text.format(**fmt)
    except (KeyError, IndexError, ValueError):
        # A translator's typo in a placeholder must not crash the page: show the raw text.
        log.warning("bad placeholders in locale key %r (%s)", key, lang)
        return text
