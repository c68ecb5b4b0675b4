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

from tower.twin import network as twin_network
from tower.twin import simulate
from tower.twin.scenarios import TwinInvalid

log = logging.getLogger(__name__)
JOB_KEY = "what_if.job"


@dataclass
class Job:
    """One simulation of one scenario against chosen responses."""
    scenario: object                     # tower.twin.scenarios.Scenario
    response_names: tuple[str, ...]
    runs: int
    seed: int
    now: datetime
    cancel: threading.Event = field(default_factory=threading.Event)
    progress: float = 0.0                # 0…1, written by the thread
    result: object = None                # tower.twin.simulate.Comparison once done
    network: object = None               # tower.twin.network.Network it ran on
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


def run_job(job: Job, db, pick_responses) -> None:
    """The thread's body: build the twin at `job.now`, choose the responses (`pick_responses(network,
    names)` → list of Response), compare. Every outcome lands in the job, never as an exception."""
    try:
        job.network = twin_network.build(db, job.now)
        responses = pick_responses(job.network, job.response_names)
        job.result = simulate.compare(job.network, job.scenario, responses, runs=job.runs, seed=job.seed,
                                      cancel=job.cancel, progress=lambda p: setattr(job, "progress", float(p)))
        job.progress = 1.0
    except simulate.TwinCancelled:
        job.cancelled = True
    except TwinInvalid as e:
        job.error = str(e)
    except Exception as e:  # noqa: BLE001 - a failed run is shown on the page, not raised in a thread
        log.warning("what-if run failed: %s", e, exc_info=True)
        job.failed = f"{type(e).__name__}: {str(e)[:300]}"
    finally:
        job.finished = time.monotonic()


def start(job: Job, db, pick_responses) -> Job:
    """Start `job` in a daemon thread (cancelling any job this session still runs) and keep it."""
    cancel_current()
    job.thread = threading.Thread(target=run_job, args=(job, db, pick_responses), daemon=True,
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
