"""The SQL console's child process: everything an analyst's SQL touches happens here, never in the app.

Started by tower.sql_console with `python -I`, a minimal environment (no secrets) and the request
pickled on stdin. Before any user SQL it opens the published snapshot **read-only** with external
access off (no file, URL or extension), no temp directory, its own memory limit and 1–2 threads, then
locks the configuration; an address-space rlimit and a CPU-time rlimit are a second fence should
DuckDB's own accounting miss an allocation. It answers on stdout with a JSON header and, for a result,
an Arrow IPC stream (data only: the parent never unpickles what untrusted SQL produced).
It never imports pandas: the result goes from DuckDB to Arrow directly, and without pandas the child
starts in half the time (bench/README.md, "SQL console"), the time a query waits for it when the
spare started a moment ago.
"""
from __future__ import annotations

import json
import os
import pickle
import resource
import struct
import sys
import threading
import time

import duckdb
import pyarrow as pa

import queries
from tower import console_guard

HEADROOM_BYTES = 768 * 2**20   # address space over the memory limit for Python and Arrow
FETCH_ROWS = 2048               # one DuckDB vector per Arrow batch: the cap is checked every 2,048 rows


def main() -> None:
    request = pickle.load(sys.stdin.buffer)  # written by the parent (trusted), never by the user
    answer_to = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # nothing else (a library's print) can write into the answer channel
    os.nice(10)    # the app's pages and connectors come first on a busy machine
    header, payload = answer(request)
    answer_to.write(struct.pack(">I", len(header)) + header + payload)
    answer_to.flush()


def answer(request: dict) -> tuple[bytes, bytes]:
    try:
        con = open_snapshot(request["snapshot"], request["memory_limit"], request["threads"])
    except duckdb.Error as e:
        return _header("unavailable", f"The analyst snapshot can't be opened: {e}"), b""
    _fence(request)
    started = time.perf_counter()
    try:
        statements = console_guard.check(request["sql"], con)
        binds = [_binds(names, request["params"]) for _, names in statements]
        table, truncated = _execute(con, statements, binds, request)
    except console_guard.Refused as e:
        return _header("refused", str(e)), b""
    except _TimedOut:
        return _header("timed_out", ""), b""
    except (duckdb.OutOfMemoryException, MemoryError):
        return _header("out_of_memory", ""), b""
    except duckdb.Error as e:
        return _header("failed", str(e).strip() or type(e).__name__), b""
    try:
        payload = _arrow(table)
    except MemoryError:
        return _header("out_of_memory", ""), b""
    if len(payload) > request["max_result_bytes"]:
        return _header("too_large", str(len(payload))), b""
    return _header("ok", "", truncated=truncated, elapsed_s=time.perf_counter() - started,
                   statements=len(statements)), payload


def open_snapshot(path: str, memory_limit: str, threads: int) -> duckdb.DuckDBPyConnection:
    """The console's DuckDB: the snapshot read-only, no file/URL/extension access, no temp files, its
    own memory limit, configuration locked. This is the wall that holds even if the guard is wrong."""
    con = duckdb.connect(path, read_only=True, config={
        "memory_limit": memory_limit, "threads": threads,
        "enable_external_access": False, "temp_directory": "", "max_temp_directory_size": "0B",
        "autoload_known_extensions": False, "autoinstall_known_extensions": False,
        "python_enable_replacements": False,  # `from request` must not scan this process's variables
    })
    con.execute(queries.load("console/lock"))
    return con


def _fence(request: dict) -> None:
    """Address space = what is mapped now + the memory limit + headroom; CPU time = the time limit
    on every thread + a margin. Past either, the kernel stops this process, not the app."""
    mapped = _vm_size()
    limit = mapped + request["memory_bytes"] + HEADROOM_BYTES
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    cpu = int(request["time_limit_s"] * request["threads"]) + 10
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))


def _vm_size() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


class _TimedOut(Exception):
    pass


def _binds(names: frozenset[str], params: dict) -> dict | None:
    missing = sorted(names - set(params))
    if missing:
        known = ", ".join(f"${k}" for k in sorted(params)) or "none"
        raise console_guard.Refused(f"Unknown parameter ${missing[0]} (available: {known}). Nothing was run.")
    return {k: params[k] for k in names} or None


def _execute(con, statements, binds, request) -> tuple[pa.Table, bool]:
    """Run every statement of the script to its end (they are reads: run, so an error in any is
    shown) and return the last one's rows, at most the row cap."""
    timed_out = threading.Event()

    def stop():
        timed_out.set()
        con.interrupt()

    timer = threading.Timer(request["time_limit_s"], stop)
    timer.daemon = True
    timer.start()
    try:
        *earlier, (last, _) = statements
        for (sql, _), bind in zip(earlier, binds):
            con.execute(sql, bind)
            con.complete()
        return _fetch_capped(con.sql(last, params=binds[-1]), request["row_cap"])
    except duckdb.Error:
        if timed_out.is_set():
            raise _TimedOut() from None
        raise
    finally:
        timer.cancel()


def _fetch_capped(relation, row_cap: int) -> tuple[pa.Table, bool]:
    """Stream batches until one row past the cap: a huge result is never materialised (a relation's
    Arrow reader streams; an execute() result's would copy every row first)."""
    batches, total = [], 0
    with relation.to_arrow_reader(FETCH_ROWS) as reader:
        for batch in reader:
            batches.append(batch)
            total += batch.num_rows
            if total > row_cap:
                break
        table = pa.Table.from_batches(batches, schema=reader.schema)
    return table.slice(0, row_cap), total > row_cap


def _arrow(table: pa.Table) -> bytes:
    """The table as an Arrow IPC stream, its column names made unique (`select 1, 1` has two "1"s)."""
    table = table.rename_columns(_unique([str(c) for c in table.column_names]))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _unique(names: list[str]) -> list[str]:
    """Repeated names numbered as DuckDB numbers them in its own frames: a, a_1, a_2."""
    taken, out = set(), []
    for name in names:
        unique, k = name, 0
        while unique in taken:
            k += 1
            unique = f"{name}_{k}"
        taken.add(unique)
        out.append(unique)
    return out


def _header(kind: str, message: str, **extra) -> bytes:
    return json.dumps({"kind": kind, "message": message, **extra}).encode()


if __name__ == "__main__":
    main()
