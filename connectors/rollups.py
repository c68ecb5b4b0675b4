"""Hourly rollups of the order, survey and order-line facts (migration 019), kept in step with the
raw tables inside the writer's transaction (registered in connectors/derived.py).

A batch changes the facts of some orders or survey answers. `before` notes which ones (a shipment or
a return moved to another order touches the old order too) and the rollup hours they counted in
until now; `after` recomputes those orders' rows of rollup_orders from the raw rows, adds the hours
they count in now, and recomputes exactly those hours of the hourly tables (rollup_lines, the
per-line rows, follow the orders and lines the same way). `rebuild` recomputes
everything. All SQL is in queries/rollups/; `{orders}` there is a list of order ids bound by
queries.dynamic.in_list (looked up by key, not hash-joined with the whole table)."""
from __future__ import annotations

from dataclasses import dataclass, field

import queries
from queries.dynamic import in_list

# The raw tables whose rows feed the facts, and which rollup hours a write of each can move.
ORDER_KINDS = frozenset({"delivered", "shipped"})
SURVEY_KINDS = frozenset({"nps", "csat"})
KINDS = {
    "orders": ORDER_KINDS | SURVEY_KINDS | {"line"},   # dimensions, times, cancellation
    "shipments": ORDER_KINDS | SURVEY_KINDS,            # delivery, carrier (a survey dimension)
    "returns": ORDER_KINDS,
    "order_lines": frozenset({"line"}),
    "nps_responses": frozenset({"nps"}),
    "csat_responses": frozenset({"csat"}),
    "forecasts": frozenset({"forecast"}),               # keyed by its period: no hour moves
}
SURVEYS = {"nps_responses": "nps", "csat_responses": "csat"}
TABLES = tuple(KINDS)
PER_ORDER = {"orders", "shipments", "returns"}  # tables rollup_orders is made of
PER_LINE = {"orders", "order_lines"}             # tables rollup_lines is made of
PER_ANSWER = {"orders", "shipments", "nps_responses", "csat_responses"}  # rollup_answers (with the order's dimensions)


@dataclass
class Touched:
    orders: set = field(default_factory=set)
    answers: dict = field(default_factory=lambda: {"nps": set(), "csat": set()})
    hours: dict = field(default_factory=dict)  # kind -> set of hour starts


def stage_values(cur, stage: str, column: str) -> set:
    """The distinct non-NULL values of one column of the staged batch (none if it lacks it)."""
    rel = cur.table(stage)
    if column not in rel.columns:
        return set()
    return {v for (v,) in rel.project(column).distinct().fetchall() if v is not None}


def stored_orders(cur, name: str, ids: set) -> set:
    return {r[0] for r in cur.execute(queries.load(name), {"ids": sorted(ids)}).fetchall()}


def touched(cur, table: str, stage: str) -> Touched:
    """The orders and answers whose facts a batch of `table` can change, as the rows stand now."""
    t = Touched()
    if table in ("orders", "order_lines"):
        t.orders = stage_values(cur, stage, "order_id")
    elif table == "shipments":
        t.orders = (stored_orders(cur, "rollups/orders_of_shipments", stage_values(cur, stage, "shipment_id"))
                    | stage_values(cur, stage, "order_id"))
    elif table == "returns":
        t.orders = (stored_orders(cur, "rollups/orders_of_returns", stage_values(cur, stage, "return_id"))
                    | stage_values(cur, stage, "order_id"))
    elif table in SURVEYS:
        t.answers[SURVEYS[table]] = stage_values(cur, stage, "response_id")
    return t


def add_hours(cur, t: Touched, kinds: frozenset) -> None:
    """Add to `t.hours` the hours (of `kinds`) its orders and answers count in now."""
    rows = cur.execute(*in_list(queries.load("rollups/hours_of"), answer_ids(t), orders=sorted(t.orders))).fetchall()
    for kind, hour in rows:
        if kind in kinds:
            t.hours.setdefault(kind, set()).add(hour)


def before(cur, table: str, stage: str) -> Touched:
    if table == "forecasts":
        return Touched()
    t = touched(cur, table, stage)
    add_hours(cur, t, KINDS[table])
    return t


def after(cur, table: str, stage: str, t: Touched) -> None:
    if table == "forecasts":
        refresh(cur, {"forecast": stage_values(cur, stage, "period_start")}, everything=False)
        return
    now = touched(cur, table, stage)  # a shipment or return may carry another order now
    t.orders |= now.orders
    for survey, ids in now.answers.items():
        t.answers[survey] |= ids
    params = {"all": False, "orders": sorted(t.orders)}
    if table in PER_ORDER and t.orders:
        per_order(cur, ("rollups/orders_delete", "rollups/orders_insert"), params)
    if table in PER_ANSWER:
        cur.execute(queries.load("rollups/answers_delete"), {**params, **answer_ids(t)})
        cur.execute(queries.load("rollups/answers_insert"), {**params, **answer_ids(t)})
    if table in PER_LINE and t.orders:
        per_order(cur, ("rollups/lines_delete", "rollups/lines_insert"), params)
    add_hours(cur, t, KINDS[table])
    refresh(cur, t.hours, everything=False)


def per_order(cur, names: tuple[str, ...], params: dict) -> None:
    """Run the statements `names`, whose `{orders}` are the orders in params["orders"] (every order
    when params["all"]), bound as a list DuckDB can look up by key (queries.dynamic.in_list)."""
    for name in names:
        cur.execute(*in_list(queries.load(name), {"all": params["all"]}, orders=params["orders"]))


def answer_ids(t: Touched) -> dict:
    return {"nps_ids": sorted(t.answers["nps"]), "csat_ids": sorted(t.answers["csat"])}


def hour_list(hours: dict, kind: str) -> list:
    return sorted(hours.get(kind, ()))


def refresh(cur, hours: dict, everything: bool) -> None:
    """Delete and recompute the rows of the given hours (every row when `everything`) of the hourly
    tables, from rollup_orders and the raw rows."""
    if everything or hours.get("delivered") or hours.get("shipped"):
        params = {"all": everything, "delivered": hour_list(hours, "delivered"),
                  "shipped": hour_list(hours, "shipped")}
        cur.execute(queries.load("rollups/order_hours_delete"), params)
        cur.execute(queries.load("rollups/order_hours_insert"), params)
    if everything or hours.get("nps") or hours.get("csat"):
        params = {"all": everything, "nps": hour_list(hours, "nps"), "csat": hour_list(hours, "csat")}
        cur.execute(queries.load("rollups/survey_hours_delete"), params)
        cur.execute(queries.load("rollups/survey_hours_insert"), params)
    if everything or hours.get("forecast"):
        params = {"all": everything, "periods": hour_list(hours, "forecast")}
        cur.execute(queries.load("rollups/forecast_hours_delete"), params)
        cur.execute(queries.load("rollups/forecast_hours_insert"), params)
    if everything or hours.get("line"):
        params = {"all": everything, "hours": hour_list(hours, "line")}
        cur.execute(queries.load("rollups/line_hours_delete"), params)
        cur.execute(queries.load("rollups/line_hours_insert"), params)


def rebuild(cur) -> None:
    """Recompute every rollup table from the raw rows."""
    params = {"all": True, "orders": []}
    per_order(cur, ("rollups/orders_delete", "rollups/orders_insert", "rollups/lines_delete",
                    "rollups/lines_insert"), params)
    ids = {"nps_ids": [], "csat_ids": []}
    cur.execute(queries.load("rollups/answers_delete"), {**params, **ids})
    cur.execute(queries.load("rollups/answers_insert"), {**params, **ids})
    refresh(cur, {}, everything=True)

