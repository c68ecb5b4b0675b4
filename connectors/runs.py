"""One run of one source (see connectors.base): the run row, extraction, one transaction for every
table and the new cursors, and the outcome recorded in sync_runs. What those writes look like on
the embedded file or on the DuckLake store is the writer's business (connectors/run_writers.py)."""
from __future__ import annotations

import logging
import threading

from connectors.http import Cancelled, HttpError, short as _short
from connectors.lake_writes import INVALIDATED
from connectors.records import Run, RunResult, sql
from connectors.run_writers import WRITE_LOCK, writer_for

log = logging.getLogger("tower.connectors")
_WRITE_LOCK = WRITE_LOCK  # uploads and webhook loads take it too (one connector transaction at a time)


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return f"{type(e).__name__}: {text}" if not isinstance(e, HttpError) else text


def sync(source, db, clock, cancel: threading.Event | None = None) -> RunResult:
    """Run one source (a connectors.base.Source) once (see connectors.base). Never raises for
    source errors: a failed run is recorded and returned with status `failed`."""
    writer = writer_for(db)
    cur = db.cursor()
    started = clock.now()
    writer.mark_interrupted(cur, source.name, started)
    run_id = writer.start(cur, source.name, started)
    cursors = dict(cur.execute(sql("state_get"), {"source": source.name}).fetchall())
    run = Run(source.name, cursors, started, cancel, db)
    written: dict[str, int] = {}
    error, status, http = None, "failed", None
    try:
        http = source.make_http(cancel)
        source.extract(run, http)
        run.check_cancel()
        written = writer.commit(cur, source, run, clock)
        status = "partial" if run.rejected else "ok"
        if run.errors:
            more = run.rejected - 1
            error = run.errors[0] + (f" (+{more} more rejected)" if more > 0 else "")
    except Exception as e:  # a run's failure is data for sync_runs, not a crash of the caller
        error = _first_line(e)
        if http:
            error = http.redact(error)
        log.warning("sync %s failed: %s", source.name, error)
        if not isinstance(e, (HttpError, Cancelled)):
            log.debug("sync %s traceback", source.name, exc_info=True)
        if isinstance(e, INVALIDATED):
            cur = db.cursor()  # DuckDB invalidated the old one; the lake store opens itself again
    finally:
        if http:
            http.close()
    secret = source.secret()
    if error and secret:
        error = error.replace(secret, "***")
    result = RunResult(
        run_id=run_id, source=source.name, status=status, started_at=started,
        finished_at=clock.now(), rows_fetched=run.fetched, rows_written=sum(written.values()),
        rows_rejected=run.rejected, newest_record_at=run.newest,
        error=_short(error) if error else None, errors=list(run.errors), written=written,
    )
    writer.finish(cur, {
        "run_id": run_id, "finished_at": result.finished_at, "status": result.status,
        "rows_fetched": result.rows_fetched, "rows_written": result.rows_written,
        "rows_rejected": result.rows_rejected, "newest_record_at": result.newest_record_at,
        "error": result.error,
    })
    cur.close()
    return result
