"""What every vendor format shares: the handler's answer, query parsing, time rendering and
keyset pagination.

Handlers return a `Reply` holding structured data (a JSON-able object, or CSV rows) rather than
bytes, so the server can inject faults (duplicate / shuffled records) into the real shape before
serialising it."""

from __future__ import annotations

import base64
import bisect
import csv
import functools
import io
import json
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Callable, Iterable, Sequence
from zoneinfo import ZoneInfo


def memo_by_record(fn):
    """Cache a formatter per (record, args): world records are frozen dataclasses, so a changed
    record is a new key. Cached dicts are shared: callers copy before changing them."""
    cached = functools.lru_cache(maxsize=50_000)(fn)

    @functools.wraps(fn)
    def wrapper(*args):
        try:
            return cached(*args)
        except TypeError:  # an unhashable record (e.g. a world handing out lists): format afresh
            return fn(*args)

    return wrapper


class BadRequest(ValueError):
    """A query parameter the vendor would refuse; the family's formatter shapes the 4xx body."""

    def __init__(self, param: str, message: str):
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


@dataclass
class Reply:
    status: int = 200
    json: object = None  # JSON-able payload
    csv_rows: list[list] | None = None  # CSV: header row first
    csv_preamble: str = ""  # comment lines written before the CSV header
    headers: dict[str, str] = field(default_factory=dict)
    records_path: tuple = ()  # where the record list sits inside `json` (for faults)
    truncated: bool = False  # the `malformed` fault: send only the first half of the body

    def body(self) -> bytes:
        if self.csv_rows is not None:
            out = io.StringIO()
            out.write(self.csv_preamble)
            csv.writer(out, lineterminator="\n").writerows(self.csv_rows)
            data = out.getvalue().encode()
        else:
            data = json.dumps(self.json, separators=(",", ":")).encode()
        return data[: max(1, len(data) // 2)] if self.truncated else data

    @property
    def content_type(self) -> str:
        return "text/csv; charset=utf-8" if self.csv_rows is not None else "application/json; charset=utf-8"

    def records(self) -> list | None:
        """The list of records in this reply (CSV rows without the header, or the JSON list at
        `records_path`); faults reorder or repeat them in place."""
        if self.csv_rows is not None:
            return None
        node = self.json
        for key in self.records_path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node if isinstance(node, list) else None


class Query:
    """Query-string access with vendor-style validation (bad values raise BadRequest)."""

    def __init__(self, params: dict[str, list[str]]):
        self.params = params

    def keys(self) -> set[str]:
        return set(self.params)

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self.params.get(name)
        return values[-1] if values else default

    def all(self, name: str) -> list[str]:
        return self.params.get(name, [])

    def csv_set(self, name: str) -> set[str] | None:
        raw = self.get(name)
        if raw is None or raw.strip() == "":
            return None
        return {v.strip() for v in raw.split(",") if v.strip()}

    def int(self, name: str, default: int, lo: int = 1, hi: int | None = None, clamp: bool = False) -> int:
        raw = self.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise BadRequest(name, f"must be an integer, got {raw!r}") from None
        if value < lo:
            raise BadRequest(name, f"must be >= {lo}")
        if hi is not None and value > hi:
            if clamp:
                return hi
            raise BadRequest(name, f"must be <= {hi}")
        return value

    def time(self, name: str) -> datetime | None:
        raw = self.get(name)
        if raw is None or raw == "":
            return None
        return parse_time(raw, name)

    def unix(self, name: str) -> datetime | None:
        raw = self.get(name)
        if raw is None or raw == "":
            return None
        try:
            return datetime.fromtimestamp(int(raw), timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise BadRequest(name, f"must be a unix timestamp, got {raw!r}") from None


def parse_time(raw: str, name: str = "time") -> datetime:
    """ISO-8601 with or without offset (naive = UTC), 'Z' accepted; a bare date is midnight UTC."""
    text = raw.strip().replace(" ", "T") if "T" not in raw else raw.strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(name, f"is not an ISO-8601 date-time: {raw!r}") from None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


@functools.lru_cache(maxsize=1 << 16)  # the same instants recur across records and requests
def iso_utc(dt: datetime | None) -> str | None:
    """'2026-11-23T08:00:00+00:00' (AfterShip style: seconds, explicit +00:00)."""
    if dt is None:
        return None
    return dt.astimezone(timezone.utc).replace(microsecond=0).isoformat()


@functools.lru_cache(maxsize=1 << 16)
def iso_z(dt: datetime | None) -> str | None:
    """'2026-11-23T08:00:00Z'."""
    if dt is None:
        return None
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_in_zone(dt: datetime | None, zone: str) -> str | None:
    """Local time with its offset, as Shopify renders shop times: '2026-11-23T03:00:00-05:00'."""
    if dt is None:
        return None
    return dt.astimezone(ZoneInfo(zone)).replace(microsecond=0).isoformat()


def day(dt: datetime | date | None) -> str | None:
    if dt is None:
        return None
    return dt.strftime("%Y-%m-%d")


def money(value: float) -> str:
    """Vendors send amounts as decimal strings with two places."""
    return f"{value:.2f}"


# --- keyset pagination ------------------------------------------------------------------------
# A page token carries the sort key of the last record served, the filters of the first page and
# the instant the walk began: later pages only show records updated up to that instant, so a walk
# serves each record at most once even while the world keeps changing (a record updated during
# the walk shows up in the next incremental pull instead).


def encode_token(state: dict) -> str:
    raw = zlib.compress(json.dumps(state, separators=(",", ":"), sort_keys=True).encode(), 9)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, param: str) -> dict:
    try:
        padded = token + "=" * (-len(token) % 4)
        state = json.loads(zlib.decompress(base64.urlsafe_b64decode(padded.encode())))
        if (
            not isinstance(state, dict)
            or "asof" not in state
            or "after" not in state
            or not isinstance(state.get("f"), dict)
            or not (
                state["after"] is None
                or (
                    isinstance(state["after"], list)
                    and len(state["after"]) == 2
                    and isinstance(state["after"][0], int)
                    and isinstance(state["after"][1], str)
                )
            )
        ):
            raise ValueError
        return state
    except (ValueError, TypeError, zlib.error):
        raise BadRequest(param, "invalid value") from None


def sort_key(updated_at: datetime, ident) -> list:
    """[microseconds since the epoch, id as a string that sorts like the id]."""
    micros = (updated_at - _EPOCH) // _MICROSECOND
    return [micros, str(ident).zfill(24) if isinstance(ident, int) else str(ident)]


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def parsed_times(f: dict) -> dict:
    """A walk's filters with their ISO bounds (`*_min`, `*_max`) parsed once per request."""
    return {
        k: datetime.fromisoformat(v) if isinstance(v, str) and k.endswith(("_min", "_max")) else v
        for k, v in f.items()
    }


@dataclass
class Page:
    items: list
    total: int
    next_token: str | None


def keyset_page(records: Iterable, key: Callable[[object], list], limit: int, state: dict) -> Page:
    """Records sorted by `key`, those after `state['after']` (None = from the start), `limit` of them.
    `state` (filters + asof) is carried into the next token."""
    keyed = sorted(((key(r), r) for r in records), key=lambda kr: kr[0])
    after = state.get("after")
    start = 0 if after is None else bisect.bisect_right([k for k, _ in keyed], after)
    chunk = keyed[start : start + limit]
    next_token = None
    if start + limit < len(keyed):
        next_token = encode_token({**state, "after": chunk[-1][0]})
    return Page([r for _, r in chunk], len(keyed), next_token)


def within(value: datetime | None, lo: datetime | None, hi: datetime | None) -> bool:
    if value is None:
        return lo is None and hi is None
    return (lo is None or value >= lo) and (hi is None or value <= hi)


def csv_reply(header: Sequence[str], rows: Iterable[Sequence], preamble: str = "") -> Reply:
    return Reply(csv_rows=[list(header), *[list(r) for r in rows]], csv_preamble=preamble)
