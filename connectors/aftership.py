"""AfterShip Tracking (2026-07): trackings → `shipments` (merge) + `tracking_events` (append).

Incremental on `updated_at` (cursor `trackings`, re-read inclusively from the newest `updated_at`
seen), pages via `data.pagination.next_cursor`. Each tracking is validated on its own; a bad one is
rejected and counted, a bad checkpoint only drops that checkpoint.

Mapping notes (the data model has no 1:1 field for these):
- `mode`, `direction`, `po_id`, `warehouse_id` come from the tracking's `custom_fields` (`mode`,
  `direction`, `po_number`, `warehouse_id`), which is where a shipper records them in AfterShip.
  Without them: direction is outbound when the tracking carries an order id, else inbound; mode is
  guessed from the courier slug (container lines → sea, air-freight slugs → air, else express).
- Countries (alpha-3 in AfterShip) are stored as ISO alpha-2.
- `eta` = latest_estimated_delivery.datetime, else the courier's estimated delivery date; promised
  and estimated *dates* mean the end of that day in the destination's time zone.
- Checkpoint times follow the rule in `connectors.timezones` (offset if present, else the location's
  zone, DST-aware); the raw text is kept in `raw_checkpoint_time`. Checkpoints are sorted by time and
  deduplicated on (shipment, time, tag, message), so out-of-order or repeated checkpoints give the
  same rows; `last_checkpoint_at`/`last_lat`/`last_lon` come from the newest checkpoint (the newest
  one with a coordinate, for the position). A missing tag or message is stored as empty text: both
  are part of the event key, which cannot hold nulls.
- A checkpoint without `checkpoint_time` falls back to its `created_at` (when AfterShip recorded it).
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from pydantic import field_validator

from connectors.base import Http, Instant, Record, Run, Source, Table
from connectors.timezones import country_code, date_or_instant, iso_z, parse_instant, zone_for

SEA_SLUGS = {"maersk", "cosco", "msc", "cma-cgm", "evergreen", "hapag-lloyd", "one", "zim", "oocl"}
AIR_SLUGS = {"air-freight", "cathay-cargo", "china-airlines-cargo", "lufthansa-cargo"}


class Coordinate(Record):
    latitude: Optional[float] = None
    longitude: Optional[float] = None


class Checkpoint(Record):
    checkpoint_time: Optional[str] = None
    created_at: Optional[Instant] = None
    location: Optional[str] = None
    city: Optional[str] = None
    state: Optional[str] = None
    country_region: Optional[str] = None
    coordinate: Optional[Coordinate] = None
    message: Optional[str] = None
    tag: Optional[str] = None
    subtag: Optional[str] = None


class Estimate(Record):
    datetime: Optional[str] = None
    estimated_delivery_date: Optional[str] = None
    promised_delivery_date: Optional[str] = None


class Tracking(Record):
    id: str
    tracking_number: Optional[str] = None
    slug: Optional[str] = None
    tag: Optional[str] = None
    subtag: Optional[str] = None
    created_at: Optional[Instant] = None
    updated_at: Instant
    order_id: Optional[str] = None
    custom_fields: Optional[dict] = None
    origin_country_region: Optional[str] = None
    destination_country_region: Optional[str] = None
    destination_state: Optional[str] = None
    destination_city: Optional[str] = None
    courier_estimated_delivery_date: Optional[Estimate] = None
    latest_estimated_delivery: Optional[Estimate] = None
    order_promised_delivery_date: Optional[Estimate] = None
    shipment_pickup_date: Optional[Instant] = None
    shipment_delivery_date: Optional[Instant] = None
    checkpoints: Optional[list] = None

    @field_validator("id")
    @classmethod
    def _id_present(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("empty id")
        return v

    @field_validator("order_id", mode="before")
    @classmethod
    def _order_id_text(cls, v):
        return None if v is None else str(v)


def aftership_pages(http: Http, url: str, params: dict, records_key: str, run: Run):
    """Yield the record lists of an AfterShip cursor-paginated list endpoint
    (`{meta, data: {<records_key>: [...], pagination: {next_cursor, has_next_page}}}`)."""
    params = dict(params)
    while True:
        run.check_cancel()
        body, _ = http.get_json(url, params)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get(records_key), list):
            raise ValueError(f"unexpected AfterShip response: no data.{records_key} list")
        yield data[records_key]
        pagination = data.get("pagination") or {}
        nxt = pagination.get("next_cursor")
        if not nxt or pagination.get("has_next_page") is False:
            return
        params = {"cursor": nxt, "limit": params.get("limit")}


def guess_mode(slug: str | None) -> str:
    slug = (slug or "").lower()
    if slug in SEA_SLUGS:
        return "sea"
    if slug in AIR_SLUGS or "air" in slug:
        return "air"
    return "express"


def checkpoint_row(shipment_id: str, cp: Checkpoint) -> dict:
    """One tracking_events row; raises ValueError when the checkpoint has no usable time."""
    raw = cp.checkpoint_time
    zone = zone_for(cp.country_region, cp.state, cp.city)
    when = parse_instant(raw, zone) if raw else cp.created_at
    if when is None:
        raise ValueError("checkpoint without checkpoint_time")
    coord = cp.coordinate or Coordinate()
    return {
        "shipment_id": shipment_id, "checkpoint_time": when, "tag": cp.tag or "", "subtag": cp.subtag,
        "message": cp.message or "", "location": cp.location, "city": cp.city,
        "country": country_code(cp.country_region), "lat": coord.latitude, "lon": coord.longitude,
        "raw_checkpoint_time": raw, "created_at": cp.created_at,
    }


def map_tracking(t: Tracking, run: Run) -> None:
    """Emit the shipment row and its checkpoint rows."""
    custom = t.custom_fields or {}
    dest_zone = zone_for(t.destination_country_region, t.destination_state, t.destination_city)
    events: dict[tuple, dict] = {}
    for i, raw_cp in enumerate(t.checkpoints or []):
        cp = run.validate(Checkpoint, raw_cp, f"tracking {t.id} checkpoint {i}")
        if cp is None:
            continue
        try:
            row = checkpoint_row(t.id, cp)
        except ValueError as e:
            run.reject(f"tracking {t.id} checkpoint {i}", str(e))
            continue
        events.setdefault((row["checkpoint_time"], row["tag"], row["message"]), row)
    ordered = sorted(events.values(), key=lambda r: (r["checkpoint_time"], r["tag"], r["message"]))
    for row in ordered:
        run.emit("tracking_events", row)
    last = ordered[-1] if ordered else None
    located = [r for r in ordered if r["lat"] is not None and r["lon"] is not None]

    eta = None
    if t.latest_estimated_delivery and t.latest_estimated_delivery.datetime:
        eta = date_or_instant(t.latest_estimated_delivery.datetime, dest_zone)
    elif t.courier_estimated_delivery_date and t.courier_estimated_delivery_date.estimated_delivery_date:
        eta = date_or_instant(t.courier_estimated_delivery_date.estimated_delivery_date, dest_zone)
    promised = None
    if t.order_promised_delivery_date and t.order_promised_delivery_date.promised_delivery_date:
        promised = date_or_instant(t.order_promised_delivery_date.promised_delivery_date, dest_zone)
    direction = custom.get("direction") or ("outbound" if t.order_id else "inbound")
    run.emit("shipments", {
        "shipment_id": t.id, "tracking_number": t.tracking_number, "carrier": t.slug,
        "mode": custom.get("mode") or guess_mode(t.slug), "direction": direction,
        "order_id": t.order_id, "po_id": custom.get("po_number"),
        "warehouse_id": custom.get("warehouse_id"),
        "origin_country": country_code(t.origin_country_region),
        "destination_country": country_code(t.destination_country_region),
        "destination_city": t.destination_city, "tag": t.tag, "subtag": t.subtag, "eta": eta,
        "promised_delivery_at": promised, "shipped_at": t.shipment_pickup_date,
        "delivered_at": t.shipment_delivery_date,
        "last_checkpoint_at": last["checkpoint_time"] if last else None,
        "last_lat": located[-1]["lat"] if located else None,
        "last_lon": located[-1]["lon"] if located else None,
        "created_at": t.created_at, "updated_at": t.updated_at,
    })


class AfterShipSource(Source):
    kind = "aftership"
    tables = (
        Table("shipments", ("shipment_id",), "merge"),
        Table("tracking_events", ("shipment_id", "checkpoint_time", "tag", "message"), "append", None),
    )

    def http_headers(self, secret):
        return {"as-api-key": secret or ""}

    def extract(self, run: Run, http: Http) -> None:
        url = self.options["base_url"].rstrip("/") + "/trackings"
        params = {"limit": int(self.options.get("page_size", 200))}
        since = run.cursor_time("trackings")
        if since:
            params["updated_at_min"] = iso_z(since)
        newest: datetime | None = since
        for page in aftership_pages(http, url, params, "trackings", run):
            for raw in page:
                t = run.validate(Tracking, raw, f"tracking {_ident(raw)}")
                run.saw(1, t.updated_at if t else None)
                if t is None:
                    continue
                map_tracking(t, run)
                newest = max(newest, t.updated_at) if newest else t.updated_at
        if newest:
            run.set_cursor("trackings", iso_z(newest))


def _ident(raw) -> str:
    """A short, payload-safe identifier for error messages."""
    if isinstance(raw, dict):
        return str(raw.get("id") or raw.get("tracking_number") or "?")[:40]
    return "?"
