"""DCSA Track & Trace 2.2: `GET /v2/events` (served under /dcsa/v2/events), bearer token.

Shapes follow the DCSA OpenAPI (TNT 2.2): a JSON array of events, each with `eventID`,
`eventCreatedDateTime`, `eventDateTime`, `eventType` (SHIPMENT | TRANSPORT | EQUIPMENT),
`eventClassifierCode` (PLN | EST | ACT), `documentReferences` and `references`. TRANSPORT events carry
`transportEventTypeCode` (ARRI | DEPA) and a `transportCall` (UNLocationCode, facilityTypeCode, modeOfTransport,
location with latitude/longitude as strings, vessel); EQUIPMENT events `equipmentEventTypeCode`,
`equipmentReference`, `emptyIndicatorCode` and `eventLocation`; SHIPMENT events
`shipmentEventTypeCode` and `documentTypeCode`. Filters: eventType (comma list), equipmentReference,
carrierBookingReference, UNLocationCode, eventCreatedDateTime:gte|gt|lte|lt|eq, limit, cursor.
Paging: `Next-Page` (absent on the last page) and `Current-Page` headers holding full URLs.
Events are ordered by eventCreatedDateTime then eventID; a walk never shows events created after
its first page (they come with the next incremental pull)."""

from __future__ import annotations

import uuid
from datetime import datetime
from urllib.parse import urlencode

from sandbox import catalog as cat
from sandbox.formats.base import BadRequest, Query, Reply, decode_token, iso_z, keyset_page, sort_key
from sandbox.world_ocean import CARRIER_CODES, Milestone, Voyage

API_VERSION = "2.2.0"
MAX_LIMIT = 1000
EVENT_TYPES = {"SHIPMENT", "TRANSPORT", "EQUIPMENT"}
_OPERATORS = ("gte", "gt", "lte", "lt", "eq")
_NS = uuid.UUID("6f1c2a44-3d0e-4d55-9a52-0d2c1f0f7d11")


def error(status: int, reason: str, message: str, uri: str = "/v2/events") -> Reply:
    texts = {400: "Bad Request", 401: "Unauthorized", 429: "Too Many Requests", 500: "Internal Server Error"}
    return Reply(status, {"httpMethod": "GET", "requestUri": uri, "statusCode": status,
                          "statusCodeText": texts.get(status, "Error"), "errorDateTime": None,
                          "errors": [{"reason": reason, "message": message}]})


def unauthorized() -> Reply:
    return error(401, "unauthorized", "Missing or invalid bearer token")


def bad_request(exc: BadRequest) -> Reply:
    return error(400, "invalidQuery", f"{exc.param}: {exc.message}")


def rate_limited() -> Reply:
    return error(429, "tooManyRequests", "Rate limit exceeded")


def server_error() -> Reply:
    return error(500, "internalError", "Internal error")


# --- events of one voyage -----------------------------------------------------------------------


def _event_id(v: Voyage, kind: str, n: int) -> str:
    return str(uuid.uuid5(_NS, f"{v.track_id}:{kind}:{n}"))


def _location(node: str) -> dict:
    spec = cat.NODE_BY_ID[node]
    return {"locationName": spec.name, "latitude": f"{spec.place.lat:.4f}", "longitude": f"{spec.place.lon:.4f}",
            "UNLocationCode": node}


def _transport_call(v: Voyage, node: str) -> dict:
    seq = 1 if node == v.pol else 2
    return {
        "transportCallID": str(uuid.uuid5(_NS, f"{v.vessel_imo}:{v.voyage_number}:{node}")),
        "transportCallReference": f"{v.voyage_number}-{node}", "transportCallSequenceNumber": seq,
        "carrierServiceCode": "AE7" if v.pod.startswith("NL") else "TP1",
        "exportVoyageNumber": v.voyage_number, "importVoyageNumber": v.voyage_number,
        "UNLocationCode": node, "facilityTypeCode": "POTE", "modeOfTransport": "VESSEL",
        "location": _location(node),
        "vessel": {"vesselIMONumber": v.vessel_imo, "vesselName": v.vessel_name, "vesselFlag": "DK"
                   if v.carrier == "maersk" else "HK", "vesselCallSignNumber": f"V{v.vessel_imo[-5:]}",
                   "vesselOperatorCarrierCode": CARRIER_CODES.get(v.carrier, "MAEU"),
                   "vesselOperatorCarrierCodeListProvider": "SMDG"},
    }


def _common(v: Voyage, event_id: str, event_type: str, classifier: str, created: datetime,
            at: datetime) -> dict:
    refs = [{"referenceType": "EQ", "referenceValue": v.container}]
    if v.po_number:
        refs.append({"referenceType": "PO", "referenceValue": v.po_number})
    return {"eventID": event_id, "eventType": event_type, "eventClassifierCode": classifier,
            "eventCreatedDateTime": iso_z(created), "eventDateTime": iso_z(at),
            "documentReferences": [{"documentReferenceType": "BKG", "documentReferenceValue": v.booking},
                                   {"documentReferenceType": "TRD", "documentReferenceValue": v.bill_of_lading}],
            "references": refs}


def _transport(v, event_id, classifier, code, node, created, at, delay: str | None = None) -> dict:
    out = _common(v, event_id, "TRANSPORT", classifier, created, at)
    out.update({"transportEventTypeCode": code, "delayReasonCode": delay, "changeRemark": None,
                "transportCall": _transport_call(v, node)})
    return out


def _equipment(v, event_id, code, node, created, at, laden: bool = True) -> dict:
    out = _common(v, event_id, "EQUIPMENT", "ACT", created, at)
    out.update({"equipmentEventTypeCode": code, "equipmentReference": v.container, "ISOEquipmentCode": "45G1",
                "emptyIndicatorCode": "LADEN" if laden else "EMPTY", "eventLocation": _location(node),
                "transportCall": _transport_call(v, node)})
    return out


def _shipment(v, event_id, code, document, created, at) -> dict:
    out = _common(v, event_id, "SHIPMENT", "ACT", created, at)
    out.update({"shipmentEventTypeCode": code, "documentTypeCode": document,
                "documentID": v.booking if document == "BKG" else v.bill_of_lading, "reason": None})
    return out


def _milestone_events(v: Voyage, m: Milestone, current_eta: datetime | None) -> list[dict]:
    eid = lambda kind: _event_id(v, kind, m.index)
    if m.what == "booked":
        return [_shipment(v, eid("conf"), "CONF", "BKG", m.recorded_at, m.at),
                _transport(v, eid("pln-depa"), "PLN", "DEPA", v.pol, m.recorded_at, v.planned_departure)]
    if m.what == "gate_in":
        return [_equipment(v, eid("gtin"), "GTIN", m.node, m.recorded_at, m.at)]
    if m.what == "departure_delayed":
        return [_transport(v, eid("est-depa"), "EST", "DEPA", m.node, m.recorded_at, m.at, delay="CGT")]
    if m.what == "departed":
        out = [_equipment(v, eid("load"), "LOAD", m.node, m.recorded_at, m.at),
               _transport(v, eid("act-depa"), "ACT", "DEPA", m.node, m.recorded_at, m.at)]
        if current_eta is not None:  # on sailing, the carrier confirms its arrival estimate
            out.append(_transport(v, eid("est-arri"), "EST", "ARRI", v.pod, m.recorded_at, current_eta))
        return out
    if m.what == "arrived":
        return [_transport(v, eid("act-arri"), "ACT", "ARRI", m.node, m.recorded_at, m.at)]
    if m.what == "discharged":
        return [_equipment(v, eid("disc"), "DISC", m.node, m.recorded_at, m.at)]
    if m.what == "released":
        return [_shipment(v, eid("rels"), "RELS", "CUS", m.recorded_at, m.at)]
    if m.what == "gate_out":
        return [_equipment(v, eid("gtot"), "GTOT", m.node, m.recorded_at, m.at)]
    return []


def voyage_events(v: Voyage) -> list[dict]:
    """Every event of a voyage recorded so far: milestones, and each ETA announcement (the first is
    the plan, PLN; revisions are estimates, EST) until the vessel has arrived."""
    arrived = next((m.recorded_at for m in v.milestones if m.what == "arrived"), None)
    out: list[dict] = []
    for n, (announced, eta) in enumerate(v.etas):
        if arrived is not None and announced >= arrived:
            break
        out.append(_transport(v, _event_id(v, "arri-eta", n), "PLN" if n == 0 else "EST", "ARRI", v.pod,
                              announced, eta, delay="CGT" if n > 0 else None))
    for m in v.milestones:
        known = [eta for announced, eta in v.etas if announced <= m.recorded_at]
        out += _milestone_events(v, m, known[-1] if known else None)
    return out


# --- the endpoint -------------------------------------------------------------------------------


def _filters(q: Query, now: datetime) -> dict:
    types = q.csv_set("eventType")
    if types and not types <= EVENT_TYPES:
        raise BadRequest("eventType", f"must be among {sorted(EVENT_TYPES)}")
    f = {"eventType": sorted(types) if types else None, "asof": iso_z(now)}
    for name in ("equipmentReference", "carrierBookingReference", "UNLocationCode"):
        f[name] = q.get(name) or None
    for op in _OPERATORS:
        value = q.time(f"eventCreatedDateTime:{op}")
        f[op] = iso_z(value) if value else None
    return f


def _keep(event: dict, f: dict) -> bool:
    if f["eventType"] and event["eventType"] not in f["eventType"]:
        return False
    refs = {r["referenceValue"] for r in event["references"] if r["referenceType"] == "EQ"}
    if f["equipmentReference"] and f["equipmentReference"] not in refs:
        return False
    docs = {d["documentReferenceValue"] for d in event["documentReferences"]}
    if f["carrierBookingReference"] and f["carrierBookingReference"] not in docs:
        return False
    call = event.get("transportCall") or {}
    if f["UNLocationCode"] and call.get("UNLocationCode") != f["UNLocationCode"]:
        return False
    created = event["eventCreatedDateTime"]  # ISO 'Z' strings of one shape compare like instants
    checks = {"gte": created >= (f["gte"] or ""), "gt": f["gt"] is None or created > f["gt"],
              "lte": f["lte"] is None or created <= f["lte"], "lt": f["lt"] is None or created < f["lt"],
              "eq": f["eq"] is None or created == f["eq"]}
    return all(checks.values()) and created <= f["asof"]


def list_events(world, now: datetime, q: Query, base_url: str) -> Reply:
    limit = q.int("limit", 100, hi=MAX_LIMIT, clamp=True)
    cursor = q.get("cursor")
    state = decode_token(cursor, "cursor") if cursor else {"asof": now.isoformat(), "after": None,
                                                            "f": _filters(q, now)}
    events = [e for v in world.voyages(datetime.fromisoformat(state["asof"])) for e in voyage_events(v)
              if _keep(e, state["f"])]
    page = keyset_page(events, lambda e: sort_key(datetime.fromisoformat(e["eventCreatedDateTime"]),
                                                  e["eventID"]), limit, state)
    reply = Reply(200, page.items, records_path=())
    reply.headers["API-Version"] = API_VERSION
    reply.headers["Current-Page"] = f"{base_url}?{urlencode({k: v for k, v in q.params.items()}, doseq=True)}"
    if page.next_token:
        reply.headers["Next-Page"] = f"{base_url}?{urlencode({'cursor': page.next_token, 'limit': limit})}"
    return reply
