"""The soak (bench/soak.py), short: `python -m tower` with the sandbox and connectors running on a copy
of the ×1 sandbox DB, 3 Streamlit protocol sessions (overview and kiosk rotation, refresh 5 s) for
30 s. About a minute; marked slow but cheap enough for the normal suite (one server, no browser)."""
from __future__ import annotations

import math

import pytest

from bench import machine, soak

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def test_three_sessions_refresh_without_exceptions(sandbox_db):
    figs = soak.measure(sandbox_db.path, sessions=3, minutes=0.5, refresh=5, history_days=1,
                        warmup_s=5, log=lambda *_: None)
    # every screen kept refreshing and no session ever saw an exception element
    assert figs["exceptions"] == 0, figs["exception_texts"]
    assert figs["refreshes"] >= 3 * 3, figs            # ≥ 3 live refreshes per session in 30 s
    assert figs["latency_p95_s"] > 0 and not math.isnan(figs["latency_p95_s"])
    # the server's memory was sampled from /proc for the whole run
    assert 100 * 2**20 < figs["rss_start"] <= figs["rss_peak"] < 4 * 2**30
    assert figs["rss_end"] > 0
    # a new viewer got a KPI tile while the screens refreshed
    assert any(not math.isnan(t) for t in figs["first_tile_s"]), figs["first_tile_s"]
    # the connectors ran during the soak (they write on top of the copied DB)
    assert figs["connectors"]["aftership"]["runs"] >= 2
    # the sandbox's world started where the file's data ends, whatever the hour now
    assert figs["clock_start"] == soak.db_now(sandbox_db.path)
    # and the report is the README table
    figs["machine"] = speed = machine.index()
    figs["machine_after"] = after = machine.index()
    text = soak.report(figs)
    assert "| exceptions seen by sessions | **0** | 0 |" in text
    assert f"This machine: {machine.describe(speed)} before the run, {machine.describe(after)} after it" in text
    assert "aftership" in text
    assert f"its clock starting at {figs['clock_start']:%Y-%m-%d %H:%M} UTC" in text
