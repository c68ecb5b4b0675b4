"""One truth: every surface that shows a KPI shows the semantic layer's number.

On the sandbox-synced member day, for windows and filters hypothesis picks, the Overview, Customers
and Suppliers tiles, the Customers breakdown, the Retro comparison and the alert rules' metrics all
equal `tower.kpis` (the layer's macros) for the same window and filters. The CLI is checked the same
way in tests/test_cli_kpi.py; tests/test_kpis.py holds the layer against plain pandas."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.ui_fixtures import open_app, tower_env  # noqa: F401  (tower_env is a fixture)
from tower import kpis
from tower.alerts import rules as alert_rules
from tower.alerts import settings as alert_settings
from tower.db import Database
from tower.ui import i18n
from tower.ui.context import QUANTUM_WALL_S, as_of

MARKETS = (None, "US", "DE", "GB")
MERCHANTS = (None, "green-living", "nordic-nest")
PAGE_SETTINGS = settings(max_examples=4, deadline=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def world(sandbox_db, tmp_path_factory):
    path = sandbox_db.copy_to(tmp_path_factory.mktemp("one_truth"))
    db = Database(path)
    yield path, db, sandbox_db
    db.close()


def day_window(sandbox, days_back: int, length: int) -> tuple[date, date]:
    """A custom window of whole UTC days inside the synced history (days_back = last day's distance)."""
    last = sandbox.now.date() - timedelta(days=days_back)
    return last - timedelta(days=length - 1), last


def page_params(first: date, last: date, now: datetime | None = None, **filters) -> dict:
    """The window a custom ?from=&to= shows: whole UTC days, nothing after now."""
    return {"start": datetime.combine(first, time(), UTC),
            "end": datetime.combine(last + timedelta(days=1), time(), UTC),
            "now": now or datetime.now(UTC), **filters}


def page_nows(since: datetime) -> list[datetime]:
    """The `now`s a page rendered since `since` may have read: its clock to the second, rounded up
    to the cache quantum (tower.ui.context), so a window ending now may end a few seconds after the
    test's own clock, and a render that crossed a quantum's end may have read either side of it."""
    first, last = as_of(since.replace(microsecond=0)), as_of(datetime.now(UTC))
    steps = range(0, int((last - first).total_seconds()) + 1, QUANTUM_WALL_S)
    return [first + timedelta(seconds=s) for s in steps]


def expected_texts(db, name: str, since: datetime, params_at) -> set[str]:
    """The layer's text for every `now` a page rendered since `since` may have read."""
    return {expected_text(db, name, params_at(now)) for now in page_nows(since)}


def shown_metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def expected_text(db, name: str, params: dict) -> str:
    value, _ = kpis.value(db, name, params)
    return kpis.get(name).format_value(value)


windows = st.tuples(st.integers(0, 5), st.integers(1, 3))  # (days back, length in days)


@PAGE_SETTINGS
@given(window=windows, market=st.sampled_from(MARKETS), merchant=st.sampled_from(MERCHANTS))
def test_overview_tiles_are_the_layers_numbers(world, tower_env, window, market, merchant):  # noqa: F811
    path, db, sandbox = world
    first, last = day_window(sandbox, *window)
    filters = {k: v for k, v in (("market", market), ("merchant", merchant)) if v}
    tower_env(path)
    since = datetime.now(UTC)
    at = open_app(window="custom", **{"from": first.isoformat(), "to": last.isoformat()}, **filters)
    assert not at.exception
    shown = shown_metrics(at)
    for name in kpis.WAR_ROOM:
        assert shown[kpis.get(name).label] in expected_texts(
            db, name, since, lambda now: page_params(first, last, now, **filters)), (name, window, filters)


@PAGE_SETTINGS
@given(window=windows, market=st.sampled_from(MARKETS))
def test_customer_tiles_and_breakdown_are_the_layers_numbers(world, tower_env, window, market):  # noqa: F811
    path, db, sandbox = world
    first, last = day_window(sandbox, *window)
    filters = {"market": market} if market else {}
    tower_env(path)
    since = datetime.now(UTC)
    at = open_app("pages/customers.py", window="custom", **{"from": first.isoformat(), "to": last.isoformat()},
                  **filters)
    assert not at.exception
    params = page_params(first, last, **filters)
    if not any(kpis.value(db, name, params)[1] for name in kpis.CUSTOMERS):
        # a window with nothing to judge (today, minutes after midnight UTC): the page says so
        assert [i.value for i in at.info] == [i18n.t("customers.empty", "en")] and not at.metric
        return
    shown = shown_metrics(at)
    for name in kpis.CUSTOMERS:
        assert shown[kpis.get(name).label] in expected_texts(
            db, name, since, lambda now: page_params(first, last, now, **filters)), (name, params)
    if not at.dataframe:
        assert kpis.value(db, "on_time_rate", params)[1] == 0
        return
    table = at.dataframe[0].value.set_index("dimension_value")  # by carrier, the default
    for name in ("on_time_rate", "nps", "csat", "return_rate"):
        layer = kpis.breakdown(db, name, params, "carrier").set_index("dimension_value")
        for carrier, row in layer.iterrows():
            assert table.loc[carrier, name] == pytest.approx(row["value"]), (name, carrier)
            assert table.loc[carrier, f"{name}_n"] == row["n"]


@PAGE_SETTINGS
@given(window=windows)
def test_supplier_tile_is_the_layers_number(world, tower_env, window):  # noqa: F811
    path, db, sandbox = world
    first, last = day_window(sandbox, *window)
    tower_env(path)
    since = datetime.now(UTC)
    at = open_app("pages/suppliers.py", window="custom", **{"from": first.isoformat(), "to": last.isoformat()})
    assert not at.exception
    values = (kpis.value(db, "tier_share", page_params(first, last, now))[0] for now in page_nows(since))
    shown = shown_metrics(at)["Tier mix off 70-20-10"]
    assert shown in {"—" if v is None else f"{v:.1f} pts" for v in values}


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(market=st.sampled_from(MARKETS))
def test_retro_comparison_is_the_layers_numbers(world, tower_env, market):  # noqa: F811
    path, db, _ = world
    filters = {"market": market} if market else {}
    tower_env(path)
    since = datetime.now(UTC)
    at = open_app("pages/retro.py", **filters)
    assert not at.exception
    event = db.df("select * from events where event_id = ?", [at.selectbox(key="retro_event").value]).iloc[0]

    def params(now):   # an event still running ends "now"
        end = event["ends_at"].to_pydatetime() if pd.notna(event["ends_at"]) else now
        return {"start": event["starts_at"].to_pydatetime(), "end": end, "now": now, **filters}
    table = next(d.value for d in at.dataframe if "KPI" in d.value.columns)
    shown = dict(zip(table["KPI"], table["Event"]))
    for name, kpi in kpis.catalog().items():
        assert shown[kpi.label] in expected_texts(db, name, since, params), name


@settings(max_examples=8, deadline=None)
@given(hours_back=st.floats(0, 96), rule=st.sampled_from(kpis.ALERTED))
def test_alert_metrics_are_the_layers_numbers(world, hours_back, rule):
    """An alert on a KPI reports the KPI's value for its market and window, and its severity is the
    tile's colour for that value (yellow where the tile leaves green, red where the tile is red)."""
    _, db, sandbox = world
    cfg = alert_settings.load().rules[rule]
    now = sandbox.now - timedelta(hours=hours_back)
    params = {"now": now, "sources": "[]", **cfg.params, "min_n": 1, "confidence_z": 0.0}
    with db.cursor() as cur:
        found = alert_rules.run(cur, rule, params)
    targets = kpis.load_targets()
    window = {"start": now - timedelta(hours=cfg.params["window_hours"]), "end": now, "now": now}
    for f in found:
        value, n = kpis.value(db, rule, {**window, "market": f.entity_id})
        assert f.metric == pytest.approx(value), (rule, f.entity_id)
        tile = targets.for_kpi(rule, f.entity_id).status(value)
        assert (tile, f.severity) in {("yellow", "yellow"), ("red", "red")}, (rule, f.entity_id, value)
    # and a market whose tile is not green raised an alert (confidence off, any sample)
    for market, row in kpis.breakdown(db, rule, window, "market").set_index("dimension_value").iterrows():
        if targets.for_kpi(rule, market).status(row["value"]) in ("yellow", "red"):
            assert market in {f.entity_id for f in found}, (rule, market, row["value"])
