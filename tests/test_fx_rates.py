"""Exchange rates to one reporting currency: config/fx_rates.csv → `fx_rates` through the `fx_rates`
source (idempotent, all or nothing, the table follows the file), and the `to_reporting` macro that
turns an amount in its currency into US dollars at the rate valid on its date."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.fx_rates import FxRateFileError, read_rates
from connectors.scheduler import Scheduler
from connectors.testing import FX_RATES_FILE, sources_for, write_config
from sandbox.server import start as start_sandbox
from tower.clock import ManualClock
from tower.config import SandboxConfig
from tower.db import Database

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
GOOD = """# example rates
currency,rate_to_reporting,valid_from
USD,1,2025-01-01
EUR,1.10,2025-01-01
EUR,1.16,2026-01-01
GBP,1.33,2026-01-01
"""


@pytest.fixture
def fx(tmp_path):
    """A database whose fx_rates source reads a rate file the test writes."""
    rates = tmp_path / "rates.csv"
    rates.write_text(GOOD, encoding="utf-8")
    cfg = write_config(tmp_path / "tower", "http://127.0.0.1:9",
                       sources={"fx_rates": {"kind": "fx_rates", "path": str(rates)}})
    db = Database(cfg.db_path)
    scheduler = Scheduler(db, cfg, ManualClock(NOW))
    yield rates, db, lambda: scheduler.run_once("fx_rates")
    db.close()


def table(db) -> list[tuple]:
    return [tuple(r) for r in db.df("select currency, cast(valid_from as text) as d, rate_to_reporting "
                                    "from fx_rates order by currency, valid_from").itertuples(index=False)]


def test_a_known_eur_amount_converts_at_the_rate_of_its_date(fx):
    _, db, sync = fx
    assert sync().status == "ok"
    got = db.df("""select
        to_reporting(100.00, 'EUR', timestamptz '2026-03-01 10:00:00+00') as this_year,
        to_reporting(100.00, 'EUR', timestamptz '2025-12-31 23:59:00+00') as last_year,
        to_reporting(100.00, 'eur', timestamptz '2026-03-01 10:00:00+00') as lower_case,
        to_reporting(100.00, 'USD', timestamptz '2026-03-01 10:00:00+00') as usd,
        to_reporting(100.00, 'EUR', timestamptz '2024-06-01 00:00:00+00') as before_first_rate,
        to_reporting(100.00, 'JPY', timestamptz '2026-03-01 10:00:00+00') as no_rate
    """).iloc[0]
    assert got.this_year == Decimal("116.00") and got.last_year == Decimal("110.00")
    assert got.lower_case == got.this_year and got.usd == Decimal("100.00")
    assert got.before_first_rate == Decimal("110.00")      # older than every row: earliest rate
    assert got.no_rate is None or got.no_rate != got.no_rate  # missing rate stays missing (NULL)


def test_loading_twice_writes_nothing_and_the_table_follows_the_edited_file(fx):
    rates, db, sync = fx
    first = sync()
    assert first.status == "ok" and first.rows_written == 4 and first.rows_fetched == 4
    assert sync().rows_written == 0
    # finance replaces the file: a changed rate, a new one, a removed one
    rates.write_text("currency,rate_to_reporting,valid_from\nUSD,1,2025-01-01\nEUR,1.18,2026-01-01\n"
                     "GBP,1.33,2026-01-01\nCNY,0.14,2026-01-01\n", encoding="utf-8")
    changed = sync()
    assert changed.status == "ok"
    assert table(db) == [("CNY", "2026-01-01", 0.14), ("EUR", "2026-01-01", 1.18),
                         ("GBP", "2026-01-01", 1.33), ("USD", "2025-01-01", 1.0)]


@pytest.mark.parametrize("bad_line,expected", [
    ("EUR,abc,2026-02-01", "line 4: rate_to_reporting"),
    ("EUR,-1.2,2026-02-01", "line 4: rate_to_reporting must be a number above 0"),
    ("EUR,1.2,01/02/2026", "line 4: valid_from must be a date written YYYY-MM-DD"),
    ("EURO,1.2,2026-02-01", "line 4: currency must be a three-letter ISO 4217 code"),
    ("EUR,1.2", "line 4: valid_from"),
    ("EUR,1.2,2026-02-01,extra", "line 4: more cells than the header"),
    ("EUR,1.20,2025-01-01", "line 4: EUR from 2025-01-01 is already on line 3"),
    ("USD,1.01,2026-02-01", "line 4: USD is the reporting currency, its rate must be 1"),
])
def test_a_bad_row_names_its_line_and_leaves_the_previous_rates(fx, bad_line, expected):
    rates, db, sync = fx
    assert sync().status == "ok"
    before = table(db)
    rates.write_text("currency,rate_to_reporting,valid_from\nUSD,1,2025-01-01\nEUR,1.10,2025-01-01\n"
                     f"{bad_line}\nGBP,1.40,2026-06-01\n", encoding="utf-8")
    result = sync()
    assert result.status == "failed" and result.rows_written == 0
    assert f"rates.csv {expected}" in result.error
    assert table(db) == before          # nothing half-loaded: not even the good GBP row after it


def test_missing_file_header_or_reporting_currency_is_a_clear_error(fx):
    rates, db, sync = fx
    rates.write_text("code,rate\nEUR,1.1\n", encoding="utf-8")
    assert "header must name currency, rate_to_reporting, valid_from" in sync().error
    rates.write_text("currency,rate_to_reporting,valid_from\nEUR,1.1,2026-01-01\n", encoding="utf-8")
    assert "no row for the reporting currency USD" in sync().error
    rates.unlink()
    assert "file not found" in sync().error
    assert table(db) == []


def test_the_shipped_rate_file_covers_every_currency_the_sandbox_sells_and_buys_in(tmp_path):
    rows = read_rates(FX_RATES_FILE.read_text(encoding="utf-8"), FX_RATES_FILE.name, "USD")
    assert {"USD", "EUR", "GBP"} <= {r.currency for r in rows}
    with pytest.raises(FxRateFileError, match="line 2"):
        read_rates("currency,rate_to_reporting,valid_from\nUSD,one,2026-01-01\n", "x.csv", "USD")
    # a full sandbox sync: every money column's currency is recorded and has a rate
    server = start_sandbox(SandboxConfig(port=0, speed=1, seed=7, history_days=1.0), ManualClock(NOW))
    try:
        cfg = write_config(tmp_path, server.url, sources=sources_for([m.shop for m in server.world.merchants],
                           next(s.code for s in server.world.suppliers if s.tier == "emergency")))
        db = Database(cfg.db_path)
        results = Scheduler(db, cfg, server.clock).run_all()
        assert {r.status for r in results.values()} == {"ok"}
        check = db.df("""select
            (select count(*) from orders where currency is null) as orders_without_currency,
            (select count(distinct currency) from orders) as order_currencies,
            (select count(*) from orders where shipping_cost is not null
                 and to_reporting(shipping_cost, currency, created_at) is null) as unconvertible,
            (select count(*) from skus where currency is null) as skus_without_currency,
            (select count(*) from purchase_orders where unit_cost is not null and currency is null)
                as pos_without_currency
        """).iloc[0]
        assert check.orders_without_currency == 0 and check.order_currencies >= 2
        assert check.unconvertible == 0
        assert check.skus_without_currency == 0 and check.pos_without_currency == 0
        eur = db.df("""select shipping_cost, to_reporting(shipping_cost, currency, created_at) as usd
                       from orders where currency = 'EUR' and shipping_cost > 0 limit 1""").iloc[0]
        assert eur.usd == pytest.approx(eur.shipping_cost * 1.16)   # the shipped 2026 EUR rate
        db.close()
    finally:
        server.stop()
