"""SQL lives in .sql files beside this module; `load("kpi/on_time_rate")` returns one by name.

A file may start with a header comment block (`-- ` lines); `header()` returns it for the KPI
glossary and the schema browser."""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent


@cache
def load(name: str) -> str:
    path = (ROOT / f"{name}.sql").resolve()
    if ROOT not in path.parents:
        raise ValueError(f"query name outside queries/: {name!r}")
    return path.read_text(encoding="utf-8")


def header(name: str) -> str:
    lines = []
    for line in load(name).splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].strip())
    return "\n".join(lines).strip()


def names(folder: str) -> list[str]:
    """Query names in a folder, sorted (migrations rely on the order)."""
    return sorted(f"{folder}/{p.stem}" for p in (ROOT / folder).glob("*.sql"))


# ── the semantic layer ──────────────────────────────────────────────────────────────────────────
LAYER = "kpi"
FACTS = "kpi/_facts"


@cache
def layer() -> list[str]:
    """The semantic layer's files in the order they must be created: the shared facts, then one
    file per KPI (each `create or replace macro kpi_<name>`)."""
    return [FACTS] + [n for n in names(LAYER) if n != FACTS]


def kpi_names() -> list[str]:
    return [n.split("/")[-1] for n in layer() if n != FACTS]


def kpi_call(kpi: str) -> str:
    """The statement that calls KPI `kpi`'s macro with bound parameters ($start, $end, $now, the
    filters, $dimension, $bucket). Only a name of a file in queries/kpi/ is ever put into the SQL."""
    if kpi not in kpi_names():
        raise ValueError(f"unknown KPI {kpi!r}")
    return load("semantic/call").replace("{macro}", f"kpi_{kpi}")


def kpi_calls(kpis: list[str] | tuple[str, ...]) -> str:
    """One statement making every call of `kpis`: rows (slot, value, n), `slot` being the call's
    index in `kpis`. Call i is kpi_call's statement with its parameters renamed `$<name>_<i>`
    ($start_0, $end_0 …). Calls that read the same facts share them: DuckDB plans a repeated subplan
    once (the war-room tiles, kpis.tiles)."""
    calls = []
    for i, kpi in enumerate(kpis):
        code = "\n".join(line.split("--", 1)[0] for line in kpi_call(kpi).splitlines())
        code = re.sub(r"\$([A-Za-z_]\w*)", rf"$\1_{i}", code)
        calls.append(f"select {i} as slot, value::double as value, n::bigint as n from ({code.strip()})")
    return "\nunion all\n".join(calls)
