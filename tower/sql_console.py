"""The analyst's SQL console: runs an analyst's SQL in a child process of its own, on a read-only
copy of the data, with its own memory and time limits — never on the app's read-write connection.

Why a child process: a query the guard misjudges must not be able to write, read a file or take the
app down. The child (tower/console_worker.py) opens the published snapshot read-only with external
access off and configuration locked before any user SQL, so DuckDB itself refuses writes, files,
extensions and settings; DuckDB's parser decides what is even attempted (tower/console_guard.py) so
every refusal comes back in words; memory, CPU and wall-clock limits stop the child, not the app, and
whatever the child does (crash, out of memory, hang) this module answers with a sentence.

Who may run it is checked here too, on the server: `run` takes the acting Identity, requires the
"analyse" permission, holds each user to a number of queries per minute ([console]
queries_per_minute) and appends every query it lets through to the audit trail.
"""
from __future__ import annotations

import atexit
import json
import os
import pickle
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from math import ceil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tower.auth import audit, policy
from tower.auth.policy import Identity
from tower import merchant_snapshot
from tower.console_guard import MAX_SQL_CHARS, Refused  # Refused is part of this module's API

ROW_CAP = 10_000          # rows shown/downloaded; the note tells the analyst to aggregate or filter
TIME_LIMIT_S = 30.0       # a runaway query is stopped after this many seconds
MEMORY_LIMIT = "1GB"      # DuckDB's limit inside the child ([console] memory_limit)
THREADS = 2               # the child's DuckDB threads ([console] threads); it also runs at nice 10
SNAPSHOT_MAX_AGE_S = 60.0  # an older snapshot is republished before the query runs
MAX_RESULT_BYTES = 256 * 2**20   # the capped result as Arrow; a bigger one is refused
STARTUP_GRACE_S = 15.0    # the child's start (Python, DuckDB, opening the snapshot) on top of the limit
QUERIES_PER_MINUTE = 30  # per user ([console] queries_per_minute); 0 = no limit
AUDIT_SQL_CHARS = 4000   # the audit row keeps the start of a longer script
ROOT = Path(__file__).resolve().parent.parent
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from tower import console_worker; console_worker.main()"
_UNITS = {"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "kib": 2**10, "mib": 2**20, "gib": 2**30,
          "b": 1, "": 1}
_snapshot_lock = threading.Lock()
_rate_lock = threading.Lock()
_spare: subprocess.Popen | None = None  # a child started ahead: imports done, waiting for its one request
_spare_lock = threading.Lock()
_recent: dict[str, deque] = {}   # user subject → monotonic times of their queries in the last minute


class RateLimited(Refused):
    """The user ran their share of queries this minute; `wait_s` says when the next one may run."""

    def __init__(self, message: str, per_minute: int, wait_s: int):
        super().__init__(message)
        self.per_minute, self.wait_s = per_minute, wait_s


class QueryFailed(RuntimeError):
    """DuckDB rejected or aborted the query; the message is DuckDB's own."""


class QueryStopped(QueryFailed):
    """The query was stopped by one of the console's limits; the message says which."""


class QueryTimedOut(QueryStopped):
    """The query ran past the time limit and was stopped."""


class QueryOutOfMemory(QueryStopped):
    """The query needed more memory than the console's limit and was stopped."""


@dataclass(frozen=True)
class ConsoleResult:
    df: pd.DataFrame
    truncated: bool                  # more rows existed than the cap
    elapsed_s: float
    statements: int

    @property
    def rows(self) -> int:
        return len(self.df)


# ── who may run it, and how often ──────────────────────────────────────────────────────────────
def take_turn(who: Identity, per_minute: int, clock=time.monotonic) -> None:
    """Count one query for `who`, or raise RateLimited when they already ran `per_minute` in the
    last 60 s (per process: one Tower serves one war room). `per_minute` <= 0 means no limit."""
    if per_minute <= 0:
        return
    with _rate_lock:
        now = clock()
        recent = _recent.setdefault(who.subject, deque())
        while recent and now - recent[0] >= 60:
            recent.popleft()
        if len(recent) >= per_minute:
            wait = max(1, ceil(60 - (now - recent[0])))
            raise RateLimited(f"{who.name} ran {per_minute} queries in the last minute, the console's "
                              f"limit per user; the next one may run in {wait} s.", per_minute, wait)
        recent.append(now)


# ── running ────────────────────────────────────────────────────────────────────────────────────
def run(db, sql: str, *, who: Identity, now: datetime | None = None,
        per_minute: int = QUERIES_PER_MINUTE, data_dir: str | os.PathLike | None = None,
        params: dict | None = None, time_limit_s: float = TIME_LIMIT_S, row_cap: int = ROW_CAP,
        memory_limit: str = MEMORY_LIMIT, snapshot_path: str | os.PathLike | None = None,
        threads: int = THREADS, snapshot_max_age_s: float = SNAPSHOT_MAX_AGE_S) -> ConsoleResult:
    """Run `sql` in a console child over the snapshot of `db` (a tower.db.Database) at
    `snapshot_path` (default: <db folder>/snapshot/tower.duckdb), republished first when older than
    `snapshot_max_age_s`. Returns the last statement's result, at most `row_cap` rows. `params` are
    bound by name (the page passes the sidebar filters: $start, $end, …). `data_dir` is accepted for
    callers of the old API; the console reads no files. For a merchant user (`who.merchant`) the
    child opens that merchant's own database instead (tower.merchant_snapshot: only its rows,
    nothing else in the file), so no statement can reach another merchant's data. `who` must hold
    "analyse" (else policy.Refused), may run `per_minute` queries a minute (else RateLimited), and
    each query let through is audited ("console.query", at `now`, Tower's clock) before it runs.
    Raises Refused, QueryTimedOut, QueryOutOfMemory, QueryStopped or QueryFailed, each with a
    message in words."""
    who = policy.require(who, "analyse")
    merchant = who.merchant  # the scope comes with the identity: no caller can forget it
    take_turn(who, per_minute)
    audit.record_now(db, who, "console.query", at=now or datetime.now(UTC), target="sql_console",
                     detail={"sql": (sql or "")[:AUDIT_SQL_CHARS], "chars": len(sql or ""),
                             "params": {k: v for k, v in (params or {}).items() if v is not None}})
    if not sql or not sql.strip():
        raise Refused("Nothing to run: write a SELECT query.")
    if len(sql) > MAX_SQL_CHARS:
        raise Refused(f"The script is longer than {MAX_SQL_CHARS:,} characters.")
    try:
        memory_bytes = _bytes(memory_limit)
    except ValueError as e:
        raise QueryFailed(f"The console is misconfigured: {e} ([console] memory_limit in tower.toml).") from None
    snapshot = fresh_snapshot(db, snapshot_path, snapshot_max_age_s)
    if merchant is not None:
        params = {**(params or {}), "merchant": merchant}  # $merchant is the scope, like on the pages
        try:
            snapshot = merchant_snapshot.fresh(snapshot, merchant,
                                               {"memory_limit": memory_limit, "threads": int(threads)})
        except Exception as e:  # noqa: BLE001 - any failure: no query, never the full snapshot
            raise QueryFailed(f"Your merchant's data could not be prepared for the console: {e}") from None
    request = {"sql": sql, "params": dict(params or {}), "snapshot": str(snapshot),
               "memory_limit": memory_limit, "memory_bytes": memory_bytes, "threads": int(threads),
               "time_limit_s": float(time_limit_s), "row_cap": int(row_cap),
               "max_result_bytes": MAX_RESULT_BYTES}
    return _ask_child(request, memory_limit)


def fresh_snapshot(db, snapshot_path, max_age_s: float) -> Path:
    """The snapshot the child reads, republished from `db` when missing or older than `max_age_s`."""
    path = Path(snapshot_path) if snapshot_path else _default_snapshot(db)
    with _snapshot_lock:
        if not path.exists() or time.time() - path.stat().st_mtime > max_age_s:
            db.snapshot(path)
    return path


def _default_snapshot(db) -> Path:
    if str(db.path) == ":memory:":
        return Path(tempfile.gettempdir()) / f"tower-console-{os.getpid()}-{id(db)}.duckdb"
    return Path(db.path).parent / "snapshot" / "tower.duckdb"


def _start_child() -> subprocess.Popen:
    env = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "HOME") if k in os.environ}
    return subprocess.Popen([sys.executable, "-I", "-c", _BOOT, str(ROOT)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd="/",
                            start_new_session=True)


def _take_child() -> subprocess.Popen:
    """The child for one query: the spare if one is alive, else a new one. Starting Python with
    DuckDB and Arrow takes under half a second (bench/README.md, "SQL console"); the spare did it
    while nobody waited. A child still answers one request only and exits: nothing is ever reused."""
    global _spare
    with _spare_lock:
        child, _spare = _spare, None
    return child if child is not None and child.poll() is None else _start_child()


def _keep_spare() -> None:
    """Start the next query's child now. Only after a query: an app nobody queries holds no child,
    and the spare reads end-of-input and exits when the app ends (its stdin is the app's pipe)."""
    global _spare
    with _spare_lock:
        if _spare is None or _spare.poll() is not None:
            _spare = _start_child()


@atexit.register
def _drop_spare() -> None:
    global _spare
    with _spare_lock:
        child, _spare = _spare, None
    if child is not None:
        child.kill()
        child.communicate()  # reaps it and closes its pipes


def _ask_child(request: dict, memory_limit: str) -> ConsoleResult:
    limit_s = request["time_limit_s"]
    started = time.perf_counter()
    child = _take_child()
    try:
        return _answer(child, request, memory_limit, limit_s, started)
    finally:
        _keep_spare()


def _answer(child: subprocess.Popen, request: dict, memory_limit: str, limit_s: float,
            started: float) -> ConsoleResult:
    answer = bytearray()
    reader = threading.Thread(target=_read_capped, args=(child.stdout, answer), daemon=True)
    reader.start()
    try:
        child.stdin.write(pickle.dumps(request))
        child.stdin.close()
    except OSError:
        pass  # the child died at once; its exit status explains below
    try:
        child.wait(timeout=limit_s + STARTUP_GRACE_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
        raise QueryTimedOut(_too_long(limit_s)) from None
    finally:
        reader.join(5)
    header, payload = _split(bytes(answer))
    if header is None:
        raise _died(child.returncode, memory_limit, limit_s)
    return _result(header, payload, memory_limit, limit_s, time.perf_counter() - started)


def _read_capped(stream, into: bytearray) -> None:
    """Read the child's answer, at most the result cap plus room for the header."""
    cap = MAX_RESULT_BYTES + 2**20
    while len(into) <= cap:
        block = stream.read(2**20)
        if not block:
            return
        into.extend(block)
    stream.close()


def _split(answer: bytes) -> tuple[dict | None, bytes]:
    if len(answer) < 4:
        return None, b""
    size = struct.unpack(">I", answer[:4])[0]
    try:
        return json.loads(answer[4:4 + size]), answer[4 + size:]
    except ValueError:
        return None, b""


def _result(header: dict, payload: bytes, memory_limit: str, limit_s: float, elapsed_s: float):
    kind, message = header.get("kind"), header.get("message") or ""
    if kind == "ok":
        table = pa.ipc.open_stream(payload).read_all()
        return ConsoleResult(_frame(table), bool(header["truncated"]),
                             float(header.get("elapsed_s", elapsed_s)), int(header["statements"]))
    if kind == "refused":
        raise Refused(message)
    if kind == "timed_out":
        raise QueryTimedOut(_too_long(limit_s))
    if kind == "out_of_memory":
        raise QueryOutOfMemory(_too_big(memory_limit))
    if kind == "too_large":
        raise QueryStopped(f"The result is larger than {MAX_RESULT_BYTES // 2**20} MB even after the "
                           "row cap: select fewer or narrower columns.")
    if kind == "unavailable":
        raise QueryFailed(message)
    raise QueryFailed(message or "The query failed.")


def _frame(table: pa.Table) -> pd.DataFrame:
    """The child's Arrow result as the frame DuckDB itself would give: dates as datetime64, DECIMAL
    and HUGEINT as floats, intervals as Timedeltas (a month as 30 days, DuckDB's rule), maps as
    dicts. A column pandas has no type for (a UNION, a date past the year 2262) comes as Python
    values, or as Arrow's text when even those fail: any result that ran is shown."""
    return pd.DataFrame({name: _column(table[name]) for name in table.column_names})


def _column(column: pa.ChunkedArray) -> pd.Series:
    if pa.types.is_decimal(column.type):
        column = pc.cast(column, pa.float64())
    elif column.type == pa.month_day_nano_interval():
        return pd.Series(pd.to_timedelta([
            None if v is None else pd.Timedelta(days=30 * v.months + v.days, microseconds=v.nanoseconds / 1000)
            for v in column.to_pylist()]))
    try:
        return column.to_pandas(date_as_object=False, maps_as_pydicts="lossy")
    except (pa.ArrowException, ValueError, OverflowError):
        pass
    try:
        return pd.Series(column.to_pylist(), dtype=object)
    except (ValueError, OverflowError):
        return pd.Series(pc.cast(column, pa.string()).to_pylist(), dtype=object)


def _died(returncode: int, memory_limit: str, limit_s: float) -> QueryStopped:
    """The child ended without an answer: say why in words (the app itself is unaffected)."""
    if returncode == -signal.SIGXCPU:
        return QueryTimedOut(_too_long(limit_s))
    if returncode in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS):
        # SIGKILL: usually the kernel's OOM killer; SIGABRT/SIGSEGV: an allocation failed past the fence
        name = signal.Signals(-returncode).name
        return QueryOutOfMemory(f"The query process was ended by the system ({name}), most likely for "
                                f"needing more than {memory_limit} of memory; the app is unaffected. "
                                "Filter or aggregate earlier, or add a LIMIT.")
    return QueryStopped(f"The query process stopped unexpectedly (exit status {returncode}); "
                        "the app is unaffected. Simplify the query and try again.")


def _too_long(limit_s: float) -> str:
    return (f"The query ran longer than {limit_s:g} s and was stopped. "
            "Filter or aggregate more, or add a LIMIT.")


def _too_big(memory_limit: str) -> str:
    return (f"The query used more than {memory_limit} of memory and was stopped. "
            "Filter or aggregate earlier, or add a LIMIT.")


def _bytes(size: str) -> int:
    """'1GB' / '512 MiB' → bytes (DuckDB's memory_limit notation)."""
    text = str(size).strip().lower().replace(" ", "")
    digits = text.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = text[len(digits):]
    if not digits or unit not in _UNITS:
        raise ValueError(f"memory_limit {size!r} is not a size like '1GB'")
    return int(float(digits) * _UNITS[unit])
