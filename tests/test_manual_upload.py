"""Manual sheet upload (issue 11, item 5): a 3PL stock sheet or a supplier progress sheet, as CSV or
.xlsx, is checked row by row; any bad row loads nothing and the report names row and column; a good
sheet loads all at once with who/when provenance; the same sheet twice changes nothing; a viewer
cannot upload. Real DuckDB files through the real migrations."""
from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import datetime, timedelta, timezone

import openpyxl
import pandas as pd
import pytest
import requests
import streamlit
from hypothesis import HealthCheck, given, settings, strategies as st

from connectors import manual_upload, sheets
from tests.ui_fixtures import build_db, open_app, populated_db, sample_rows, tower_env  # noqa: F401
from sandbox.server import start
from tower.auth.policy import Identity, Refused
from tower.clock import ManualClock
from tower.config import SandboxConfig
from tower.db import Database
from tests.i18n_scan import english_words
from tower.ui import i18n
from tower.ui.session import IDENTITY_KEY
from tower.uploads import upload

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
OPERATOR = Identity("op-7", "Li Na", frozenset({"operator"}), via="oidc")
VIEWER = Identity("view-1", "Viewer Vic", frozenset({"viewer"}), via="oidc")
MINUTES = itertools.count()
DATA_TABLES = ("stock_observations", "po_progress", "purchase_orders", "manual_rows", "audit_log")


@pytest.fixture(scope="module")
def template_db(tmp_path_factory):
    return sample_db(tmp_path_factory.mktemp("uploads") / "base.duckdb", NOW)


def sample_db(path, now):
    """The shared sample world; its runs carry literal run ids, so the run sequence moves past them."""
    build_db(path, sample_rows(now))
    database = Database(path)
    with database.cursor() as cur:
        cur.execute("select max(nextval('sync_run_id')) from range(1000)").fetchall()
    database.close()
    return path


@pytest.fixture
def db(template_db, tmp_path):
    path = tmp_path / "tower.duckdb"
    path.write_bytes(template_db.read_bytes())
    database = Database(path)
    yield database
    database.close()


def snapshot(db, tables=DATA_TABLES) -> dict:
    with db.cursor() as cur:
        return {t: sorted(map(repr, cur.execute(f"select * from {t}").fetchall())) for t in tables}  # noqa: S608 - test-only, fixed names


def scalar(db, sql: str, params=None):
    with db.cursor() as cur:
        return cur.execute(sql, params or {}).fetchone()[0]


def stock_csv(rows, header="sku,warehouse,available,counted_at", delimiter=",", encoding="utf-8") -> bytes:
    out = io.StringIO()
    out.write(header.replace(",", delimiter) + "\n")
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue().encode(encoding)


GOOD = [("GL-BOWL-01", "US-WEST-LA", 120, "2026-12-04 09:30"),
        ("GL-CUP-02", "US-EAST-NJ", "1,200", "2026-12-04T09:30:00+08:00"),
        ("GL-STRAW-03", "EU-DE-HAM", "40 pcs", "2026-12-04 09:30")]


def test_a_good_csv_loads_every_row_with_who_and_when(db):
    before = scalar(db, "select count(*) from stock_observations")
    report = upload(db, OPERATOR, stock_csv(GOOD), "3pl.csv", "stock", now=NOW)
    assert report.status == "loaded", report.errors
    assert report.rows == report.rows_written == 3
    assert scalar(db, "select count(*) from stock_observations") == before + 3
    with db.cursor() as cur:
        got = dict(((r[0], r[1]), (r[2], r[3])) for r in cur.execute(
            "select sku, warehouse_id, available, observed_at from stock_observations "
            "where observed_at >= '2026-12-04 00:00+00'").fetchall())
    assert got[("GL-CUP-02", "US-EAST-NJ")][0] == 1200
    assert got[("GL-CUP-02", "US-EAST-NJ")][1] == datetime(2026, 12, 4, 1, 30, tzinfo=timezone.utc)
    assert got[("GL-STRAW-03", "EU-DE-HAM")][0] == 40
    # provenance: who and when, one manual_rows row per loaded row, the audit row, the run
    up = db.df("select * from uploads").iloc[0]
    assert (up["uploaded_by"], up["uploaded_by_name"], up["status"], up["kind"]) == ("op-7", "Li Na", "loaded", "stock")
    assert up["uploaded_at"] == NOW
    assert scalar(db, "select count(*) from manual_rows where upload_id = $u", {"u": int(up["upload_id"])}) == 3
    assert scalar(db, "select count(*) from audit_log where action = 'upload.load' and actor = 'op-7'") == 1
    run = db.df("select * from sync_runs where source = 'upload:stock'").iloc[0]
    assert (run["status"], run["rows_written"]) == ("ok", 3)


def test_a_good_xlsx_loads_with_excel_dates_and_numbers(db, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["SKU", "Warehouse", "Available", "Counted at"])
    sheet.append(["GL-BOWL-01", "US-WEST-LA", 77, datetime(2026, 12, 4, 8, 0)])
    sheet.append(["gl-cup-02", "US East (New Jersey)", 12.0, "2026-12-04 08:00"])
    buf = io.BytesIO()
    book.save(buf)
    report = upload(db, OPERATOR, buf.getvalue(), "stock.xlsx", "stock", now=NOW, zone="Asia/Shanghai")
    assert report.status == "loaded", report.errors
    with db.cursor() as cur:
        rows = cur.execute("select sku, warehouse_id, available, observed_at from stock_observations "
                           "where observed_at = '2026-12-04 00:00+00' order by sku").fetchall()
    assert [r[:3] for r in rows] == [("GL-BOWL-01", "US-WEST-LA", 77), ("GL-CUP-02", "US-EAST-NJ", 12)]


def test_gbk_sheet_with_chinese_headers_and_semicolons_loads(db):
    text = "货号;仓库;可用库存;盘点时间\nGL-BOWL-01;US-WEST-LA;35件;2026-12-04 10:00\n"
    report = upload(db, OPERATOR, text.encode("gbk"), "库存.csv", "stock", now=NOW)
    assert report.status == "loaded", report.errors
    assert scalar(db, "select available from stock_observations where observed_at = '2026-12-04 10:00+00'") == 35


def test_a_supplier_progress_sheet_loads_as_manual_progress(db):
    body = ("# timezone: Asia/Shanghai\n" + ",".join(manual_upload.SUPPLIER_COLUMNS) + "\n"
            "PO-9001,GL-BOWL-01,5000,3200,3000,0,2026-12-20,in_production,2026-12-04 09:30\n").encode()
    report = upload(db, OPERATOR, body, "progress.csv", "supplier", now=NOW)
    assert report.status == "loaded", report.errors
    row = db.df("select * from po_progress where po_id = 'PO-9001'").iloc[0]
    assert (row["quantity_produced"], row["quantity_qc_passed"], row["source"]) == (3200, 3000, "manual_upload")
    assert row["observed_at"] == datetime(2026, 12, 4, 1, 30, tzinfo=timezone.utc)
    po = db.df("select * from purchase_orders where po_id = 'PO-9001'").iloc[0]
    assert (po["quantity_ordered"], po["status"]) == (5000, "in_production")
    assert po["promised_ship_date"] == datetime(2026, 12, 20, tzinfo=timezone.utc)
    assert scalar(db, "select count(*) from manual_rows where target = 'po_progress'") == 1


def hundred_good_one_bad(bad_cell: str) -> bytes:
    rows = [("GL-BOWL-01", "US-WEST-LA", i, f"2026-12-03 {i // 60:02d}:{i % 60:02d}") for i in range(100)]
    rows.insert(57, ("GL-BOWL-01", "US-WEST-LA", bad_cell, "2026-12-03 23:59"))
    return stock_csv(rows)


BAD_SHEETS = {
    # name: (file bytes, file name, expected (row, column, words in the error))
    "wrong columns": (b"sku,wh,qty,when\nGL-BOWL-01,US-WEST-LA,1,2026-12-04 09:00\n", "a.csv",
                      (1, "", "needs the columns sku, warehouse, available, counted_at")),
    "missing column": (b"sku,warehouse,available\nGL-BOWL-01,US-WEST-LA,1\n", "a.csv", (1, "", "missing counted_at")),
    "unit in boxes": (stock_csv([("GL-BOWL-01", "US-WEST-LA", "12 boxes", "2026-12-04 09:00")]), "a.csv",
                      (2, "available", "unit 'boxes' is not pieces")),
    "negative units": (stock_csv([("GL-BOWL-01", "US-WEST-LA", -3, "2026-12-04 09:00")]), "a.csv",
                       (2, "available", "negative")),
    "fractional units": (stock_csv([("GL-BOWL-01", "US-WEST-LA", "1.5", "2026-12-04 09:00")]), "a.csv",
                         (2, "available", "whole number")),
    "unknown sku in gbk": (stock_csv([("竹碗-01", "US-WEST-LA", 5, "2026-12-04 09:00")], encoding="gbk"), "a.csv",
                           (2, "sku", "unknown SKU '竹碗-01'")),
    "unknown chinese header in gbk": ("商品,仓库,可用库存,盘点时间\nGL-BOWL-01,US-WEST-LA,1,2026-12-04 09:00\n".encode("gbk"),
                                      "a.csv", (1, "", "unknown 商品")),
    "unknown warehouse, semicolons": (stock_csv([("GL-BOWL-01", "US-MARS-1", 5, "2026-12-04 09:00")], delimiter=";"),
                                      "a.csv", (2, "warehouse", "unknown warehouse 'US-MARS-1'")),
    "ambiguous date": (stock_csv([("GL-BOWL-01", "US-WEST-LA", 5, "04/12/2026 09:00")]), "a.csv",
                       (2, "counted_at", "ambiguous")),
    "date without time": (stock_csv([("GL-BOWL-01", "US-WEST-LA", 5, "2026-12-04")]), "a.csv",
                          (2, "counted_at", "no time of day")),
    "future count": (stock_csv([("GL-BOWL-01", "US-WEST-LA", 5, "2026-12-09 09:00")]), "a.csv",
                     (2, "counted_at", "in the future")),
    "empty file": (b"", "a.csv", (0, "", "empty")),
    "header only": (b"sku,warehouse,available,counted_at\n", "a.csv", (0, "", "no rows")),
    "duplicate rows": (stock_csv([("GL-BOWL-01", "US-WEST-LA", 5, "2026-12-04 09:00")] * 2), "a.csv",
                       (3, "", "duplicates row 2")),
    "one bad row among 100": (hundred_good_one_bad("lots"), "a.csv", (59, "available", "not a number of units")),
    "broken xlsx": (b"PK\x03\x04not really a workbook", "a.xlsx", (0, "", "not a readable Excel")),
}


@pytest.mark.parametrize("name", list(BAD_SHEETS))
def test_a_bad_sheet_loads_nothing_and_names_row_and_column(db, name):
    data, file_name, (row, column, words) = BAD_SHEETS[name]
    before = snapshot(db)
    report = upload(db, OPERATOR, data, file_name, "stock", now=NOW)
    assert report.status == "rejected"
    assert snapshot(db) == before, "nothing half-written"
    first = report.errors[0]
    assert (first.row, first.column) == (row, column), report.errors
    assert words in first.error, first.error
    # and it can be said in Chinese: a code with a zh text naming the same values
    zh = i18n.t(f"uploads.err_{first.code}", "zh", **first.params)
    scanned = zh
    for value in sorted(first.params.values(), key=len, reverse=True):  # the sheet's own values stay as written
        scanned = scanned.replace(value, " ")
    assert first.code and not zh.startswith("uploads.err_") and not english_words(scanned, {"yyyy", "hh", "mm", "dd"}), zh
    # the rejection is recorded: an uploads row with the errors, a failed run on the Sources page
    up = db.df("select * from uploads").iloc[-1]
    assert up["status"] == "rejected" and words in json.loads(up["errors"])[0]["error"]
    run = db.df("select * from sync_runs where source = 'upload:stock'").iloc[-1]
    assert run["status"] == "failed" and "nothing loaded" in run["error"]


def test_one_bad_row_among_100_reports_only_that_row(db):
    report = upload(db, OPERATOR, hundred_good_one_bad("12 cartons"), "a.csv", "stock", now=NOW)
    assert report.rows == 101 and report.error_count == 1
    assert report.errors[0].row == 59 and "cartons" in report.errors[0].error


def test_re_uploading_the_same_sheet_changes_nothing(db):
    data = stock_csv(GOOD)
    assert upload(db, OPERATOR, data, "3pl.csv", "stock", now=NOW).status == "loaded"
    after_first = snapshot(db, DATA_TABLES + ("uploads",))
    again = upload(db, OPERATOR, data, "3pl (1).csv", "stock", now=NOW + timedelta(minutes=5))
    assert again.status == "duplicate" and again.duplicate_of == 1 and again.rows_written == 0
    assert snapshot(db, DATA_TABLES + ("uploads",)) == after_first
    # the same rows in another file (semicolons): loaded, but not one data row changes
    data_tables = ("stock_observations", "po_progress", "purchase_orders", "manual_rows")
    before = snapshot(db, data_tables)
    other = upload(db, OPERATOR, stock_csv(GOOD, delimiter=";"), "3pl-b.csv", "stock", now=NOW)
    assert other.status == "loaded" and other.rows_written == 0
    assert snapshot(db, data_tables) == before


def test_rows_an_api_sent_first_are_not_marked_manual(db):
    with db.cursor() as cur:
        sku, wid, at = cur.execute("select sku, warehouse_id, observed_at from stock_observations limit 1").fetchone()
    data = stock_csv([(sku, wid, 1, at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S+00:00"))])
    report = upload(db, OPERATOR, data, "a.csv", "stock", now=NOW)
    assert report.status == "loaded" and report.rows_written == 0
    assert scalar(db, "select count(*) from manual_rows") == 0


def test_a_viewer_is_refused_and_nothing_changes(db):
    before = snapshot(db, DATA_TABLES + ("uploads", "sync_runs"))
    with pytest.raises(Refused, match="operator"):
        upload(db, VIEWER, stock_csv(GOOD), "3pl.csv", "stock", now=NOW)
    assert snapshot(db, DATA_TABLES + ("uploads", "sync_runs")) == before


def test_templates_are_valid_sheets_of_their_kind(db):
    for kind in manual_upload.COLUMNS:
        sheet = sheets.read(manual_upload.template(kind), f"{kind}.csv")
        assert [manual_upload.normalise(h) for h in sheet.header] == list(manual_upload.COLUMNS[kind])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cell=st.one_of(st.text(max_size=12), st.integers(-10**6, 10**9).map(str),
                      st.sampled_from(["1.2k", "3 pcs", "7件", "1,000", "2.5", "-0", "1e3", "12 kg", "∞", " 8 "])))
def test_any_cell_value_loads_exactly_or_rejects_cleanly(db, cell):
    """Whatever an available cell holds: the stored number is what sheets.units reads, or the sheet
    is rejected with that cell named; never a crash, never half a sheet."""
    at = (datetime(2026, 12, 1, tzinfo=timezone.utc) + timedelta(minutes=next(MINUTES)))
    stamp = at.strftime("%Y-%m-%d %H:%M")
    data = stock_csv([("GL-BOWL-01", "US-WEST-LA", 1, stamp), ("GL-CUP-02", "US-WEST-LA", cell, stamp)])
    before = snapshot(db)
    report = manual_upload.check(data, "h.csv", "stock", db, now=NOW)
    if report.ok:
        loaded = upload(db, OPERATOR, data, "h.csv", "stock", now=NOW)
        expected = report.records[1].available
        got = scalar(db, "select available from stock_observations where sku = 'GL-CUP-02' "
                         "and observed_at = $at", {"at": at})
        assert loaded.status in ("loaded", "duplicate") and got == expected
    else:
        assert upload(db, OPERATOR, data, "h.csv", "stock", now=NOW).status == "rejected"
        assert snapshot(db) == before
        assert report.errors and all(e.row >= 0 and e.error for e in report.errors), report.errors


# ── the Sources page (AppTest through app.py) ─────────────────────────────────────────────────
def sources_with_upload(data: bytes, file_name: str, **query):
    at = open_app("pages/sources.py", **query)
    assert not at.exception
    at.file_uploader(key="upload_file_stock").upload(file_name, data, "text/csv").run()
    at.button(key="upload_load").click().run()
    assert not at.exception
    return at


def table_with(at, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def recent_count(path) -> int:
    database = Database(path)
    try:
        return scalar(database, "select count(*) from stock_observations")
    finally:
        database.close()


def test_sources_page_uploads_a_sheet_and_shows_who_loaded_it(tower_env, tmp_path):
    now = datetime.now(timezone.utc)
    path = sample_db(tmp_path / "page.duckdb", now)
    tower_env(path)
    before = recent_count(path)
    stamp = (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    at = sources_with_upload(stock_csv([(s, w, n, stamp) for s, w, n, _ in GOOD]), "3pl.csv")
    assert any(m.value.startswith("Loaded 3pl.csv: 3 rows checked, 3 rows new or changed") for m in at.success)
    assert any("manual data uploaded by local admin" in i.value for i in at.info)
    recent = table_with(at, "Uploaded by")
    assert list(recent["Uploaded by"]) == ["local admin"] and list(recent["Outcome"]) == ["loaded"]
    assert at.get("download_button"), "the template can be downloaded"
    assert recent_count(path) == before + 3


def test_sources_page_shows_the_row_report_and_loads_nothing(tower_env, tmp_path):
    now = datetime.now(timezone.utc)
    path = sample_db(tmp_path / "page.duckdb", now)
    tower_env(path)
    before = recent_count(path)
    at = sources_with_upload(hundred_good_one_bad("12 cartons"), "bad.csv")
    assert any("bad.csv was NOT loaded: 1 problem(s)" in e.value for e in at.error)
    errors = table_with(at, "Problem")
    assert errors.to_dict("records") == [{"Row": 59, "Column": "available",
                                          "Problem": "Unit 'cartons' is not pieces: convert to pieces first."}]
    assert recent_count(path) == before
    # the rejection is a run of the source upload:stock, shown as manual, not as a failing feed
    streamlit.cache_data.clear()  # the page's queries are cached for 5 s
    at.run()
    status = table_with(at, "Health")
    assert status.set_index("Source").loc["upload:stock", "Health"] == "✍️ manual upload"
    assert not [e for e in at.error if "upload:stock" in e.value]


def test_the_row_report_reads_in_chinese(tower_env, tmp_path):
    path = sample_db(tmp_path / "page.duckdb", datetime.now(timezone.utc))
    tower_env(path)
    at = sources_with_upload(hundred_good_one_bad("12 cartons"), "bad.csv", lang="zh")
    assert any("bad.csv 未导入" in e.value for e in at.error)
    assert table_with(at, "问题")["问题"].tolist() == ["单位“cartons”不是件：请先换算成件数。"]


def test_sources_page_offers_no_upload_to_a_viewer(tower_env, populated_db):
    tower_env(populated_db.path)
    at = open_app("pages/sources.py")
    at.session_state[IDENTITY_KEY] = VIEWER
    at.run()
    assert not at.exception
    assert not at.file_uploader and any("needs the operator" in c.value for c in at.caption)


# ── the real supplier file format, served by the sandbox over loopback ────────────────────────
def test_the_suppliers_own_progress_file_uploads_and_matches_what_the_connector_synced(sandbox_db, tmp_path):
    """The supplier's shared progress.csv (the supplier_csv format), downloaded from the sandbox and
    uploaded by hand, is valid as is; its reports are the ones the connector already synced from the
    same file, so the upload writes no new progress row and marks nothing as manual."""
    clock = ManualClock(sandbox_db.anchor)
    server = start(SandboxConfig(port=0, seed=sandbox_db.seed, history_days=sandbox_db.history_days,
                                 scenarios=("member_day",)), clock)
    try:
        clock.set(sandbox_db.now)
        reply = requests.get(f"{server.url}/supplier-files/PRINT3D-LA/progress.csv", timeout=10)
        reply.raise_for_status()
    finally:
        server.stop()
    database = Database(sandbox_db.copy_to(tmp_path))
    try:
        before = snapshot(database, ("po_progress", "manual_rows"))
        report = upload(database, OPERATOR, reply.content, "progress.csv", "supplier", now=sandbox_db.now)
        assert report.status == "loaded", report.errors[:3]
        assert report.rows > 0
        assert snapshot(database, ("po_progress", "manual_rows")) == before
    finally:
        database.close()
