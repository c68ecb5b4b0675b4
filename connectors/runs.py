"""One run of one source (see connectors.base): the run row, extraction, one transaction for every
table and the new cursors, and the outcome recorded in sync_runs."""
from __future__ import annotations

import logging
import threading
import duckdb

from connectors.http import Cancelled, HttpError, short as _short
from connectors.records import Run, RunResult, sql
from connectors.writes import to_arrow, upsert

log = logging.getLogger("tower.connectors")

# One connector transaction at a time per process: they are short (all HTTP happens before), and
# serialising them avoids DuckDB write-write conflicts between sources that share a table.
_WRITE_LOCK = threading.Lock()


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return f"{type(e).__name__}: {text}" if not isinstance(e, HttpError) else text


def sync(source, db, clock, cancel: threading.Event | None = None) -> RunResult:
    """Run one source (a connectors.base.Source) once (see connectors.base). Never raises for
    source errors: a failed run is recorded and returned with status `failed`."""
    cur = db.cursor()
    started = clock.now()
    cur.execute(sql("runs_mark_interrupted"), {"source": source.name, "now": started})
    run_id = cur.execute(sql("run_start"), {"source": source.name, "started_at": started}).fetchone()[0]
    cursors = dict(cur.execute(sql("state_get"), {"source": source.name}).fetchall())
    run = Run(source.name, cursors, started, cancel, db)
    written: dict[str, int] = {}
    error, status, http = None, "failed", None
    try:
        http = source.make_http(cancel)
        source.extract(run, http)
        run.check_cancel()
        written = _commit(cur, source, run, clock)
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
    cur.execute(sql("run_finish"), {
        "run_id": run_id, "finished_at": result.finished_at, "status": result.status,
        "rows_fetched": result.rows_fetched, "rows_written": result.rows_written,
        "rows_rejected": result.rows_rejected, "newest_record_at": result.newest_record_at,
        "error": result.error,
    })
    cur.close()
    return result


def _commit(cur, source, run: Run, clock, attempts: int = 3) -> dict[str, int]:
    """All tables and the new cursors in one transaction (retried on a write-write conflict)."""
    staged = {t.name: to_arrow(run.rows.get(t.name, [])) for t in source.tables}
    for attempt in range(attempts):
        with _WRITE_LOCK:
            cur.begin()
            try:
                written = {t.name: upsert(cur, t, staged[t.name]) for t in source.tables}
                for resource, value in run.new_cursors.items():
                    cur.execute(sql("state_put"), {"source": source.name, "resource": resource,
                                                   "cursor": value, "updated_at": clock.now()})
                cur.commit()
                return written
            except duckdb.TransactionException:
                cur.rollback()
                if attempt == attempts - 1:
                    raise
            except BaseException:
                cur.rollback()
                raise
    return {}  # pragma: no cover - the loop returns or raises
