"""Chinese is complete: every page, rendered in zh through app.py on a populated database with real
alerts, shows no untranslated English (beyond proper nouns, codes and units); and every locale file
has the same keys in [en] and [zh]."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from i18n_scan import english_words, untranslated
from test_alerts_helpers import make_settings
from test_alerts_page import _hashable_runtimes, raise_alerts  # noqa: F401
from tower.alerts.engine import AlertEngine
from tower.clock import ManualClock
from tower.ui import alert_text, fmt
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
# and stay as the source spells them; carrier slugs and source names are ids. Event names are NOT
# here: known events are translated.
_NAME_SQL = """
    select name from skus union all select name from suppliers union all select name from warehouses
    union all select city from warehouses union all select name from merchants
    union all select name from nodes
    union all select distinct carrier from shipments union all select distinct source from sync_runs
"""


_CARRIER_SQL = """
    select distinct message as text from tracking_events union select distinct location from tracking_events
"""


def data_names(path) -> set[str]:
    db = Database(path, read_only=True)
    try:
        names = db.df(_NAME_SQL).name.dropna()
    finally:
        db.close()
    # Table and column names are SQL identifiers (the SQL console lists them to be typed into queries).
    identifiers = {name for table, doc in schema_docs.load().items() for name in (table, *doc.columns)}
    return {w.lower() for n in names for w in re.findall(r"[A-Za-z]+", str(n))} | identifiers


def carrier_texts(path) -> list[str]:
    """What carriers write on their checkpoints (message, location), quoted as the carrier wrote it."""
    db = Database(path, read_only=True)
    try:
        df = db.df(_CARRIER_SQL)
    finally:
        db.close()
    return [str(x) for x in df.text.dropna()]


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


@pytest.fixture(scope="module")
def sandbox_alerts_db(sandbox_db, tmp_path_factory):
    """A copy of the sandbox-synced database (member day, supplier silent) with the real alert
    engine run over it twice (hold 1), so every page has real events, carrier statuses and alerts."""
    path = sandbox_db.copy_to(tmp_path_factory.mktemp("i18n_sandbox"))
    db = Database(path)
    try:
        engine = AlertEngine(db, make_settings(engine={"hold_count": 1, "min_interval_s": 0}),
                             ManualClock(sandbox_db.now))
        result = engine.evaluate()
        assert not result.errors, result.errors
    finally:
        db.close()
    return path


def alert_rows(path):
    db = Database(path, read_only=True)
    try:
        return db.df("select alert_id, rule, title, detail from alerts order by alert_id")
    finally:
        db.close()


def quoted_texts(path) -> list[str]:
    """Everything shown verbatim rather than from the catalogue, longest first."""
    return sorted(set(english_documents()) | set(carrier_texts(path)), key=len, reverse=True)


def report(bad) -> str:
    return "\n".join(f"{kind}: {text!r} → {words}" for kind, text, words in bad)


def test_every_page_is_listed():
    assert len(APP_PAGES) == len(list((ROOT / "pages").glob("*.py")))


@pytest.mark.parametrize("page", APP_PAGES)
def test_page_has_no_english_in_zh(tower_env, populated_db, page):
    raise_alerts(populated_db.path, populated_db.now)
    allow, quoted = data_names(populated_db.path), quoted_texts(populated_db.path)
    tower_env(populated_db.path)
    at = open_app(page, lang="zh", window="24h")
    assert not at.exception, [e.value for e in at.exception]
    bad = untranslated(at, allow, quoted)
    assert not bad, report(bad)


@pytest.mark.parametrize("page", APP_PAGES)
def test_page_has_no_english_in_zh_on_sandbox_data(tower_env, sandbox_alerts_db, page):
    allow, quoted = data_names(sandbox_alerts_db), quoted_texts(sandbox_alerts_db)
    tower_env(sandbox_alerts_db)
    at = open_app(page, lang="zh")
    assert not at.exception, [e.value for e in at.exception]
    bad = untranslated(at, allow, quoted)
    assert not bad, report(bad)


def test_every_alert_reads_in_chinese(tower_env, sandbox_alerts_db):
    """Each alert the engine raised, selected on the alerts page: title, detail, diagnosis tables."""
    alerts = alert_rows(sandbox_alerts_db)
    # which rules fire depends on the hour of day the sandbox world starts at; the rules' wording is
    # covered whatever fires by test_alert_text_reads_every_title_and_detail_the_rules_write
    assert len(alerts) >= 3 and alerts.rule.nunique() >= 2
    allow, docs = data_names(sandbox_alerts_db), quoted_texts(sandbox_alerts_db)
    tower_env(sandbox_alerts_db)
    at = open_app("pages/alerts.py", lang="zh")
    for alert_id in alerts.alert_id:
        at.selectbox(key="alerts_selected").set_value(int(alert_id)).run()
        assert not at.exception, [e.value for e in at.exception]
        bad = untranslated(at, allow, docs)
        assert not bad, f"alert #{alert_id}: " + report(bad)


def test_alert_text_reads_every_title_and_detail_the_rules_write(sandbox_alerts_db, populated_db):
    """The patterns in tower/ui/alert_text.py follow queries/alerts/*.sql: a reworded rule shows up
    here (and would otherwise fall back to English in zh)."""
    raise_alerts(populated_db.path, populated_db.now)
    rows = pd.concat([alert_rows(sandbox_alerts_db), alert_rows(populated_db.path)])
    for r in rows.itertuples():
        assert alert_text.title(r.rule, r.title, "zh") != r.title, (r.rule, r.title)
        if isinstance(r.detail, str):
            assert alert_text.detail(r.rule, r.detail, "zh") != r.detail, (r.rule, r.detail)


def test_carrier_statuses_read_in_plain_words():
    tags = ("Pending", "InfoReceived", "InTransit", "OutForDelivery", "AttemptFail", "Delivered",
            "AvailableForPickup", "Exception", "Expired")
    for tag in tags:
        zh, en = fmt.tag(tag, "zh"), fmt.tag(tag, "en")
        assert zh != tag and not english_words(zh), (tag, zh)
        assert en != tag or tag in ("Pending", "Delivered", "Exception"), (tag, en)
    assert (fmt.tag("InTransit", "zh"), fmt.tag("AttemptFail", "en")) == ("运输中", "Delivery attempt failed")
    assert fmt.subtag("Exception_004", "zh") == "清关延误"
    assert fmt.subtag("Exception_099", "zh") == "异常"  # an unknown subtag reads as its tag
    assert fmt.tag("SomethingNew", "zh") == "SomethingNew" and fmt.tag(None, "zh") == "—"


@pytest.mark.parametrize("path", sorted(i18n.LOCALES.glob("*.toml")), ids=lambda p: p.name)
def test_locale_file_has_the_same_keys_in_en_and_zh(path):
    with path.open("rb") as f:
        data = tomllib.load(f)
    en, zh = set(i18n._flatten(data.get("en", {}))), set(i18n._flatten(data.get("zh", {})))
    assert en, f"{path.name} has no [en] table"
    assert not en - zh, f"{path.name}: missing in [zh]: {sorted(en - zh)}"
    assert not zh - en, f"{path.name}: missing in [en]: {sorted(zh - en)}"


@pytest.mark.parametrize("path", sorted(i18n.LOCALES.glob("*.toml")), ids=lambda p: p.name)
def test_zh_text_keeps_the_placeholders_of_en(path):
    with path.open("rb") as f:
        data = tomllib.load(f)
    en, zh = i18n._flatten(data.get("en", {})), i18n._flatten(data.get("zh", {}))
    fields = lambda text: set(re.findall(r"\{(\w+)", text))  # noqa: E731
    wrong = {k: (fields(en[k]), fields(zh[k]))
             for k in en.keys() & zh.keys() if fields(en[k]) != fields(zh[k])}
    assert not wrong, f"{path.name}: placeholders differ: {wrong}"


def test_an_empty_translation_is_shown_as_empty_not_as_its_key():
    # a count has no unit after it: "+3", not "+3retro.unit_count"
    assert i18n.t("retro.unit_count", "zh") == "" and i18n.t("retro.unit_count", "en") == ""
    assert i18n.t("no.such_key", "zh") == "no.such_key"
