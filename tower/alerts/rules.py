"""Running alert rules: each is queries/alerts/<name>.sql returning
(severity, entity_type, entity_id, title, detail, metric, threshold)."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import queries

COLUMNS = ("severity", "entity_type", "entity_id", "title", "detail", "metric", "threshold")
SEVERITY_RANK = {"yellow": 1, "red": 2}
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)", re.IGNORECASE)


def bound(sql: str, params: dict) -> dict:
    """The subset of `params` that `sql` refers to. DuckDB rejects unused named parameters, and a
    missing one is a config mistake worth a clear message, not a crash."""
    wanted = set(_PARAM.findall(sql))
    missing = wanted - params.keys()
    if missing:
        raise KeyError(f"missing parameters {sorted(missing)}")
    return {k: params[k] for k in wanted}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    entity_type: str
    entity_id: str
    title: str
    detail: str | None
    metric: float | None
    threshold: float | None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule, self.entity_type, self.entity_id)


def _number(value) -> float | None:
    if value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) or math.isinf(x) else x


def run(cur, rule: str, params: dict) -> list[Finding]:
    """Run one rule; rows with an unknown severity or no entity are dropped (a rule bug must not
    invent alerts). Several rows for one entity collapse into the most severe."""
    sql = queries.load(f"alerts/{rule}")
    rows = cur.execute(sql, bound(sql, params)).fetchall()
    names = [d[0] for d in cur.description]
    if tuple(names[: len(COLUMNS)]) != COLUMNS:
        raise ValueError(f"rule {rule} returns {names}, expected {list(COLUMNS)}")
    best: dict[tuple, Finding] = {}
    for row in rows:
        severity, entity_type, entity_id, title, detail, metric, threshold = row[: len(COLUMNS)]
        if severity not in SEVERITY_RANK or entity_id is None or entity_type is None:
            continue
        f = Finding(rule, severity, str(entity_type), str(entity_id), str(title or rule),
                    None if detail is None else str(detail), _number(metric), _number(threshold))
        old = best.get(f.key)
        if old is None or SEVERITY_RANK[f.severity] > SEVERITY_RANK[old.severity]:
            best[f.key] = f
    return list(best.values())
