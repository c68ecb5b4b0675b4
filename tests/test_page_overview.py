"""Overview (war room) in AppTest, through app.py: populated, empty and failing-source databases,
values checked against the literal rows, filters and language applied."""
import base64
import json
import threading
from contextlib import contextmanager

import numpy as np

from tests.ui_fixtures import empty_db, failing_db, open_app, populated_db, static_tables, tower_env  # noqa: F401
from tower import foreground


def plotly_specs(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def values(array) -> list:
    """Plotly's JSON may carry arrays as typed base64 ('bdata'); decode either form."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"])).tolist()
    return list(array)


def metric(at, label):
    found = [m for m in at.metric if m.label == label]
    assert found, f"no metric {label!r} in {[m.label for m in at.metric]}"
    return found[0]


def test_war_room_on_a_populated_database(tower_env, populated_db):
    tower_env(populated_db.path)
    at = open_app()
    assert not at.exception
    assert [t.value for t in at.title] == ["War room"]
    assert "Last 24 h (live)" in at.caption[0].value  # live by default, whatever event ran

    # KPI tiles from tower.kpis, with values from the rows: 3 event hours × (16 + 6 + 2) units sold
    assert metric(at, "Shipments in exception").value == "1"
    assert metric(at, "Hours to first stockout").value == "2.5 h"  # 30 bowls ÷ (48 sold / 4 h)
    assert metric(at, "Net Promoter Score").value.startswith("+25") or metric(at, "Net Promoter Score").value == "25"
    # a handful of survey answers shows its value but no colour, and says why
    captions = [c.value for c in at.caption]
    assert any(c.startswith("n = ") and "too few to judge (colour from 20)" in c for c in captions), captions

    specs = plotly_specs(at)
    assert len(specs) == 2, "sales vs forecast and the in-transit mix"
    sales = specs[0]
    names = [trace.get("name") for trace in sales["data"]]
    assert names == ["Units sold", "Forecast", "150% of forecast (surge)"]
    sold = [v for v in values(sales["data"][0]["y"]) if v is not None and v == v]
    assert sold[:3] == [24, 24, 24], "three event hours with 24 units each"
    forecast = values(sales["data"][1]["y"])
    surge = values(sales["data"][2]["y"])
    assert len(forecast) == 8 and all(abs(s - 1.5 * f) < 1e-9 for s, f in zip(surge, forecast))

    transit = specs[1]["data"][0]
    mix = dict(zip(transit["y"], values(transit["x"])))
    assert mix == {"In transit": 3, "Out for delivery": 1, "Exception": 1}  # carrier tags in plain words

    at_risk = at.dataframe[0].value
    assert at_risk.iloc[0]["SKU"].startswith("GL-BOWL-01") and at_risk.iloc[0]["Warehouse"] == "US-WEST-LA"
    assert at_risk.iloc[0]["Available"] == 30
    assert list(at_risk[" "][:2]) == ["🔴", ""], "a red dot before the SKU running out within 12 h"

    freshness = " ".join(m.value for m in at.markdown)
    for source in ("aftership", "shopify", "supplier_portal"):
        assert f"{source} · ok" in freshness
    assert not [e for e in at.error if "stale" in e.value.lower()]


def test_filters_change_the_numbers(tower_env, populated_db):
    tower_env(populated_db.path)
    at = open_app(market="DE")
    assert not at.exception
    at_risk = at.dataframe[0].value
    assert set(at_risk["Warehouse"]) == {"EU-DE-HAM"}, "only the German warehouse"
    sales = plotly_specs(at)[0]
    sold = [v for v in values(sales["data"][0]["y"]) if v == v and v is not None]
    assert sold[:3] == [2, 2, 2], "DE sells only the straws: 2 per hour"


def test_red_and_yellow_counts_match_their_source(tower_env, populated_db):
    tower_env(populated_db.path)
    at = open_app()
    assert not at.exception
    from tower import kpis, runtime

    db = runtime.get().db  # the app's own (cached) runtime: one owner of the database file
    labels = {m.label: m.value for m in at.metric}
    if "Open red alerts" in labels:  # the alerts module is installed: its counts are shown
        from tower.alerts.ui import open_alert_counts

        counts = open_alert_counts(db, populated_db.now)
        assert labels["Open red alerts"] == str(counts["red"])
    else:  # fallback: KPIs breaching their targets, from tower.kpis on the same window
        event = next(e for e in populated_db.rows["events"] if e["event_id"] == "member-day")
        params = {"start": event["starts_at"], "end": event["ends_at"], "now": populated_db.now,
                  "merchant": None, "channel": None, "market": None}
        statuses = [t.status for t in kpis.tiles(db, kpis.WAR_ROOM, params)]
        assert labels["KPIs in red"] == str(statuses.count("red"))
        assert labels["KPIs in yellow"] == str(statuses.count("yellow"))
        assert statuses.count("red") + statuses.count("yellow") > 0, "the sample world has breaches"


def test_empty_database_shows_clear_empty_states(tower_env, empty_db):
    tower_env(empty_db.path)
    at = open_app()
    assert not at.exception
    infos = [i.value for i in at.info]
    assert "No sales or forecast in this window yet." in infos
    assert "No SKU is selling down stock right now." in infos
    assert "No shipments in transit." in infos
    assert not at.get("plotly_chart")
    assert all(m.value in ("—", "0") for m in at.metric), [m.value for m in at.metric]


def test_failing_source_shows_red_freshness_and_the_stale_banner(tower_env, failing_db):
    tower_env(failing_db.path)
    at = open_app()
    assert not at.exception
    assert any("shopify · failed" in m.value and "tower-badge red" in m.value for m in at.markdown)
    assert any("Data is stale" in e.value and "shopify" in e.value for e in at.error)


def test_war_room_in_chinese(tower_env, populated_db):
    tower_env(populated_db.path)
    at = open_app(lang="zh")
    assert not at.exception
    assert [t.value for t in at.title] == ["作战室"]
    assert any(m.label == "异常运单" or "异常" in m.label for m in at.metric), [m.label for m in at.metric]
    assert [trace.get("name") for trace in plotly_specs(at)[0]["data"]][0] == "实际销量"
    assert "距缺货" in at.dataframe[0].value.columns


def test_wall_screen_shows_the_at_risk_list_as_a_static_dark_table(tower_env, populated_db):
    tower_env(populated_db.path)
    at = open_app(kiosk=1)
    assert not at.exception
    assert not at.dataframe and not at.table, "the interactive grid ignores the kiosk theme"
    table = static_tables(at)[0]
    assert table.header[:3] == ["SKU", "Warehouse", "Available"]
    assert table.rows[0][0].startswith("GL-BOWL-01") and table.column("Available")[0] == "30"
    # the bowl runs out in 2 h 30 min (under 12 h): red on the wall; two days is not
    assert table.column("Time to stockout")[:2] == ["2 h 30 min", "2 d 1 h"]
    assert table.red[:2] == [True, False]



def test_every_drawing_of_a_screen_holds_background_jobs_back_until_it_is_done(tower_env, populated_db, monkeypatch):
    """The page (a full run: a first visit, a kiosk's rotation) and its live fragments (the status
    strip, the war room's board) each mark their drawing, so syncs, webhook loads and alert
    evaluations start after it (tower.foreground); once drawn, nothing holds them."""
    waits = []

    class Recording(foreground.Foreground):
        @contextmanager
        def drawing(self):
            with super().drawing():
                job = threading.Thread(target=lambda: waits.append(self.wait_quiet()))
                job.start()
                job.join()
                yield

    monkeypatch.setattr(foreground, "shared", Recording(quiet_s=0.01, max_wait_s=0.1))
    tower_env(populated_db.path)
    at = open_app()
    assert not at.exception
    assert len(waits) == 3 and min(waits) >= 0.1       # strip, page, board: a job waits its limit
    waits.clear()
    at.switch_page("pages/stock.py")
    at.run()
    assert not at.exception
    assert len(waits) == 2 and min(waits) >= 0.1       # strip, page (the stock page has no live board)
    assert foreground.shared.wait_quiet() < 0.1        # and once drawn, nothing holds a job back
