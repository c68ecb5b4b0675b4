"""The shared frame: URL state, windows, kiosk rotation, formats, translations, chart theme, source
health SQL, and app.py end to end in AppTest (filters in the URL, language, kiosk, error panel)."""
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone

import pandas as pd
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

import queries
from tower.ui import charts, fmt, frame, i18n, kiosk
from tower.ui.filters import DEFAULT_WINDOW, ViewState, resolve, window_hours

from tests.ui_fixtures import build_db, empty_db, failing_db, open_app, populated_db, sample_rows, tower_env  # noqa: F401
from tests.ui_fixtures import static_tables_of

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=timezone.utc)


# ── URL state ───────────────────────────────────────────────────────────────────────────────────
def test_view_state_round_trips_through_the_url():
    state = ViewState(window="custom", date_from=date(2026, 11, 1), date_to=date(2026, 11, 3),
                      merchant="green-living", channel="web", market="US", lang="zh", kiosk=True,
                      refresh=10, playlist=("overview", "map", "stock"), rotate=30)
    q = state.to_query()
    assert q == {"window": "custom", "from": "2026-11-01", "to": "2026-11-03", "merchant": "green-living",
                 "channel": "web", "market": "US", "lang": "zh", "kiosk": "1", "refresh": "10",
                 "playlist": "overview,map,stock", "rotate": "30"}
    assert ViewState.from_query(q) == state
    assert ViewState().to_query() == {}, "defaults stay out of the URL"


@settings(max_examples=200, deadline=None)
@given(hs.dictionaries(hs.sampled_from(["window", "from", "to", "merchant", "lang", "kiosk", "refresh",
                                        "playlist", "rotate", "junk"]), hs.text(max_size=300)))
def test_any_url_parses_to_a_valid_state(q):
    state = ViewState.from_query(q)
    assert state.window in ("live", "1h", "today", "event", "7d", "custom")
    assert state.event is None or state.window == "event"
    assert state.lang in ("en", "zh")
    assert 5 <= state.refresh_s <= 3600 and 5 <= state.rotate_s <= 3600
    assert all(len(v) <= 200 for v in (state.merchant or "", state.channel or "", state.market or ""))
    assert ViewState.from_query(state.to_query()) == state


def test_refresh_is_clamped_to_at_least_five_seconds():
    assert ViewState.from_query({"refresh": "1"}).refresh_s == 5
    assert ViewState.from_query({"refresh": "10"}).refresh_s == 10
    assert ViewState.from_query({"refresh": "abc"}).refresh_s == 30
    assert ViewState.from_query({"kiosk": "1"}).refresh_s == 15


# ── windows ─────────────────────────────────────────────────────────────────────────────────────
def test_windows_resolve_to_bounds_at_now():
    one_h = resolve(ViewState(window="1h", market="US"), NOW)
    assert (one_h.start, one_h.end, one_h.market) == (NOW - timedelta(hours=1), NOW, "US")
    today = resolve(ViewState(window="today"), NOW)
    assert today.start == datetime(2026, 11, 24, tzinfo=timezone.utc) and today.end == NOW
    week = resolve(ViewState(window="7d"), NOW)
    assert week.start == NOW - timedelta(days=7)


def test_default_window_is_the_last_n_hours_ending_now():
    assert DEFAULT_WINDOW == "live" and ViewState().window == "live"
    f = resolve(ViewState(), NOW)
    assert (f.window, f.start, f.end, f.hours, f.note) == ("live", NOW - timedelta(hours=24), NOW, 24, None)
    six = resolve(ViewState.from_query({}), NOW, live_hours=6)
    assert (six.start, six.end) == (NOW - timedelta(hours=6), NOW)
    # a promotion running or over does not change the default: it is an explicit choice
    running = {"event_id": "A", "name": "Member Day", "starts_at": NOW - timedelta(hours=2), "ends_at": NOW + timedelta(hours=6)}
    assert resolve(ViewState(), NOW, running).end == NOW


def test_window_hours_come_from_tower_toml_and_are_validated():
    assert window_hours({"ui": {"default_window_hours": 6}}) == (6, None)
    assert window_hours({}) == (24, None)
    for bad in (0, -3, 2.5, "24", True, 10_000):
        hours, problem = window_hours({"ui": {"default_window_hours": bad}})
        assert hours == 24 and "default_window_hours" in problem
    assert window_hours({"ui": "nonsense"})[0] == 24


def test_choosing_an_event_gives_its_window_and_an_ended_event_never_freezes_the_default():
    member_day = {"event_id": "A", "name": "Member Day", "starts_at": NOW - timedelta(days=7),
                  "ends_at": NOW - timedelta(days=6)}
    running = {"event_id": "B", "name": "Flash sale", "starts_at": NOW - timedelta(hours=2),
               "ends_at": NOW + timedelta(hours=6)}
    # the chosen event (URL ?window=event&event=A): its own window, even though it is over
    state = ViewState.from_query({"window": "event", "event": "A"})
    assert state.to_query() == {"window": "event", "event": "A"}
    chosen = resolve(state, NOW, member_day)
    assert (chosen.window, chosen.start, chosen.end, chosen.event_name) == \
        ("event", member_day["starts_at"], member_day["ends_at"], "Member Day")
    assert chosen.note == "filters.note_event_over"
    # "the running promotion" (?window=event): its window while it runs …
    now_running = resolve(ViewState(window="event"), NOW, running)
    assert (now_running.start, now_running.end, now_running.note) == (running["starts_at"], running["ends_at"], None)
    # … and once it has ended the board is live again, not frozen on it
    after = NOW + timedelta(hours=7)
    ended = resolve(ViewState(window="event"), after, running)
    assert (ended.window, ended.start, ended.end) == ("live", after - timedelta(hours=24), after)
    assert ended.note == "filters.note_no_running_event"
    assert resolve(ViewState(), after, running).end == after          # the default: always now
    none = resolve(ViewState(window="event"), NOW, None)
    assert none.window == "live" and none.end == NOW and none.note == "filters.note_no_running_event"
    unknown = resolve(ViewState(window="event", event="gone"), NOW, None)
    assert unknown.end == NOW and unknown.note == "filters.note_unknown_event"
    # the event id only travels with window=event
    assert ViewState.from_query({"window": "7d", "event": "A"}).event is None


def test_custom_window_covers_whole_days_and_rejects_reversed_ranges():
    f = resolve(ViewState(window="custom", date_from=date(2026, 11, 1), date_to=date(2026, 11, 2)), NOW)
    assert f.start == datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert f.end == datetime(2026, 11, 3, tzinfo=timezone.utc)
    bad = resolve(ViewState(window="custom", date_from=date(2026, 11, 5), date_to=date(2026, 11, 2)), NOW)
    assert bad.note == "frame.note_bad_range" and bad.start == NOW - timedelta(days=7)


# ── kiosk ───────────────────────────────────────────────────────────────────────────────────────
def test_playlist_wraps_and_skips_unknown_pages():
    known = ["overview", "map", "stock", "sources"]
    assert kiosk.next_page(["overview", "map", "stock"], "overview", known) == "map"
    assert kiosk.next_page(["overview", "map", "stock"], "stock", known) == "overview"
    assert kiosk.next_page(["overview", "nope", "stock"], "overview", known) == "stock"
    assert kiosk.next_page(["map", "stock"], "sources", known) == "map"  # off-playlist → start
    assert kiosk.next_page(["overview"], "overview", known) is None
    assert kiosk.next_page([], "overview", known) is None


def test_kiosk_css_hides_chrome_only_in_kiosk():
    assert ".stAppHeader" in kiosk.css(True) and "display: none" in kiosk.css(True)
    assert "display: none" not in kiosk.css(False)
    assert "data-testid" not in kiosk.css(True), "styles hook onto public classes and keys, not test ids"


_cell = hs.one_of(hs.none(), hs.integers(-10**6, 10**6), hs.text(max_size=12))


@settings(max_examples=60, deadline=None)
@given(hs.lists(hs.tuples(_cell, _cell, hs.booleans()), max_size=6),
       hs.sampled_from(["SKU", "<b>名称</b>", "a & b"]))
def test_a_wall_table_shows_every_cell_as_its_text_escaped_with_its_red_rows(rows, label):
    view = pd.DataFrame({label: [r[0] for r in rows], "n": [r[1] for r in rows]})
    table = static_tables_of(kiosk.html_table(view, [r[2] for r in rows]))[0]
    assert table.header == [label, "n"]
    # each cell as pandas holds it (an integer column with a gap is float: 3 shows as "3.0"),
    # missing ones empty; whatever the text, it comes back as text, not as markup
    shown = [["" if pd.isna(v) else str(v) for v in row] for row in view.itertuples(index=False)]
    assert table.rows == shown
    assert table.red == [r[2] for r in rows]
    assert "<script" not in kiosk.html_table(pd.DataFrame({"x": ["<script>alert(1)</script>"]}), [False])


# ── formats, translations, charts ──────────────────────────────────────────────────────────────
def test_formats_follow_the_language():
    assert fmt.number(1234567, "en") == "1,234,567"
    assert fmt.number(123456, "zh", compact=True) == "12.3万"
    assert fmt.number(1_500_000, "en", compact=True) == "1.5M"
    assert fmt.pct(0.934) == "93.4%" and fmt.pct(0.02, signed=True) == "+2.0%"
    assert fmt.pp(0.015, "zh") == "+1.5 个百分点"
    assert fmt.money(1234, "en") == "$1,234" and fmt.money(1234, "zh") == "US$1,234"
    assert fmt.ts(NOW, "en") == "2026-11-24 10:30 UTC"
    assert fmt.ts(NOW, "zh") == "2026年11月24日 10:30 UTC"
    assert fmt.ts(NOW, "en", "Asia/Shanghai").startswith("2026-11-24 18:30")
    assert fmt.ago(45, "en") == "45 s ago" and fmt.ago(45, "zh") == "45 秒前"
    assert fmt.ago(3 * 3600 + 600, "en") == "3 h 10 min ago"
    assert fmt.hours(5.5, "zh") == "5 小时 30 分钟"
    for bad in (None, float("nan"), "x", float("inf")):
        assert fmt.number(bad) == fmt.pct(bad) == fmt.money(bad) == fmt.ago(bad) == fmt.MISSING
    assert fmt.ts(None) == fmt.ts("not a time") == fmt.MISSING


def test_every_frame_text_exists_in_both_languages_with_the_same_placeholders():
    import re
    import tomllib

    data = tomllib.loads((i18n.LOCALES / "frame.toml").read_text(encoding="utf-8"))
    en, zh = i18n._flatten(data["en"]), i18n._flatten(data["zh"])
    assert set(en) == set(zh)
    for key in en:
        assert set(re.findall(r"{(\w+)}", en[key])) == set(re.findall(r"{(\w+)}", zh[key])), key
    assert i18n.t("nav.overview", "zh") == "总览" and i18n.t("nav.overview", "en") == "Overview"
    assert i18n.t("no.such.key", "zh") == "no.such.key"  # visible, not a crash
    assert i18n.t("frame.updated_ago", "en") == "updated {ago}"  # missing placeholder: raw text


def test_chart_theme_is_dark_and_larger_in_kiosk():
    import plotly.graph_objects as go

    def look(kiosk, **layout):  # the layout the browser receives, the template's under the figure's
        spec = charts.apply(go.Figure(go.Bar(x=[1], y=[1]), layout=layout), kiosk).to_dict()["layout"]
        return {**spec["template"]["layout"], **{k: v for k, v in spec.items() if k != "template"}}

    light, dark = look(False), look(True)
    assert dark["paper_bgcolor"] == charts.KIOSK["paper"] != light["paper_bgcolor"]
    assert dark["font"]["size"] > light["font"]["size"]
    assert dark["xaxis"]["gridcolor"] == charts.KIOSK["grid"]
    # a page's own setting wins over the look; the look fills in the rest
    own = look(True, legend={"orientation": "v"})
    assert own["legend"]["orientation"] == "v" and dark["legend"]["orientation"] == "h"


def test_chart_look_is_the_same_figure_as_plotlys_validated_assignment_and_validation_comes_back():
    import plotly.graph_objects as go
    import pytest

    for kiosk in (False, True):
        fast = charts.apply(go.Figure(go.Bar(x=[1], y=[2]), layout={"title": "t"}), kiosk)
        slow = go.Figure(go.Bar(x=[1], y=[2]), layout={"title": "t"})
        slow.layout.template = charts._template(kiosk, charts.KIOSK["size"] if kiosk else charts.LIGHT["size"])
        assert fast.layout.template.to_plotly_json() == slow.layout.template.to_plotly_json()
        assert fast.layout.template.layout.paper_bgcolor == (charts.KIOSK if kiosk else charts.LIGHT)["paper"]
        with pytest.raises(ValueError):  # the page's own layout edits are still checked
            fast.layout.height = "tall"


def test_bind_passes_only_used_params_and_nulls_the_rest():
    sql = "-- uses $ignored in a comment\nselect $a, $warehouse"
    assert frame.bind(sql, {"a": 1, "b": 2}) == {"a": 1, "warehouse": None}


# ── source health (queries/ops/source_status.sql) ─────────────────────────────────────────────────
def _status(db_path, now, names=(), intervals=(), speed=1.0):
    from tower.db import Database

    db = Database(db_path)
    try:
        sql = queries.load("ops/source_status")
        params = dict(now=now, names=list(names), intervals=list(intervals), speed=speed,
                      stale_factor=3.0, default_interval_s=60.0)
        return db.df(sql, frame.bind(sql, params)).set_index("source")
    finally:
        db.close()


def run(i, source, now, ago_s, status="ok", rejected=0):
    return {"run_id": i, "source": source, "started_at": now - timedelta(seconds=ago_s + 2),
            "finished_at": now - timedelta(seconds=ago_s), "status": status, "rows_fetched": 5,
            "rows_written": 5 - rejected, "rows_rejected": rejected,
            "newest_record_at": now - timedelta(seconds=ago_s + 60) if status != "failed" else None,
            "error": "HTTP 500" if status == "failed" else None}


def test_source_health_classifies_ok_partial_stale_failed_never(tmp_path):
    now = NOW
    path = build_db(tmp_path / "h.duckdb", {"sync_runs": [
        run(1, "fresh", now, 20),
        run(2, "partial", now, 20, "partial", rejected=2),
        run(3, "old", now, 200),                 # 200 s > 3 × 60 s
        run(4, "broken", now, 100), run(5, "broken", now, 10, "failed"),
        run(6, "slow_ok", now, 200),             # configured at 100 s → stale after 300 s: ok
        run(7, "sim", now, 1000),                # 10 s interval: stale at 1x, fine at 60x (1800 s)
    ]})
    st_ = _status(path, now, names=["slow_ok", "never_ran"], intervals=[100.0, 10.0])
    assert st_.loc["fresh", "health"] == "ok"
    assert st_.loc["partial", "health"] == "partial" and st_.loc["partial", "rows_rejected"] == 2
    assert st_.loc["old", "health"] == "stale"
    assert st_.loc["broken", "health"] == "failed" and st_.loc["broken", "error"] == "HTTP 500"
    assert st_.loc["slow_ok", "health"] == "ok"
    assert st_.loc["never_ran", "health"] == "never"
    assert st_.loc["fresh", "data_age_s"] == pytest.approx(80)
    assert list(st_.index[:2]) == ["broken", "old"], "alarming sources come first"
    assert st_.loc["sim", "health"] == "stale"  # unconfigured: 60 s default × 3 at speed 1
    assert _status(path, now, ["sim"], [10.0], speed=1.0).loc["sim", "health"] == "stale"
    sim = _status(path, now, ["sim"], [10.0], speed=60.0)  # the sandbox's accelerated clock
    assert sim.loc["sim", "health"] == "ok" and sim.loc["sim", "since_ok_s"] == 1000


def test_a_shared_chart_is_built_once_per_data_and_look_and_every_screen_gets_the_same_spec():
    """charts.draw: screens showing the same board reuse one figure (built and styled once); new
    data, another language or another wall size build their own; the shared one is never restyled
    (?scale= would otherwise grow its height on every reuse)."""
    import json

    from streamlit.testing.v1 import AppTest

    def script():
        from types import SimpleNamespace

        import pandas as pd
        import plotly.graph_objects as go
        import streamlit as st

        from tower.ui import charts

        def bars(df, look):
            st.session_state.setdefault("builds", []).append((int(df["y"].sum()), look.lang, look.scale))
            return go.Figure(go.Bar(x=df["x"], y=df["y"], name=look.t("overview.actual")),
                             layout={"height": 300})

        board = pd.DataFrame({"x": ["a", "b"], "y": [1, 2]})
        screens = [SimpleNamespace(lang="en", tz="UTC", kiosk=True, scale=2.0)] * 3 + [
            SimpleNamespace(lang="zh", tz="UTC", kiosk=True, scale=2.0),
            SimpleNamespace(lang="en", tz="UTC", kiosk=True, scale=1.0)]
        for i, screen in enumerate(screens):  # each screen gets its own copy, as the query cache hands out
            charts.draw(bars, board.copy(), screen, key=f"screen{i}")
        charts.draw(bars, board.assign(y=[1, 5]), screens[0], key="new_data")

    at = AppTest.from_function(script, default_timeout=30).run()
    assert not at.exception
    assert at.session_state["builds"] == [(3, "en", 2.0), (3, "zh", 2.0), (3, "en", 1.0), (6, "en", 2.0)]
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    assert [s["layout"]["height"] for s in specs] == [600, 600, 600, 600, 300, 600]
    assert specs[0] == specs[1] == specs[2] != specs[3]
    assert specs[3]["data"][0]["name"] == i18n.t("overview.actual", "zh") != specs[0]["data"][0]["name"]
    assert specs[5]["data"][0]["y"] != specs[0]["data"][0]["y"]


def test_a_finished_figure_gives_the_built_figures_spec_made_once():
    """charts.Finished: what st.plotly_chart serialises at every draw of a shared figure is the
    figure's own spec (its theme included), made on the first draw, not again at every refresh."""
    import json

    import plotly.io as pio

    look = charts.Look("zh", "Asia/Shanghai", True, 2.0)

    def built():
        return charts.apply(go.Figure(go.Scatter(x=pd.date_range("2026-12-01", periods=3, freq="h"), y=[1.5, 2, 3]),
                                      layout={"title": "t"}), look)
    finished = charts.finish(built())
    spec = json.loads(pio.to_json(finished.to_dict(), validate=False))
    assert spec == json.loads(pio.to_json(built().to_dict(), validate=False))
    assert spec["layout"]["template"]["layout"]["paper_bgcolor"] == charts.KIOSK["paper"]
    assert finished.to_dict() is finished.to_dict()


@settings(max_examples=60, deadline=None)
@given(rows=hs.lists(hs.tuples(hs.integers(-5, 5), hs.floats(allow_nan=True, allow_infinity=False, width=32),
                               hs.sampled_from(["a", "b", "é", None]), hs.datetimes(timezones=hs.just(timezone.utc))),
                     max_size=6),
       cell=hs.integers(0, 3), lists=hs.booleans())
def test_a_charts_key_is_the_same_for_equal_frames_and_changes_with_any_value_name_or_type(rows, cell, lists):
    """charts.draw keys a shared figure on fingerprint(data): a frame rebuilt with the same values
    (what every screen's query cache hands out) shares it; one changed cell, a renamed column, another
    type or another index would otherwise show a screen the wrong figure."""
    def frame_of(rows):
        df = pd.DataFrame(rows, columns=["n", "x", "s", "t"]).astype({"n": "int64", "x": "float64"})
        return df.assign(tags=[[r[0]] for r in rows]) if lists else df  # unhashable cells
    df = frame_of(rows)
    assert charts.fingerprint(df) == charts.fingerprint(frame_of(list(rows))) == charts.fingerprint(df.copy())
    assert charts.fingerprint(df) != charts.fingerprint(df.rename(columns={"n": "m"}))
    assert charts.fingerprint(df) != charts.fingerprint(df.astype({"n": "float64"}))
    if rows:
        changed = list(rows)
        first = list(changed[0])
        first[cell] = {0: first[0] + 11, 1: 0.5 if first[1] != 0.5 else 0.25,
                       2: "other", 3: first[3] + timedelta(seconds=1)}[cell]
        changed[0] = tuple(first)
        assert charts.fingerprint(df) != charts.fingerprint(frame_of(changed))
        assert charts.fingerprint(df) != charts.fingerprint(df.set_axis(df.index + 1))


# ── app.py in AppTest ──────────────────────────────────────────────────────────────────────────
def test_filters_in_the_url_round_trip_and_survive_page_switches(tower_env, populated_db):
    tower_env(populated_db.path)
    at = open_app(window="7d", merchant="green-living", market="US")
    assert not at.exception
    assert at.selectbox(key="tower_window").value == "7d"
    assert at.selectbox(key="tower_merchant").value == "green-living"
    assert at.selectbox(key="tower_market").value == "US"
    at.selectbox(key="tower_market").set_value("DE").run()
    assert dict(at.query_params) == {"window": "7d", "merchant": "green-living", "market": "DE"}
    at.switch_page("pages/sources.py").run()
    assert not at.exception
    assert at.query_params["market"] == "DE" and at.query_params["window"] == "7d"
    assert at.selectbox(key="tower_market").value == "DE"
    # an unknown merchant from a shared link is kept (not silently dropped)
    at2 = open_app(merchant="someone-new")
    assert at2.selectbox(key="tower_merchant").value == "someone-new"
    assert at2.query_params["merchant"] == "someone-new"


def test_the_board_opens_live_and_an_event_is_picked_in_the_filters(tower_env, populated_db):
    tower_env(populated_db.path)
    at = open_app()
    assert not at.exception
    assert at.selectbox(key="tower_window").value == "live"
    captions = [c.value for c in at.sidebar.caption]
    assert any(c.startswith("Last 24 h (live): ") for c in captions), captions
    # an explicit event choice: the picker lists the promotions, the URL carries the id
    at.selectbox(key="tower_window").set_value("event").run()
    assert at.selectbox(key="tower_event").options[0] == "The running promotion"
    assert any(o.startswith("Spring Sale · ") for o in at.selectbox(key="tower_event").options)
    at.selectbox(key="tower_event").set_value("spring-sale").run()
    assert not at.exception
    assert dict(at.query_params) == {"window": "event", "event": "spring-sale"}
    captions = [c.value for c in at.sidebar.caption]
    assert any(c.startswith("Spring Sale: ") and "this event is over" in c.lower() for c in captions), captions
    shared = open_app(window="event", event="spring-sale")
    assert shared.selectbox(key="tower_event").value == "spring-sale"


def test_language_switch_changes_the_ui_text(tower_env, populated_db):
    tower_env(populated_db.path)
    at = open_app()
    assert [t.value for t in at.title] == ["War room"]
    assert at.selectbox(key="tower_window").label == "Time window"
    at.radio(key="tower_lang").set_value("zh").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["作战室"]
    assert at.selectbox(key="tower_window").label == "时间范围"
    assert at.query_params["lang"] == "zh"
    zh = open_app(lang="zh")
    assert [t.value for t in zh.title] == ["作战室"]
    assert any("更新" in m.value for m in zh.markdown), "the status strip speaks Chinese too"


def test_kiosk_hides_chrome_and_rotation_keeps_kiosk_params(tower_env, populated_db):
    tower_env(populated_db.path)
    at = open_app(kiosk="1", playlist="overview,sources", rotate="5", market="US", refresh="10")
    assert not at.exception
    assert any(".stAppHeader" in h.value and "display: none" in h.value for h in at.html)
    assert not at.sidebar.children, "a wall screen draws no sidebar (no filter or refresh widgets)"
    assert not at.number_input, "no 'refresh 0' input on a wall screen"
    assert [t.value for t in at.title] == ["War room"]
    time.sleep(5.2)
    at.run()  # the page has been up rotate seconds: the rotation moves to the next screen
    assert not at.exception
    assert [t.value for t in at.title] == ["Data sources"]
    assert dict(at.query_params) == {"kiosk": "1", "playlist": "overview,sources", "rotate": "5",
                                     "market": "US", "refresh": "10"}
    assert any("display: none" in h.value for h in at.html), "still in kiosk on the next page"


def test_kiosks_opened_together_take_turns_to_rotate(tower_env, populated_db):
    """Two wall screens switched on together (rotate 10 s, refresh 5 s: two turns) change page
    one refresh apart, not in the same second; after its first page each keeps rotate_s."""
    tower_env(populated_db.path)
    params = {"kiosk": "1", "playlist": "overview,sources", "rotate": "10", "refresh": "5", "market": "US"}
    screens = []
    for _ in range(2):
        screens.append((open_app(**params), time.monotonic()))

    def title_after(at, opened, seconds: float) -> str:
        time.sleep(max(0.0, opened + seconds - time.monotonic()))
        at.run()
        assert not at.exception
        return at.title[0].value

    # 9.7 s after each opened: past rotate_s (with the timer's half second of slack) for the one
    # whose turn is first, five seconds short for the other
    titles = [title_after(at, opened, 9.7) for at, opened in screens]
    assert sorted(titles) == ["Data sources", "War room"], titles
    at, opened = screens[titles.index("War room")]
    assert title_after(at, opened, 14.7) == "Data sources", "its turn came one refresh later"


def test_stale_banner_appears_only_when_a_source_failed(tower_env, populated_db, failing_db):
    tower_env(populated_db.path)
    ok = open_app()
    assert not ok.exception and not [e for e in ok.error if "stale" in e.value.lower()]
    tower_env(failing_db.path)
    bad = open_app()
    banners = [e.value for e in bad.error if "Data is stale" in e.value]
    assert len(banners) == 1 and "shopify" in banners[0] and "invalid access token" in banners[0]


def test_empty_database_renders_the_frame_without_errors(tower_env, empty_db):
    tower_env(empty_db.path)
    at = open_app()
    assert not at.exception
    assert any("no data source has run yet" in m.value for m in at.markdown)
    assert at.selectbox(key="tower_merchant").options == ["All"]


def test_bad_config_shows_an_error_panel_not_a_traceback(tmp_path, monkeypatch, tower_env, empty_db):
    tower_env(empty_db.path)
    cfg = tmp_path / "broken.toml"
    cfg.write_text("[database\npath = 1\n")
    monkeypatch.setenv("TOWER_CONFIG", str(cfg))
    at = open_app()
    assert not at.exception
    assert "Tower could not start" in at.error[0].value
    assert "broken.toml" in at.code[0].value and "not valid TOML" in at.code[0].value


def test_database_locked_by_another_process_shows_an_error_panel(tower_env, tmp_path):
    path = build_db(tmp_path / "locked.duckdb", {})
    holder = subprocess.Popen([sys.executable, "-c",
                               "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('ready', flush=True); time.sleep(60)", str(path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        tower_env(path)
        at = open_app()
        assert not at.exception
        assert "in use by another process" in at.error[0].value
    finally:
        holder.kill()
        holder.wait()


def test_a_failing_query_becomes_a_warning_and_an_empty_frame(tower_env, populated_db):
    tower_env(populated_db.path)
    from streamlit.testing.v1 import AppTest

    def script():
        import streamlit as st

        from tower.ui.frame import context

        ctx = context()
        df = ctx.query("ops/no_such_query")
        st.write(f"rows={len(df)}")
        ok = ctx.query("ops/recent_runs", source=None, limit=100)
        st.write(f"runs={len(ok)}")

    at = AppTest.from_function(script, default_timeout=30).run()
    assert not at.exception
    assert "ops/no_such_query" in at.warning[0].value
    assert "rows=0" in at.markdown[0].value
    assert f"runs={populated_db.count('sync_runs')}" in at.markdown[1].value
