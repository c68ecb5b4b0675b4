"""The What-if page's simulations, run in background threads so the page (and every other page of
every other session) stays live: per browser session one comparison (`Job`) and one decision-table
sweep (`Sweep`), each held in st.session_state.

A thread runs the twin on a network built beforehand, reports progress into its job, stops when the
page's Cancel button sets the job's event, and stores a finished comparison with the database's
own cursors (tower.db hands each call a fresh one). Nothing here draws: the page reads `current()`
and shows progress in a fragment that ticks every second."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

import streamlit as st

from tower.twin import decision, simulate, store
from tower.twin.scenarios import TwinInvalid

log = logging.getLogger(__name__)
JOB_KEY = "what_if.job"
SWEEP_KEY = "what_if.sweep"


@dataclass
class Background:
    """What every background run has: its cancel event, progress and how it ended."""
    cancel: threading.Event = field(default_factory=threading.Event, kw_only=True)
    progress: float = field(default=0.0, kw_only=True)        # 0…1, written by the thread
    error: str | None = field(default=None, kw_only=True)     # a TwinInvalid message, in the twin's words
    failed: str | None = field(default=None, kw_only=True)    # anything else that went wrong, short
    cancelled: bool = field(default=False, kw_only=True)
    started: float = field(default_factory=time.monotonic, kw_only=True)
    finished: float | None = field(default=None, kw_only=True)
    thread: threading.Thread | None = field(default=None, repr=False, kw_only=True)

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    @property
    def elapsed_s(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def report(self, share: float) -> None:
        self.progress = float(share)


@dataclass
class Job(Background):
    """One comparison of responses under one scenario."""
    scenario: object                     # tower.twin.scenarios.Scenario
    responses: list                      # tower.twin.responses models, in the order chosen
    runs: int
    seed: int
    network: object                      # tower.twin.network.Network it runs on (as of its `now`)
    comparison: object = None            # tower.twin.outcome.Comparison once done
    result: dict | None = None           # its JSON with the fan (what the page draws)
    run_id: str | None = None            # the stored run's id (?run=), once stored

    @property
    def done(self) -> bool:
        return self.result is not None


@dataclass
class Sweep(Background):
    """The decision table of a finished comparison: the same scenario and responses, swept over
    the trigger conditions with fewer runs per cell."""
    job: Job
    runs: int
    table: object = None                 # tower.twin.decision.DecisionTable once done

    @property
    def done(self) -> bool:
        return self.table is not None


def _guarded(bg: Background, work) -> None:
    """Run `work()` so that every outcome lands in `bg`, never as an exception in the thread."""
    try:
        work()
        bg.progress = 1.0
    except simulate.TwinCancelled:
        bg.cancelled = True
    except TwinInvalid as e:
        bg.error = str(e)
    except Exception as e:  # noqa: BLE001 - a failed run is shown on the page, not raised in a thread
        log.warning("what-if run failed: %s", e, exc_info=True)
        bg.failed = f"{type(e).__name__}: {str(e)[:300]}"
    finally:
        bg.finished = time.monotonic()


def run_job(job: Job, db, who, now: datetime) -> None:
    """Compare the responses on the job's network, then store the figures so they can be shared."""
    def work() -> None:
        job.comparison = simulate.compare(job.network, job.scenario, job.responses, runs=job.runs,
                                          seed=job.seed, cancel=job.cancel, progress=job.report)
        job.run_id = store_run(db, who, job.comparison, now)
        job.result = job.comparison.to_json(fan=True)
    _guarded(job, work)


def run_sweep(sweep: Sweep) -> None:
    job = sweep.job

    def work() -> None:
        sweep.table = decision.sweep(job.network, job.scenario, job.responses, runs=sweep.runs, seed=job.seed,
                                     cancel=sweep.cancel, progress=sweep.report)
    _guarded(sweep, work)


def store_run(db, who, comparison, now: datetime) -> str | None:
    """Keep the figures under an id for a share link; a result that cannot be stored (a read-only
    snapshot, a refusal) is still shown, only without the link."""
    try:
        return store.save_run(db, who, comparison, now=now)
    except Exception as e:  # noqa: BLE001 - sharing is a bonus on top of the result
        log.warning("what-if run not stored: %s", e)
        return None


def _launch(key: str, bg: Background, target, *args) -> Background:
    cancel(key)
    bg.thread = threading.Thread(target=target, args=(bg, *args), daemon=True, name=f"tower-{key}")
    st.session_state[key] = bg
    bg.thread.start()
    return bg


def start(job: Job, db, who, now: datetime) -> Job:
    """Start a comparison (cancelling this session's running one and forgetting its sweep).
    `who` and `now` are recorded with the stored run."""
    cancel(SWEEP_KEY)
    st.session_state.pop(SWEEP_KEY, None)
    return _launch(JOB_KEY, job, run_job, db, who, now)


def start_sweep(sweep: Sweep) -> Sweep:
    return _launch(SWEEP_KEY, sweep, run_sweep)


def current(key: str = JOB_KEY) -> Background | None:
    bg = st.session_state.get(key)
    return bg if isinstance(bg, Background) else None


def cancel(key: str = JOB_KEY) -> None:
    """Ask this session's running job (or sweep) to stop: it ends at its next hour of simulation."""
    bg = current(key)
    if bg is not None and bg.running:
        bg.cancel.set()
