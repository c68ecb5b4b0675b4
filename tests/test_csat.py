"""Post-delivery CSAT: the sandbox world answers surveys after delivery and scores late or troubled
deliveries lower; the Delighted CSAT project is served over real HTTP; the `csat` connector loads it
into `csat_responses` incrementally, rejects what is not a 1–5 CSAT answer, and a repeated sync adds
nothing."""
from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from connectors.scheduler import Scheduler
from connectors.testing import write_config
from sandbox.server import start as start_sandbox
from sandbox.world import World, scenario_windows
from tower.clock import ManualClock
from tower.config import SANDBOX_TOKEN, SandboxConfig
from tower.db import Database

ANCHOR = datetime(2026, 11, 20, 9, 7, 13, tzinfo=UTC)
H = timedelta(hours=1)
CSAT_SOURCE = {"csat": {"kind": "csat", "base_url": "{sandbox}/delighted-csat/v1"}}


def csat(scores) -> float:
    """CSAT in percent: share of answers that are 4 or 5."""
    scores = list(scores)
    return 100 * sum(s >= 4 for s in scores) / len(scores)


# ── the world ───────────────────────────────────────────────────────────────────────────────────
def world(names=(), history_days=2.0) -> World:
    return World(7, ManualClock(ANCHOR), history_days, scenario_windows(list(names), ANCHOR))


@pytest.fixture(scope="module")
def calm_and_rough():
    """The same seed with and without a day of carrier exceptions (late, troubled parcels)."""
    return world(), world(["carrier_exceptions"])


def answered_between(w: World, start: datetime, end: datetime):
    return [r for r in w.csat_responses(end) if start <= r.created_at < end]


def test_csat_answers_come_after_delivery_on_a_1_to_5_scale():
    w = world(history_days=7)
    answers = w.csat_responses(ANCHOR)
    assert len(answers) > 100
    assert {r.survey_type for r in answers} == {"csat"}
    assert {r.score for r in answers} <= {1, 2, 3, 4, 5} and len({r.score for r in answers}) >= 3
    delivered = {t.order_id: t.shipment_delivery_date for t in w.trackings(ANCHOR)
                 if t.direction == "outbound" and t.shipment_delivery_date}
    lags = [r.created_at - delivered[r.order_id] for r in answers]
    assert all(timedelta(hours=2) <= lag <= timedelta(days=3) for lag in lags)
    assert min(lags) < timedelta(hours=12) and max(lags) > timedelta(days=1)   # hours to days later
    assert all(r.created_at <= ANCHOR for r in answers)                        # nothing from the future
    # a calm world keeps most customers satisfied, not all
    assert 75 <= csat(r.score for r in answers) < 99


def test_csat_falls_when_deliveries_are_late(calm_and_rough):
    calm, rough = calm_and_rough
    # parcels hit on the exception day (from ANCHOR, 24 h) arrive and are answered days later
    later = ANCHOR + 120 * H
    calm_answers = answered_between(calm, ANCHOR, later)
    rough_answers = answered_between(rough, ANCHOR, later)
    assert len(calm_answers) > 200 and len(rough_answers) > 200
    assert csat(r.score for r in rough_answers) < csat(r.score for r in calm_answers) - 5
    # within one world too: the late parcels' customers are the unhappy ones
    late = {t.order_id for t in rough.trackings(later) if t.direction == "outbound"
            and t.shipment_delivery_date and t.shipment_delivery_date > t.order_promised_delivery}
    late_scores = [r.score for r in rough.csat_responses(later) if r.order_id in late]
    on_time_scores = [r.score for r in rough.csat_responses(later) if r.order_id not in late]
    assert len(late_scores) > 10
    assert csat(late_scores) < csat(on_time_scores) - 20


# ── over HTTP into csat_responses ───────────────────────────────────────────────────────────────
@pytest.fixture(scope="module")
def sandbox():
    server = start_sandbox(SandboxConfig(port=0, speed=1, seed=7, history_days=7.0), ManualClock(ANCHOR))
    yield server
    server.stop()


def test_the_delighted_csat_project_answers_like_delighted(sandbox):
    url = f"{sandbox.url}/delighted-csat/v1/survey_responses.json"
    assert requests.get(url, timeout=10).status_code == 401
    page = requests.get(url, params={"per_page": 5, "expand[]": "person"}, auth=(SANDBOX_TOKEN, ""),
                        timeout=10).json()
    assert isinstance(page, list) and len(page) == 5
    first = page[0]
    assert first["survey_type"] == "csat" and 1 <= first["score"] <= 5
    assert isinstance(first["created_at"], int) and isinstance(first["person"], dict)
    assert {"order_id", "shop", "market"} <= set(first["person_properties"])
    # the NPS project next door is a different survey
    nps = requests.get(f"{sandbox.url}/delighted/v1/survey_responses.json", params={"per_page": 5},
                       auth=(SANDBOX_TOKEN, ""), timeout=10).json()
    assert {r["survey_type"] for r in nps} == {"nps"}
    assert not {r["id"] for r in nps} & {r["id"] for r in page}


def test_csat_sync_loads_every_answer_and_a_repeat_adds_nothing(sandbox, tmp_path):
    cfg = write_config(tmp_path, sandbox.url, sources=CSAT_SOURCE)
    db = Database(cfg.db_path)
    first = Scheduler(db, cfg, sandbox.clock).run_all()["csat"]
    assert first.status == "ok" and first.rows_rejected == 0
    rows = db.df("select * from csat_responses")
    expected = {str(r.id): r for r in sandbox.world.csat_responses(sandbox.clock.now())}
    assert set(rows.response_id) == set(expected) and len(rows) == first.rows_written > 100
    assert rows.score.between(1, 5).all()
    assert rows.order_id.notna().all() and rows.merchant_id.notna().all() and rows.market.str.len().eq(2).all()
    one = rows.iloc[0]
    assert int(one.score) == expected[one.response_id].score

    again = Scheduler(db, cfg, sandbox.clock).run_all()["csat"]
    assert again.status == "ok" and again.rows_written == 0
    assert len(db.df("select * from csat_responses")) == len(rows)
    # only what was answered since the cursor is asked for
    assert again.rows_fetched < len(rows) / 10
    db.close()


# ── validation: a bad record is counted, not loaded ─────────────────────────────────────────────
class _Canned(BaseHTTPRequestHandler):
    body: list = []

    def do_GET(self):  # noqa: N802 - the stdlib's name
        data = json.dumps(self.body if "page=1" in self.path else []).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def _answer(id_, score, survey_type="csat"):
    return {"id": id_, "survey_type": survey_type, "score": score, "comment": None,
            "created_at": 1_763_600_000, "updated_at": 1_763_600_000,
            "person_properties": {"order_id": "1001", "shop": "green-living", "market": "US"}}


def test_scores_outside_1_to_5_and_other_surveys_are_rejected_not_loaded(tmp_path, monkeypatch):
    _Canned.body = [_answer("a", 5), _answer("b", 1), _answer("c", 0), _answer("d", 9),
                    _answer("e", 4, "nps"), {"id": "f", "score": "great"}]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        monkeypatch.setenv("TOWER_CSAT_API_KEY", "k")
        cfg = write_config(tmp_path, url, sources={"csat": {"kind": "csat", "base_url": url}})
        db = Database(cfg.db_path)
        result = Scheduler(db, cfg, ManualClock(ANCHOR)).run_all()["csat"]
        assert result.status == "partial" and result.rows_rejected == 4 and result.rows_fetched == 6
        stored = db.df("select response_id, score from csat_responses order by response_id")
        assert stored.to_dict("list") == {"response_id": ["a", "b"], "score": [5, 1]}
        assert any("survey_type 'nps'" in e for e in result.errors)
        db.close()
    finally:
        server.shutdown()
