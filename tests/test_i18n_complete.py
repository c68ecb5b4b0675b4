"""Chinese is complete: every page, rendered in zh through app.py on a populated database with real
alerts, shows no untranslated English (beyond proper nouns, codes and units); and every locale file
has the same keys in [en] and [zh]."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from i18n_scan import english_words, untranslated
from test_alerts_page import _hashable_runtimes, raise_alerts  # noqa: F401
import queries
from queries import schema_docs
from tower import kpis
from tower.alerts import playbooks
from tower.db import Database
from tower.ui import i18n
from ui_fixtures import open_app, populated_db, tower_env  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
APP_PAGES = re.findall(r'"(pages/\w+\.py)"', (ROOT / "app.py").read_text())
# Names of things in the data (SKUs, suppliers, warehouses, merchants, ports) are proper nouns
# and stay as the source spells them. Event names are NOT here: known events are translated.
_NAME_SQL = """
    select name from skus union all select name from suppliers union all select name from warehouses
    union all select city from warehouses union all select name from merchants union all select name from nodes
"""


def data_names(path) -> set[str]:
    db = Database(path, read_only=True)
    try:
        names = db.df(_NAME_SQL).name.dropna()
    finally:
        db.close()
    # Table names are SQL identifiers (the SQL console lists them to be typed into queries).
    return {w.lower() for n in names for w in re.findall(r"[A-Za-z]+", str(n))} | set(schema_docs.load())


def english_documents() -> list[str]:
    """English reference documents the UI quotes verbatim, which are not catalogue strings: the
    alert playbooks (playbooks/*.md), the KPI definitions' grain / caveat / English label (headers
    of queries/kpi/*.sql, shown in the glossary next to the Chinese text), the SQL headers of the
    page queries and the schema docs (developer reference in the glossary and the SQL console).
    Longest first, so a passage is removed before any shorter passage inside it."""
    docs: list[str] = []
    for name in playbooks.names():
        book = playbooks.load(name)
        docs += [book.section(h) for h in ("Trigger", "Diagnosis", "Actions")] if book else []
    for k in kpis.catalog().values():
        docs += [k.grain, k.caveat, f"`{k.name}` · {k.label}"]
    docs += [queries.header(n) for n in queries.names("pages")]
    for doc in schema_docs.load().values():
        docs += [doc.description, *doc.columns.values()]
    return sorted({d.strip() for d in docs if d and d.strip()}, key=len, reverse=True)


def test_every_page_is_listed():
    assert len(APP_PAGES) == len(list((ROOT / "pages").glob("*.py")))


@pytest.mark.parametrize("page", APP_PAGES)
def test_page_has_no_english_in_zh(tower_env, populated_db, page):
    raise_alerts(populated_db.path, populated_db.now)
    allow = data_names(populated_db.path)
    tower_env(populated_db.path)
    at = open_app(page, lang="zh", window="24h")
    assert not at.exception, [e.value for e in at.exception]
    bad = untranslated(at, allow, english_documents())
    assert not bad, "\n".join(f"{kind}: {text!r} → {words}" for kind, text, words in bad)
