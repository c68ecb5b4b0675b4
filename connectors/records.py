"""What one run collects before it writes: the target tables, the vendor payload models and their
validation, rows per table, cursors, counts and the few errors kept for the run log."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

import queries
from connectors.http import Cancelled, short as _short
from connectors.timezones import parse_instant

MAX_KEPT_ERRORS = 5


def sql(name: str) -> str:
    """A statement from queries/connectors/<name>.sql."""
    return queries.load(f"connectors/{name}")


# A timestamp field in a vendor payload: ISO-8601 (offset-less = UTC), unix seconds, or a datetime.
Instant = Annotated[datetime, BeforeValidator(parse_instant)]


class Record(BaseModel):
    """Base of the vendor payload models: unknown fields are ignored (vendors add fields freely)."""
    model_config = ConfigDict(extra="ignore")


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
            raise Cancelled()


