"""The What-if page's simulation, run in a background thread so the page (and every other page of
every other session) stays live: one job per browser session, held in st.session_state.

The thread builds the twin and runs the Monte Carlo comparison with the database's own cursors
(tower.db hands each call a fresh cursor), reports progress into the job, and stops when the
page's Cancel button sets the job's event. Nothing here draws: the page reads `current()` and
shows progress in a fragment that ticks every second."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

import streamlit as st

from tower.twin import simulate, store
from tower.twin.scenarios import TwinInvalid

log = logging.getLogger(__name__)
JOB_KEY = "what_if.job"


@dataclass
class Job:
    """One simulation of one scenario against chosen responses."""
    scenario: object                     # tower.twin.scenarios.Scenario
    responses: list                      # tower.twin.responses models, in the order chosen
    runs: int
    seed: int
    network: object                      # tower.twin.network.Network it runs on (as of its `now`)
    cancel: threading.Event = field(default_factory=threading.Event)
    progress: float = 0.0                # 0…1, written by the thread
    comparison: object = None            # tower.twin.outcome.Comparison once done
    result: dict | None = None           # its JSON with the fan (what the page draws)
    run_id: str | None = None            # the stored run's id (?run=), once stored
    error: str | None = None             # a TwinInvalid message (bad input), in the twin's words
    failed: str | None = None            # anything else that went wrong, short
    cancelled: bool = False
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    @property
    def done(self) -> bool:
        return self.result is not None

    @property
    def elapsed_s(self) -> float:
        return (self.finished or time.monotonic()) - self.started


def run_job(job: Job, db, who, now: datetime) -> None:
    """The thread's body: compare the responses on the job's network, then store the result (with
    the database's own cursor) so it can be shared by id. Every outcome lands in the job, never as
    an exception."""
    try:
        job.comparison = simulate.compare(job.network, job.scenario, job.responses, runs=job.runs, seed=job.seed,
                                          cancel=job.cancel, progress=lambda p: setattr(job, "progress", float(p)))
        job.result = job.comparison.to_json(fan=True)
        job.progress = 1.0
        job.run_id = store_run(db, who, job.comparison, now)
    except simulate.TwinCancelled:
        job.cancelled = True
    except TwinInvalid as e:
        job.error = str(e)
    except Exception as e:  # noqa: BLE001 - a failed run is shown on the page, not raised in a thread
        log.warning("what-if run failed: %s", e, exc_info=True)
        job.failed = f"{type(e).__name__}: {str(e)[:300]}"
    finally:
        job.finished = time.monotonic()


def store_run(db, who, comparison, now: datetime) -> str | None:
    """Keep the figures under an id for a share link; a result that cannot be stored (a read-only
    snapshot, a refusal) is still shown, only without the link."""
    try:
        return store.save_run(db, who, comparison, now=now)
    except Exception as e:  # noqa: BLE001 - sharing is a bonus on top of the result
        log.warning("what-if run not stored: %s", e)
        return None


def start(job: Job, db, who, now: datetime) -> Job:
    """Start `job` in a daemon thread (cancelling any job this session still runs) and keep it.
    `who` and `now` are recorded with the stored run."""
    cancel_current()
    job.thread = threading.Thread(target=run_job, args=(job, db, who, now), daemon=True,
                                  name="tower-what-if")
    st.session_state[JOB_KEY] = job
    job.thread.start()
    return job


def current() -> Job | None:
    job = st.session_state.get(JOB_KEY)
    return job if isinstance(job, Job) else None


def cancel_current() -> None:
    """Ask this session's running job to stop (it ends at its next progress step)."""
    job = current()
    if job is not None and job.running:
        job.cancel.set()


def forget() -> None:
    cancel_current()
    st.session_state.pop(JOB_KEY, None)
