"""DCSA Track & Trace 2.2: a carrier's events for inbound ocean containers → `ocean_events` (every
event, once, by eventID) + `vessel_eta_history` (every announced vessel arrival, never overwritten).

Incremental on `eventCreatedDateTime` (cursor `events`, re-read inclusively from the newest one
seen: events are stored once by eventID, so the overlap costs nothing); pages via the `Next-Page`
header (a URL, absolute or relative), absent on the last page. Bearer token (`api_key`).

A malformed event fails the whole run instead of being skipped: the event log is append-only, so a
skipped event (an ETA announcement) would never come back; a failed run writes nothing, keeps the
cursor where it was, names the event and the field in sync_runs and is retried on the next run.
DCSA sends latitude/longitude as strings: a number there is a format error, not a value to guess at.
"""
from __future__ import annotations

from datetime import datetime
from typing import Literal
from urllib.parse import urljoin

from pydantic import StrictStr, ValidationError, field_validator, model_validator

from connectors.base import Http, Instant, Record, Run, Source, Table
from connectors.timezones import iso_z


class Location(Record):
    locationName: str | None = None
    latitude: StrictStr | None = None
    longitude: StrictStr | None = None
    UNLocationCode: str | None = None

    @field_validator("latitude", "longitude")
    @classmethod
    def _decimal_text(cls, v):
        if v is not None:
            float(v)  # a ValueError here names the field: "not a decimal number"
        return v


class Vessel(Record):
    vesselIMONumber: str | None = None
    vesselName: str | None = None


class TransportCall(Record):
    UNLocationCode: str | None = None
    modeOfTransport: str | None = None
    location: Location | None = None
    vessel: Vessel | None = None


class Reference(Record):
    referenceType: str
    referenceValue: str


class DocumentReference(Record):
    documentReferenceType: str
    documentReferenceValue: str


class Event(Record):
    eventID: str
    eventType: Literal["SHIPMENT", "TRANSPORT", "EQUIPMENT"]
    eventClassifierCode: Literal["PLN", "EST", "ACT"]
    eventCreatedDateTime: Instant
    eventDateTime: Instant
    transportEventTypeCode: Literal["ARRI", "DEPA"] | None = None
    equipmentEventTypeCode: str | None = None
    shipmentEventTypeCode: str | None = None
    equipmentReference: str | None = None
    emptyIndicatorCode: str | None = None
    delayReasonCode: str | None = None
    documentTypeCode: str | None = None
    transportCall: TransportCall | None = None
    eventLocation: Location | None = None
    references: list[Reference] = []
    documentReferences: list[DocumentReference] = []

    @field_validator("eventID")
    @classmethod
    def _id_present(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("empty eventID")
        return v

    @model_validator(mode="after")
    def _transport_has_a_call(self):
        if self.eventType == "TRANSPORT" and (self.transportEventTypeCode is None or self.transportCall is None):
            raise ValueError("a TRANSPORT event needs transportEventTypeCode and transportCall")
        return self


class MalformedEvent(ValueError):
    pass


def _ref(e: Event, kind: str) -> str | None:
    return next((r.referenceValue for r in e.references if r.referenceType == kind), None)


def _doc(e: Event, kind: str) -> str | None:
    return next((d.documentReferenceValue for d in e.documentReferences if d.documentReferenceType == kind), None)


def event_rows(e: Event, fetched_at: datetime) -> tuple[dict, dict | None]:
    """(ocean_events row, vessel_eta_history row or None)."""
    call = e.transportCall or TransportCall()
    where = e.eventLocation or call.location or Location()
    vessel = call.vessel or Vessel()
    row = {
        "event_id": e.eventID, "event_type": e.eventType, "event_classifier": e.eventClassifierCode,
        "event_created_at": e.eventCreatedDateTime, "event_at": e.eventDateTime,
        "event_code": e.transportEventTypeCode or e.equipmentEventTypeCode or e.shipmentEventTypeCode,
        "equipment_reference": e.equipmentReference or _ref(e, "EQ"),
        "booking_reference": _doc(e, "BKG"), "transport_document_reference": _doc(e, "TRD"),
        "po_reference": _ref(e, "PO"), "un_location_code": call.UNLocationCode or where.UNLocationCode,
        "location_name": where.locationName,
        "lat": float(where.latitude) if where.latitude is not None else None,
        "lon": float(where.longitude) if where.longitude is not None else None,
        "vessel_name": vessel.vesselName, "vessel_imo": vessel.vesselIMONumber,
        "delay_reason_code": e.delayReasonCode, "document_type_code": e.documentTypeCode,
        "empty_indicator": e.emptyIndicatorCode, "fetched_at": fetched_at,
    }
    eta = None
    if e.eventType == "TRANSPORT" and e.transportEventTypeCode == "ARRI":
        eta = {"event_id": e.eventID, "equipment_reference": row["equipment_reference"],
               "booking_reference": row["booking_reference"], "po_reference": row["po_reference"],
               "un_location_code": row["un_location_code"], "vessel_name": row["vessel_name"],
               "classifier": e.eventClassifierCode, "announced_at": e.eventCreatedDateTime,
               "eta": e.eventDateTime}
    return row, eta


def parse_event(raw, page: int, i: int) -> Event:
    """The event, or MalformedEvent naming it and the field (never the payload's values)."""
    ident = raw.get("eventID") if isinstance(raw, dict) and isinstance(raw.get("eventID"), str) else None
    what = f"event {ident[:40]}" if ident else f"event #{i + 1} of page {page}"
    try:
        return Event.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        loc = ".".join(str(x) for x in first["loc"]) or "event"
        raise MalformedEvent(f"DCSA {what}: {loc}: {first['msg']}") from None


class DcsaSource(Source):
    kind = "dcsa"
    tables = (
        Table("ocean_events", ("event_id",), "append", None),
        Table("vessel_eta_history", ("event_id",), "append", None),
    )

    def http_headers(self, secret):
        return {"Authorization": f"Bearer {secret or ''}", "API-Version": "2.2.0"}

    def extract(self, run: Run, http: Http) -> None:
        url = self.options["base_url"].rstrip("/") + "/events"
        params: dict | None = {"limit": int(self.options.get("page_size", 500))}
        if self.options.get("event_types"):
            params["eventType"] = ",".join(self.options["event_types"])
        since = run.cursor_time("events")
        if since:
            params["eventCreatedDateTime:gte"] = iso_z(since)
        newest = since
        page = 0
        while url:
            run.check_cancel()
            page += 1
            body, resp = http.get_json(url, params)
            if not isinstance(body, list):
                raise MalformedEvent(f"DCSA page {page}: expected a JSON array of events")
            for i, raw in enumerate(body):
                event = parse_event(raw, page, i)
                row, eta = event_rows(event, run.now)
                run.emit("ocean_events", row)
                if eta is not None:
                    run.emit("vessel_eta_history", eta)
                run.saw(1, event.eventCreatedDateTime)
                newest = max(newest, event.eventCreatedDateTime) if newest else event.eventCreatedDateTime
            nxt = resp.headers.get("Next-Page")
            url, params = (urljoin(url, nxt), None) if nxt else (None, None)
        if newest:
            run.set_cursor("events", iso_z(newest))
