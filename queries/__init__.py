"""SQL lives in .sql files beside this module; `load("kpi/on_time_rate")` returns one by name.

A file may start with a header comment block (`-- ` lines); `header()` returns it for the KPI
glossary and the schema browser."""
from __future__ import annotations

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
