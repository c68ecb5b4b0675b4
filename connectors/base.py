"""The shared base of every connector: HTTP with retries, cursors, validation, bulk upserts, run log.

A source subclass declares its target tables (primary key, write mode, version column) and implements
`extract(run, http)`: fetch pages, validate records, map them to rows with `run.emit(table, row)` and
move its cursors with `run.set_cursor(resource, value)`. `sync()` does the rest:

1. a `running` row in `sync_runs`, in its own transaction (so a crashed run is visible);
2. extraction: everything fetched and mapped in memory, nothing written yet;
3. one transaction: every table upserted in bulk (Arrow table → deduplicated on the key → `insert …
   by name … on conflict`) plus the new cursors, then commit. Any failure rolls it all back, so a
   failed run changes nothing, a repeated run adds nothing (upserts), and a process killed mid-run
   leaves the previous committed state, which the next run completes;
4. the run row updated with ok / partial (some records rejected) / failed and its counts.
"""
from __future__ import annotations

import abc
import email.utils
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Annotated, Any, ClassVar, Iterable

import duckdb
import pyarrow as pa
import requests
import tenacity
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

import queries
from connectors.timezones import parse_instant

log = logging.getLogger("tower.connectors")
UTC = timezone.utc
MAX_KEPT_ERRORS = 5
MAX_ERROR_CHARS = 300

# One connector transaction at a time per process: they are short (all HTTP happens before), and
# serialising them avoids DuckDB write-write conflicts between sources that share a table.
_WRITE_LOCK = threading.Lock()


def sql(name: str) -> str:
    """A statement from queries/connectors/<name>.sql."""
    return queries.load(f"connectors/{name}")


# A timestamp field in a vendor payload: ISO-8601 (offset-less = UTC), unix seconds, or a datetime.
Instant = Annotated[datetime, BeforeValidator(parse_instant)]


class Record(BaseModel):
    """Base of the vendor payload models: unknown fields are ignored (vendors add fields freely)."""
    model_config = ConfigDict(extra="ignore")


class Cancelled(Exception):
    """The scheduler is stopping: abandon the run (nothing is written)."""


class HttpError(Exception):
    """A request that failed for good (non-retryable status, or retries exhausted)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


# ── HTTP ────────────────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class HttpPolicy:
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    retries: int = 4                 # extra attempts after the first
    backoff_s: float = 0.5           # first backoff; doubles per attempt
    max_backoff_s: float = 30.0      # cap for one wait (also caps Retry-After / rate-limit resets)
    max_total_wait_s: float = 120.0  # cap for all waits of one request

    @classmethod
    def from_options(cls, options: dict) -> "HttpPolicy":
        known = {k: float(options[k]) for k in (
            "connect_timeout_s", "read_timeout_s", "backoff_s", "max_backoff_s", "max_total_wait_s")
            if k in options}
        if "retries" in options:
            known["retries"] = int(options["retries"])
        return cls(**known)


def retry_after_s(resp: requests.Response, now: float | None = None) -> float | None:
    """Seconds the server asks us to wait: `Retry-After` (seconds or HTTP date), else AfterShip's
    `X-RateLimit-Reset` (unix time of the window reset). None when it says nothing usable."""
    now = time.time() if now is None else now
    value = resp.headers.get("Retry-After")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
                return max(0.0, when.timestamp() - now)
            except (TypeError, ValueError):
                pass
    reset = resp.headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            return None
    return None


class Http:
    """GET with timeouts and retries: timeouts, connection errors, 429, 5xx and malformed JSON are
    retried with exponential backoff that honours Retry-After / X-RateLimit-Reset; everything else
    fails at once. Errors name the path and the reason, never the credentials."""

    RETRY_STATUS = frozenset({429, 500, 502, 503, 504})

    def __init__(self, policy: HttpPolicy, headers: dict | None = None, auth=None,
                 secrets: Iterable[str] = (), cancel: threading.Event | None = None,
                 on_response=None):
        self.policy = policy
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json", "User-Agent": "tower-connectors/1"})
        self.session.headers.update(headers or {})
        self.session.auth = auth
        self.secrets = [s for s in secrets if s]
        self.cancel = cancel or threading.Event()
        self.on_response = on_response  # e.g. Shopify's call-limit throttle
        self.requests_made = 0

    def close(self) -> None:
        self.session.close()

    def redact(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, "***")
        return text

    def _sleep(self, seconds: float) -> None:
        if self.cancel.wait(seconds):
            raise Cancelled("stopping")

    def get_json(self, url: str, params: dict | None = None) -> tuple[Any, requests.Response]:
        resp = self._get(url, params, want_json=True)
        return resp._tower_json, resp  # parsed once inside the retry loop

    def get_text(self, url: str, params: dict | None = None) -> tuple[str, requests.Response]:
        """Text (CSV) bodies; one that stops mid-line is a truncated download and is retried
        (CSV writers end every record with a newline)."""
        resp = self._get(url, params, want_json=False)
        return resp.text, resp

    def _get(self, url: str, params: dict | None, want_json: bool) -> requests.Response:
        p = self.policy
        path = requests.utils.urlparse(url).path

        def wait(state: tenacity.RetryCallState) -> float:
            """Exponential backoff, or what the server asked for (Retry-After …); capped."""
            asked = state.outcome.exception().retry_after
            backoff = p.backoff_s * 2 ** (state.attempt_number - 1)
            return min(backoff if asked is None else max(asked, p.backoff_s), p.max_backoff_s)

        def log_retry(state: tenacity.RetryCallState) -> None:
            log.info("GET %s: %s, retrying in %.2fs", path, state.outcome.exception(), state.upcoming_sleep)

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(Transient),
            wait=wait,
            # total *waiting* is capped, not request time: a slow answer still gets its retries
            stop=tenacity.stop_after_attempt(p.retries + 1)
            | (lambda state: state.idle_for + state.upcoming_sleep > p.max_total_wait_s),
            sleep=self._sleep,
            before_sleep=log_retry,
            reraise=True,
        )
        try:
            return retrying(self._attempt, url, params, want_json, path)
        except Transient as e:
            attempts = retrying.statistics.get("attempt_number", 1)
            raise HttpError(self.redact(f"GET {path}: {e} (gave up after {attempts} attempts)")) from None

    def _attempt(self, url: str, params: dict | None, want_json: bool, path: str) -> requests.Response:
        """One GET: the response, or Transient (worth retrying), or HttpError (not)."""
        if self.cancel.is_set():
            raise Cancelled("stopping")
        self.requests_made += 1
        try:
            resp = self.session.get(url, params=params, timeout=(self.policy.connect_timeout_s,
                                                                 self.policy.read_timeout_s))
        except requests.Timeout:
            raise Transient("timed out") from None
        except requests.ConnectionError as e:
            raise Transient(f"connection failed ({type(e).__name__})") from None
        if self.on_response:
            self.on_response(resp, self._sleep)
        if resp.status_code in self.RETRY_STATUS:
            raise Transient(f"HTTP {resp.status_code}", retry_after_s(resp))
        if resp.status_code >= 400:
            raise HttpError(self.redact(f"GET {path}: HTTP {resp.status_code} {_short(resp.text, 120)}"),
                            resp.status_code)
        if want_json:
            try:
                resp._tower_json = resp.json()
            except ValueError:
                raise Transient("malformed JSON") from None
        elif resp.content and not resp.content.endswith(b"\n"):
            raise Transient("truncated body")
        return resp


class Transient(Exception):
    """A failure worth retrying; `retry_after` is what the server asked us to wait, if it said."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


def _short(text: str, n: int = MAX_ERROR_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


# ── tables and runs ─────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Table:
    """A target table: merge tables upsert the newest version of a row (by `version`, when the batch
    carries it); append (history) tables keep the first row stored for a key; replace tables are
    merged and then lose every row whose key the batch does not carry (the batch is the whole table,
    e.g. a local reference file)."""
    name: str
    primary_key: tuple[str, ...]
    write: str = "merge"             # merge | append | replace
    version: str | None = "updated_at"


@dataclass
class RunResult:
    run_id: int | None
    source: str
    status: str                      # ok | partial | failed
    started_at: datetime
    finished_at: datetime
    rows_fetched: int = 0
    rows_written: int = 0
    rows_rejected: int = 0
    newest_record_at: datetime | None = None
    error: str | None = None
    errors: list[str] = field(default_factory=list)
    written: dict[str, int] = field(default_factory=dict)  # table → rows inserted or changed


class Run:
    """What one run collects before it writes: rows per table, cursors, counts and kept errors."""

    def __init__(self, source: str, cursors: dict[str, str], now: datetime,
                 cancel: threading.Event | None = None, db=None):
        self.source = source
        self.db = db
        self.now = now
        self.cursors = dict(cursors)
        self.new_cursors: dict[str, str] = {}
        self.rows: dict[str, list[dict]] = {}
        self.fetched = 0
        self.rejected = 0
        self.errors: list[str] = []
        self.newest: datetime | None = None
        self.cancel = cancel or threading.Event()

    # cursors
    def cursor(self, resource: str) -> str | None:
        return self.new_cursors.get(resource, self.cursors.get(resource))

    def cursor_time(self, resource: str) -> datetime | None:
        value = self.cursors.get(resource)
        try:
            return parse_instant(value) if value else None
        except ValueError:  # a cursor we cannot read: start over (upserts make that harmless)
            return None

    def set_cursor(self, resource: str, value: str | None) -> None:
        if value is not None:
            self.new_cursors[resource] = value

    # records
    def emit(self, table: str, row: dict) -> None:
        self.rows.setdefault(table, []).append(row)

    def saw(self, n: int = 1, newest: datetime | None = None) -> None:
        self.fetched += n
        if newest is not None and (self.newest is None or newest > self.newest):
            self.newest = newest

    def reject(self, what: str, error: str) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_KEPT_ERRORS:
            self.errors.append(_short(f"{what}: {error}", 200))

    def validate(self, model: type[BaseModel], record: Any, what: str) -> BaseModel | None:
        """The record as `model`, or None after counting it rejected (error without input values,
        so nothing from the payload, let alone a credential, lands in the log)."""
        try:
            return model.model_validate(record)
        except ValidationError as e:
            first = e.errors(include_input=False, include_url=False)[0]
            loc = ".".join(str(x) for x in first["loc"]) or "record"
            self.reject(what, f"{loc}: {first['msg']}")
            return None

    def lookup(self, query: str, params: dict | None = None) -> list[tuple]:
        """Rows of a connectors/sql query against the committed database (mappings, not data)."""
        if self.db is None:
            return []
        with self.db.cursor() as cur:
            return cur.execute(sql(query), params or {}).fetchall()

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise Cancelled("stopping")


class Source(abc.ABC):
    """A configured source. Subclasses set `kind`, `tables` and implement `extract`."""

    kind: ClassVar[str] = ""
    tables: ClassVar[tuple[Table, ...]] = ()
    secret_key: ClassVar[str] = "api_key"

    def __init__(self, source_cfg, config):
        self.name = source_cfg.name
        self.cfg = source_cfg
        self.options = dict(source_cfg.options)
        self.config = config
        self.policy = HttpPolicy.from_options(self.options)

    def secret(self) -> str | None:
        return self.config.secret(self.name, self.secret_key)

    def http_headers(self, secret: str | None) -> dict:
        return {}

    def http_auth(self, secret: str | None):
        return None

    def on_response(self, resp: requests.Response, sleep) -> None:
        """Hook after each response. By default, pace on the common `X-RateLimit-Remaining` /
        `X-RateLimit-Reset` pair (AfterShip's): with the window used up, wait for its reset rather
        than spend a retry on a 429. Shopify overrides this with its call-limit bucket."""
        if resp.headers.get("X-RateLimit-Remaining", "").strip() == "0":
            wait = retry_after_s(resp)
            if wait:
                sleep(min(wait, self.policy.max_backoff_s))

    def make_http(self, cancel: threading.Event | None = None) -> Http:
        secret = self.secret()
        return Http(self.policy, headers=self.http_headers(secret), auth=self.http_auth(secret),
                    secrets=[secret] if secret else [], cancel=cancel, on_response=self.on_response)

    @abc.abstractmethod
    def extract(self, run: Run, http: Http) -> None:
        """Fetch, validate and map records into `run` (emit rows, move cursors)."""

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


# ── bulk upsert ─────────────────────────────────────────────────────────────────────────────────
def _q(ident: str) -> str:
    """Quote an identifier. Only code-declared table/column names reach here, never user input."""
    return '"' + ident.replace('"', '""') + '"'


def to_arrow(rows: list[dict]) -> pa.Table:
    """Rows (dicts, keys may vary) → an Arrow table; a column Arrow cannot type (mixed Python
    types) goes as text and is cast by DuckDB to the target type."""
    columns: dict[str, None] = {}
    for row in rows:
        for k in row:
            columns.setdefault(k, None)
    arrays = {}
    for col in columns:
        values = [row.get(col) for row in rows]
        try:
            arrays[col] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays[col] = pa.array([None if v is None else str(v) for v in values], pa.string())
    return pa.table(arrays)


def upsert(cur: duckdb.DuckDBPyConnection, table: Table, rows: list[dict] | pa.Table) -> int:
    """Write a batch to `table` in the caller's transaction; returns rows inserted or changed.

    The batch is deduplicated on the primary key first (newest `version` wins; ties broken by every
    column, so any permutation or duplication of a batch gives the same result). Merge tables update
    only the columns the batch carries, only when something differs and the stored row is not newer;
    append tables keep the row already stored."""
    staged = rows if isinstance(rows, pa.Table) else to_arrow(rows)
    if staged.num_rows == 0:
        return 0
    types = dict(cur.execute(sql("table_columns"), {"table": table.name}).fetchall())
    cols = list(staged.column_names)
    unknown = [c for c in cols if c not in types]
    missing_key = [k for k in table.primary_key if k not in cols]
    if unknown or missing_key:
        raise ValueError(f"{table.name}: unknown columns {unknown} / missing key {missing_key}")
    stage = f"_stage_{table.name}_{threading.get_ident()}"
    cur.register(stage, staged)
    try:
        select = ", ".join(f"cast({_q(c)} as {types[c]}) as {_q(c)}" for c in cols)
        version = table.version if table.version in cols else None
        order = ([f"{_q(version)} desc nulls last"] if version else []) + [
            f"{_q(c)} asc nulls last" for c in cols if c != version]
        partition = ", ".join(_q(k) for k in table.primary_key)
        body = (f"insert into {_q(table.name)} by name "
                f"select * from (select {select} from {_q(stage)}) "
                f"qualify row_number() over (partition by {partition} order by {', '.join(order)}) = 1 "
                f"on conflict ({partition}) ")
        values = [c for c in cols if c not in table.primary_key]
        if table.write == "append" or not values:
            body += "do nothing"
        else:
            t = _q(table.name)
            sets = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in values)
            changed = (f"({', '.join(f'excluded.{_q(c)}' for c in values)}) is distinct from "
                       f"({', '.join(f'{t}.{_q(c)}' for c in values)})")
            body += f"do update set {sets} where {changed}"
            if version:
                body += f" and coalesce(excluded.{_q(version)} >= {t}.{_q(version)}, true)"
        written = int(cur.execute(body).fetchone()[0])
        if table.write == "replace":
            t = _q(table.name)
            same_key = " and ".join(f"cast(s.{_q(k)} as {types[k]}) = {t}.{_q(k)}" for k in table.primary_key)
            written += int(cur.execute(
                f"delete from {t} where not exists (select 1 from {_q(stage)} as s where {same_key})"
            ).fetchone()[0])
        return written
    finally:
        cur.unregister(stage)


# ── one run ─────────────────────────────────────────────────────────────────────────────────────
def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return f"{type(e).__name__}: {text}" if not isinstance(e, HttpError) else text


def sync(source: Source, db, clock, cancel: threading.Event | None = None) -> RunResult:
    """Run one source once (see the module docstring). Never raises for source errors: a failed
    run is recorded and returned with status `failed`."""
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


def _commit(cur, source: Source, run: Run, clock, attempts: int = 3) -> dict[str, int]:
    """All tables and the new cursors in one transaction (retried on a write-write conflict)."""
    staged = {t.name: to_arrow(run.rows.get(t.name, [])) for t in source.tables}
    for attempt in range(attempts):
        with _WRITE_LOCK:
            cur.execute("begin transaction")
            try:
                written = {t.name: upsert(cur, t, staged[t.name]) for t in source.tables}
                for resource, value in run.new_cursors.items():
                    cur.execute(sql("state_put"), {"source": source.name, "resource": resource,
                                                   "cursor": value, "updated_at": clock.now()})
                cur.execute("commit")
                return written
            except duckdb.TransactionException:
                cur.execute("rollback")
                if attempt == attempts - 1:
                    raise
            except BaseException:
                cur.execute("rollback")
                raise
    return {}  # pragma: no cover - the loop returns or raises
