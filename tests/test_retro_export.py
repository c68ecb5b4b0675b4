"""Retro exports: the data pack loads back into DuckDB with the manifest's row counts (and the rows
of the event), and the HTML report opens offline in headless Chromium with its charts drawn and
without a single network request."""
from __future__ import annotations

import json
import zipfile
from html.parser import HTMLParser

import duckdb
import pandas as pd
import pytest

from tests.test_retro import PARAMS, H, db, world  # noqa: F401  (fixtures)
from tower import retro
from tower.ui import i18n
from tower.ui import retro_tables as tables


def event_windows(t0):
    return (retro.Window(t0, t0 + 6 * H, "Member Day", "A"),
            retro.Window(t0 - 7 * 24 * H, t0 - 7 * 24 * H + 6 * H, "Weekend flash sale", "B"))


def test_data_pack_loads_back_into_duckdb_with_the_same_row_counts(world, db, tmp_path):  # noqa: F811
    _, rows, t0, now = world
    ev, _ = event_windows(t0)
    blob = retro.data_pack(db, ev, {**PARAMS, "now": now}, now)
    out = tmp_path / "pack"
    with zipfile.ZipFile(__import__("io").BytesIO(blob)) as zf:
        names = set(zf.namelist())
        zf.extractall(out)
    assert names == {f"{t}.parquet" for t in retro.PACK_TABLES} | {"manifest.json"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["event_id"] == "A" and manifest["window"]["start"] == ev.start.isoformat()

    con = duckdb.connect()  # a fresh analyst session, nothing shared with the app's database
    for table, info in manifest["tables"].items():
        count = con.execute("select count(*) from read_parquet(?)", [str(out / info["file"])]).fetchone()[0]
        assert count == info["rows"], table

    counts = {t: manifest["tables"][t]["rows"] for t in retro.PACK_TABLES}
    orders = pd.DataFrame(rows["orders"])
    in_window = orders[(orders.created_at >= ev.start) & (orders.created_at < ev.end)]
    assert counts["orders"] == counts["order_lines"] == len(in_window) == 6
    assert counts["alerts"] == 2 and counts["alert_log"] == 5 and counts["annotations"] == 1
    te = pd.DataFrame(rows["tracking_events"])
    assert counts["tracking_events"] == int(((te.checkpoint_time >= ev.start) & (te.checkpoint_time < ev.end)).sum())
    # stock: the 4 observations inside the window plus the last one before it for each of the 2 pairs
    assert counts["stock_observations"] == 4 + 2
    # the values survive the trip: timestamps stay UTC instants, money stays exact
    back = con.execute("select order_id, created_at, total_price from read_parquet(?) order by created_at",
                       [str(out / "orders.parquet")]).df()
    assert back["order_id"].tolist() == in_window.sort_values("created_at")["order_id"].tolist()
    assert pd.Timestamp(back["created_at"].iloc[0]) == pd.Timestamp(in_window["created_at"].min())
    assert float(back["total_price"].sum()) == pytest.approx(float(in_window["total_price"].sum()))


def test_data_pack_of_an_empty_window_is_valid(db, world):  # noqa: F811
    _, _rows, t0, now = world
    far = retro.Window(t0 - 400 * 24 * H, t0 - 399 * 24 * H, "nothing")
    blob = retro.data_pack(db, far, {**PARAMS, "now": now}, now)
    with zipfile.ZipFile(__import__("io").BytesIO(blob)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert set(manifest["tables"]) == set(retro.PACK_TABLES)  # every fact table, even when empty
    facts = ("orders", "order_lines", "shipments", "tracking_events", "stock_observations", "returns",
             "nps_responses", "csat_responses", "forecasts", "purchase_orders", "po_progress",
             "alerts", "alert_log", "annotations")
    assert all(manifest["tables"][name]["rows"] == 0 for name in facts)


def build_report(db, t0, now, lang: str = "en") -> str:  # noqa: F811
    """The report the page offers, from the same functions: overlay, timeline and the tables as the
    page labels and formats them (tower.ui.retro_tables) in the viewer's language."""
    def t(key: str, **kw) -> str:
        return i18n.t(key, lang, **kw)

    ev, base = event_windows(t0)
    params = {**PARAMS, "now": now}
    notes = retro.annotations(db, ev, "A")
    spans = retro.disruptions(db, ev)
    rel = retro.relative_figure(
        retro.relative_series(db, ev, params), retro.relative_series(db, base, params), "units",
        event_label=ev.label, base_label=base.label, y_title="Units sold per hour", x_title="Hours from the start",
        notes=[(retro.relative_hours(r.happened_at, ev.start), r.text) for r in notes.itertuples()],
        spans=[(retro.relative_hours(r.starts_at, ev.start), retro.relative_hours(r.ends_at, ev.start), r.name)
               for r in spans.itertuples()])
    timeline = retro.timeline_figure(retro.alert_timeline(db, ev, now), notes, spans, ev, now, notes_label="Notes")
    cards = retro.scorecards(db, ev, params)
    sections = [
        retro.Section("Scorecards", table=tables.table(cards, tables.SCORECARD, t, lang)[0]),
        retro.Section("Hour by hour", "units", figure=rel),
        retro.Section("Timeline", figure=timeline),
        retro.Section("Lost sales <script>alert(1)</script>",
                      table=tables.table(retro.stockouts(db, ev, params), tables.STOCKOUTS, t, lang)[0]),
    ]
    return retro.report_html("Retro: Member Day", "2026 window", sections, lang)


class _Tables(HTMLParser):
    """The report's <table class="tbl"> as lists of rows of cell text (stdlib only)."""
    def __init__(self):
        super().__init__()
        self.tables, self.cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and "tbl" in (dict(attrs).get("class") or ""):
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.tables[-1][-1].append(self.cell.strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def report_tables(page_html: str) -> list[pd.DataFrame]:
    parser = _Tables()
    parser.feed(page_html)
    return [pd.DataFrame(rows[1:], columns=rows[0]) for rows in parser.tables]


@pytest.mark.parametrize("lang, stockout_h, lost_sales", [("en", "Stockout hours (h)", "Lost sales (USD, est.)"),
                                                          ("zh", "缺货时长（小时）", "损失销售额（美元，估）")])
def test_report_tables_are_labelled_with_units_and_formatted(world, db, lang, stockout_h, lost_sales):  # noqa: F811
    _, _rows, t0, now = world
    cards, lost = report_tables(build_report(db, t0, now, lang))
    assert stockout_h in cards.columns and "stockout_hours" not in cards.columns
    assert lost_sales in lost.columns and "lost_sales" not in lost.columns
    by_id = cards.set_index(cards.columns[0])
    assert by_id.loc["ups", stockout_h] == "—"                     # carriers hold no stock
    assert by_id.loc["US-WEST-LA", stockout_h] == "4.0"
    bowl = lost[lost.iloc[:, 0] == "GL-BOWL-01"].iloc[0]
    assert bowl[lost_sales] == ("$300" if lang == "en" else "US$300")   # 4 h × 6.25/h × $12
    assert not (cards.astype(str) == "None").any().any() and not (lost.astype(str) == "nan").any().any()


def test_html_report_opens_offline_in_chromium_with_charts_drawn(world, db, tmp_path):  # noqa: F811
    from playwright.sync_api import sync_playwright

    _, _rows, t0, now = world
    page_html = build_report(db, t0, now)
    assert "cdn.plot.ly" not in page_html.split("<body>", 1)[0]  # nothing fetched from the head
    assert "<script>alert(1)</script>" not in page_html          # headings are escaped
    path = tmp_path / "retro.html"
    path.write_text(page_html, encoding="utf-8")

    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=20000)
            plots = page.locator(".js-plotly-plot").count()
            lines = page.locator(".js-plotly-plot .scatterlayer path.js-line").count()
            bars = page.locator(".js-plotly-plot .barlayer path").count()
            line_d = page.locator(".js-plotly-plot .scatterlayer path.js-line").first.get_attribute("d")
            tables = page.locator("table.tbl").count()
        finally:
            browser.close()
    assert plots == 2
    assert lines >= 2 and line_d and len(line_d) > 20   # event and baseline curves are drawn
    assert bars >= 2                                      # the two alerts on the timeline
    assert tables == 2
    assert not errors, errors
    assert requests == [path.as_uri()], requests          # only the file itself: no network at all
