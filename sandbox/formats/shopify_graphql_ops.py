"""Shopify GraphQL Admin API, the stateful part: cost-based throttling, bulk operations and the
sandbox's knobs for them (sandbox/formats/shopify_graphql.py holds the schema and the objects).

Throttling: one leaky bucket of query-cost points per shop (wall clock): `maximumAvailable` 2000,
restoring 100 points a second (Shopify's standard plan); a single query may cost at most 1000 (or
the bucket's size, if smaller: MAX_COST_EXCEEDED). A
query whose requested cost exceeds what is available gets `errors: [{message: "Throttled",
extensions: {code: "THROTTLED"}}]` and no `data` (HTTP 200, or 429 when so configured). Every
answer carries `extensions.cost {requestedQueryCost, actualQueryCost, throttleStatus}`.

Bulk operations: `bulkOperationRunQuery(query:)` validates the inner query and runs it in the
background over the world as of now (every record, no `first`), keeping the JSONL: one object a line, rows of a
nested connection as their own lines with `__parentId`. The operation reads CREATED, then RUNNING,
then its outcome (after `bulk_seconds` of wall time and the query's end); a COMPLETED one has a `url` valid for `url_ttl_s`
seconds (then 403), a FAILED one an `errorCode`, an EXPIRED one no url.

`POST /_sandbox/shopify-graphql` sets knobs (`maximum_available`, `restore_rate`, `throttle_status`,
`bulk_seconds`, `url_ttl_s`, `bulk_outcome` + `bulk_outcome_count`, `respond` + `respond_count` +
`respond_skip`: a canned `{status, body}` for `respond_count` requests after `respond_skip` normal
ones); GET reads them with the request log (each request's cost and whether it was throttled) and
the bulk operations run; DELETE resets knobs and log."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import graphql

from sandbox.formats import shopify_graphql as gql
from sandbox.formats import shopify_graphql_writes as writes
from sandbox.formats.base import Reply, iso_z

MAX_QUERY_COST = 1000
DEFAULTS = {"maximum_available": 2000.0, "restore_rate": 100.0, "throttle_status": 200, "bulk_seconds": 0.1,
            "url_ttl_s": 7 * 24 * 3600.0, "bulk_outcome": "COMPLETED", "bulk_outcome_count": 0,
            "respond": None, "respond_count": 0, "respond_skip": 0}
OUTCOMES = ("COMPLETED", "FAILED", "EXPIRED", "CANCELED")


@dataclass
class JsonlReply(Reply):
    """A JSONL file (bulk operation results)."""
    text: str = ""

    def body(self) -> bytes:
        return self.text.encode()

    @property
    def content_type(self) -> str:
        return "application/jsonl"


@dataclass
class BulkOp:
    ident: int
    shop: str
    query: str
    created_at: str
    started: float                 # wall clock
    outcome: str
    jsonl: str = ""
    objects: int = 0
    roots: int = 0
    finished: threading.Event = field(default_factory=threading.Event)  # the result file is written

    def run(self, inner, root, ctx) -> None:
        """Execute the bulk query (in the background, as Shopify does) and keep its JSONL."""
        result = graphql.execute(gql.SCHEMA, inner, root_value=root, context_value=ctx)
        if result.errors:
            self.outcome = "FAILED"
        else:
            lines, self.roots = jsonl_lines(result.data)
            self.jsonl = "".join(json.dumps(x, separators=(",", ":")) + "\n" for x in lines)
            self.objects = len(lines)
        self.finished.set()


@dataclass
class Service:
    wall: Callable[[], float] = time.time
    knobs: dict = field(default_factory=lambda: dict(DEFAULTS))
    log: list = field(default_factory=list)                # {"shop", "cost", "throttled"}
    _buckets: dict = field(default_factory=dict)           # shop -> (available, at)
    _ops: dict = field(default_factory=dict)               # id -> BulkOp
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- knobs --------------------------------------------------------------------------------
    def control(self, method: str, body: bytes) -> Reply:
        with self._lock:
            if method == "DELETE":
                self.knobs, self.log, self._buckets = dict(DEFAULTS), [], {}
            elif method == "POST":
                try:
                    changes = json.loads(body or b"{}")
                    if not isinstance(changes, dict) or set(changes) - set(DEFAULTS):
                        raise ValueError(f"known knobs: {', '.join(DEFAULTS)}")
                    if changes.get("bulk_outcome", "COMPLETED") not in OUTCOMES:
                        raise ValueError(f"bulk_outcome must be one of {', '.join(OUTCOMES)}")
                except ValueError as e:
                    return Reply(400, {"error": str(e)})
                self.knobs.update(changes)
                self._buckets = {}  # a new bucket size starts full
            ops = [{"id": gql.gid("BulkOperation", o.ident), "shop": o.shop, "outcome": o.outcome,
                    "objects": o.objects} for o in self._ops.values()]
            return Reply(200, {"knobs": self.knobs, "requests": list(self.log), "bulk_operations": ops})

    # --- the bucket ---------------------------------------------------------------------------
    def _take(self, shop: str, requested: int) -> tuple[bool, float]:
        size, rate = float(self.knobs["maximum_available"]), float(self.knobs["restore_rate"])
        now = self.wall()
        available, at = self._buckets.get(shop, (size, now))
        available = min(size, available + (now - at) * rate)
        allowed = requested <= available
        if allowed:
            available -= requested
        self._buckets[shop] = (available, now)
        return allowed, available

    def _refund(self, shop: str, points: float) -> float:
        available, at = self._buckets[shop]
        available = min(float(self.knobs["maximum_available"]), available + points)
        self._buckets[shop] = (available, at)
        return available

    def _cost(self, requested: int, actual: int, available: float) -> dict:
        return {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": {
            "maximumAvailable": float(self.knobs["maximum_available"]),
            "currentlyAvailable": int(available), "restoreRate": float(self.knobs["restore_rate"])}}

    # --- one request --------------------------------------------------------------------------
    def execute(self, world, merchant, now, body: bytes, host: str) -> Reply:
        with self._lock:
            if self.knobs["respond_count"] > 0 and self.knobs["respond_skip"] > 0:
                self.knobs["respond_skip"] -= 1
            elif self.knobs["respond_count"] > 0:
                self.knobs["respond_count"] -= 1
                canned = self.knobs["respond"] or {}
                self.log.append({"shop": merchant.shop, "cost": 0, "throttled": False, "canned": True})
                return Reply(int(canned.get("status", 200)), canned.get("body"))
        try:
            payload = json.loads(body or b"{}")
            query, variables = payload["query"], payload.get("variables") or {}
            if not isinstance(query, str) or not isinstance(variables, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return Reply(400, {"errors": [{"message": "Bad Request: body must be JSON with a query string"}]})
        try:
            document = graphql.parse(query)
            invalid = graphql.validate(gql.SCHEMA, document)
        except graphql.GraphQLError as e:
            invalid = [e]
        if invalid:
            return self._refused(merchant.shop, 0, [e.formatted for e in invalid])
        requested = gql.query_cost(document, variables, payload.get("operationName"))
        limit = int(min(MAX_QUERY_COST, float(self.knobs["maximum_available"])))
        if requested > limit:
            return self._refused(merchant.shop, requested, [{
                "message": f"Query cost is {requested}, which exceeds the single query max cost limit "
                           f"({limit}).", "extensions": {"code": "MAX_COST_EXCEEDED"}}])
        with self._lock:
            allowed, available = self._take(merchant.shop, requested)
            self.log.append({"shop": merchant.shop, "cost": requested, "throttled": not allowed})
            if not allowed:
                return Reply(int(self.knobs["throttle_status"]), {
                    "errors": [{"message": "Throttled", "extensions": {
                        "code": "THROTTLED",
                        "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                    "extensions": {"cost": self._cost(requested, 0, available)}})
        ctx = gql.context(world, merchant, now)
        root = {**gql.root(ctx), **self._bulk_fields(ctx, host), **writes.fields(ctx)}
        result = graphql.execute(gql.SCHEMA, document, root_value=root, context_value=ctx,
                                 variable_values=variables, operation_name=payload.get("operationName"))
        actual = gql.actual_cost(result.data, requested) if requested != 10 else 10
        with self._lock:
            available = self._refund(merchant.shop, requested - actual)
        out = {"data": result.data} if result.data is not None else {}
        if result.errors:
            out["errors"] = [e.formatted for e in result.errors]
        out["extensions"] = {"cost": self._cost(requested, actual, available)}
        return Reply(200, out)

    def _refused(self, shop: str, requested: int, errors: list) -> Reply:
        """A query that is not run (invalid, too costly): errors, no data, the bucket untouched."""
        with self._lock:
            _, available = self._take(shop, 0)
        return Reply(200, {"errors": errors, "extensions": {"cost": self._cost(requested, 0, available)}})

    # --- bulk operations ----------------------------------------------------------------------
    def _bulk_fields(self, ctx, host: str) -> dict:
        shop = ctx["merchant"].shop

        def run_query(info, query, groupObjects=False):
            try:
                inner = graphql.parse(query)
            except graphql.GraphQLError as e:
                return {"bulkOperation": None, "userErrors": [
                    {"field": ["query"], "message": f"Invalid bulk query: {e.message}", "code": "INVALID"}]}
            errors = graphql.validate(gql.SCHEMA, inner)
            if errors:
                return {"bulkOperation": None, "userErrors": [
                    {"field": ["query"], "message": f"Invalid bulk query: {errors[0].message}", "code": "INVALID"}]}
            bulk_ctx = {**ctx, "bulk": True}
            with self._lock:
                outcome = "COMPLETED"
                if self.knobs["bulk_outcome_count"] > 0:
                    self.knobs["bulk_outcome_count"] -= 1
                    outcome = self.knobs["bulk_outcome"]
                op = BulkOp(len(self._ops) + 1, shop, query, iso_z(ctx["now"]), self.wall(), outcome)
                self._ops[op.ident] = op
            threading.Thread(target=op.run, args=(inner, gql.root(bulk_ctx), bulk_ctx), daemon=True,
                             name=f"bulk-{op.ident}").start()
            return {"bulkOperation": self._op_json(op, host), "userErrors": []}

        def by_id(info, id):
            with self._lock:
                op = next((o for o in self._ops.values()
                           if o.shop == shop and gql.gid("BulkOperation", o.ident) == id), None)
            return self._op_json(op, host) if op else None

        def current(info, type="QUERY"):
            with self._lock:
                mine = [o for o in self._ops.values() if o.shop == shop]
            return self._op_json(mine[-1], host) if mine and type == "QUERY" else None

        return {"bulkOperationRunQuery": run_query, "bulkOperation": by_id, "currentBulkOperation": current}

    def _op_json(self, op: BulkOp, host: str) -> dict:
        elapsed = self.wall() - op.started
        delay = float(self.knobs["bulk_seconds"])
        if elapsed < delay / 3:
            status = "CREATED"
        else:
            status = "RUNNING" if elapsed < delay or not op.finished.is_set() else op.outcome
        done = status == "COMPLETED"
        expires = int(op.started + delay + float(self.knobs["url_ttl_s"]))
        url = f"http://{host}/shopify/{op.shop}/bulk/{op.ident}.jsonl?expires={expires}" if done else None
        return {
            "id": gql.gid("BulkOperation", op.ident), "status": status, "type": "QUERY", "query": op.query,
            "errorCode": "INTERNAL_SERVER_ERROR" if status == "FAILED" else None,
            "createdAt": op.created_at, "completedAt": op.created_at if done else None,
            "objectCount": op.objects if done else 0, "rootObjectCount": op.roots if done else 0,
            "fileSize": len(op.jsonl.encode()) if done else None, "url": url, "partialDataUrl": None,
        }

    def download(self, shop: str, ident: int, expires: str | None) -> Reply:
        """The JSONL behind a bulk operation's url (a signed-URL stand-in: 403 once expired)."""
        with self._lock:
            op = self._ops.get(ident)
        if op is None or op.shop != shop or op.outcome != "COMPLETED" or not op.finished.is_set():
            return Reply(404, {"error": "NoSuchKey"})
        try:
            deadline = int(expires or "")
        except ValueError:
            return Reply(403, {"error": "AccessDenied: missing expires"})
        if self.wall() > deadline:
            return Reply(403, {"error": "ExpiredToken: Request has expired"})
        return JsonlReply(200, text=op.jsonl)


def jsonl_lines(data: dict) -> tuple[list[dict], int]:
    """Bulk results as Shopify writes them: each node of the top connection a line, each node of a
    nested connection its own line with `__parentId` (the id of the node it belongs to)."""
    out: list[dict] = []
    top = next(iter(data.values())) if data else None
    nodes = _nodes(top)

    def emit(node: dict, parent: str | None) -> None:
        row, children = {}, []
        for key, value in node.items():
            is_connection = isinstance(value, dict) and ("nodes" in value or "edges" in value)
            inner = _nodes(value) if is_connection else None
            if inner is not None:
                children.extend(inner)
            else:
                row[key] = value
        if parent is not None:
            row["__parentId"] = parent
        out.append(row)
        for child in children:
            emit(child, node.get("id"))
    for node in nodes:
        emit(node, None)
    return out, len(nodes)


def _nodes(conn) -> list[dict]:
    if not isinstance(conn, dict):
        return []
    if isinstance(conn.get("nodes"), list):
        return conn["nodes"]
    if isinstance(conn.get("edges"), list):
        return [e["node"] for e in conn["edges"] if isinstance(e, dict) and "node" in e]
    return []
