"""Shipments: outbound parcels and inbound freight, their planned checkpoints and ETA
revisions (re-planned when scenarios switch), plus the AfterShip-shaped tracking views."""
from __future__ import annotations

import bisect
from datetime import datetime, timedelta

from sandbox import catalog as cat
from sandbox.catalog import Place
from sandbox.model import Checkpoint, Tracking
from sandbox.routes import SUBTAG_MESSAGES, _node_place, _tracking_number
from sandbox.sim import _FAR, H, _zone, _rng, _km, Stop, _Track, _Order, _origin, _index, _sec, _round_hour


class Shipping:
    """Mixin of World (sandbox/world.py): shipments. It uses the state World.__init__ sets up."""

    def _outbound(self, order: _Order, ship_at: datetime, stops: list[Stop], u: list) -> None:
        wh = cat.WAREHOUSE_BY_ID[order.warehouse_id]
        origin = _origin(wh.warehouse_id)
        options = cat.CARRIERS.get((origin, order.market)) or cat.CARRIERS[(origin, "*")]
        slug, company, style, _ = options[min(len(options) - 1, _index(u[4], [o[3] for o in options]))]
        rng = _rng(self.seed, "trkid", order.order_id)
        track = _Track(
            id=f"{rng.getrandbits(128):032x}", number=_tracking_number(rng, style), slug=slug, company=company,
            mode="express", direction="outbound", warehouse_id=order.warehouse_id, origin=wh.place,
            dest=order.city.place, created_at=ship_at, stops=tuple(stops), promised=order.promised, order=order,
            no_offset_share={"usps": 0.5, "yunexpress": 0.6}.get(slug, 0.1))
        order.track = track
        self._add_track(track)

    def _outbound_stops(self, wh_id: str, market: str, city: cat.City, u: list) -> list[Stop]:
        """The checkpoints a parcel passes from a warehouse to a customer's city."""
        origin = _origin(wh_id)
        dest = city.place
        hub_id = cat.LAST_MILE_HUB.get((market, city.region))
        w = cat.WAREHOUSE_BY_ID[wh_id].place
        road_h = max(6.0, _km(w, dest) / 55)            # line-haul hours at truck/air-mix speed
        stops = [Stop(w, "InfoReceived", "InfoReceived_001", "Shipping label created", 0.05, 0.5),
                 Stop(w, "InTransit", "InTransit_002", "Picked up by carrier", 1, 8),
                 Stop(w, "InTransit", "InTransit_007", "Departed origin facility", 1, 4, kind="transit")]
        if origin == "CN":
            gateway = _node_place(hub_id) if hub_id else dest
            stops += [Stop(_node_place("HKHKG"), "InTransit", "InTransit_007", "Departed Hong Kong on flight",
                           12, 48, kind="transit"),
                      Stop(gateway, "InTransit", "InTransit_004", "Arrived in destination country", 18, 40,
                           kind="transit"),
                      Stop(gateway, "InTransit", "InTransit_006", "Customs clearance started", 2, 12, kind="transit"),
                      Stop(gateway, "InTransit", "InTransit_005", "Customs clearance completed", 6, 48,
                           kind="transit")]
        elif hub_id and _km(w, dest) > 400:
            hub = _node_place(hub_id)
            stops += [Stop(hub, "InTransit", "InTransit_003", "Arrived at sort hub", road_h * 0.4, road_h * 0.7,
                           kind="transit"),
                      Stop(hub, "InTransit", "InTransit_007", "Departed sort hub", 2, 8, kind="transit")]
        if market in ("GB", "CA") and origin != "CN":
            stops += [Stop(dest, "InTransit", "InTransit_006", "Customs clearance started", 4, 12, kind="transit"),
                      Stop(dest, "InTransit", "InTransit_005", "Customs clearance completed", 4, 30, kind="transit")]
        last_leg = road_h * 0.5 if origin != "CN" else 12
        stops += [Stop(dest, "InTransit", "InTransit_003", "Arrived at delivery facility", last_leg * 0.6,
                       last_leg * 1.4 + 6, kind="transit"),
                  Stop(dest, "OutForDelivery", "OutForDelivery_001", "Out for delivery", 6, 20, kind="transit"),
                  Stop(dest, "Delivered", "Delivered_001" if u[5] < 0.8 else "Delivered_003", "Delivered", 2, 7)]
        return stops

    def _add_track(self, track: _Track) -> None:
        self._plan(track)
        self._seq += 1
        key = (track.created_at, self._seq)
        i = bisect.bisect_right(self._track_keys, key)
        self._track_keys.insert(i, key)
        self._tracks.insert(i, track)
        self._moving.append(track)
        kind = "arrive" if track.direction == "inbound" else "delivered"
        if track.delivered_seen is not None:
            self._push(track.delivered_seen, kind, track)

    def _plan(self, tr: _Track) -> None:
        """Lay out a shipment's checkpoints and ETA revisions under the scenario calendar.

        Base timings come from the tracking's own stream (identical on every replan); scenario effects
        (port congestion at a sea departure, carrier exceptions in transit) only add delay from the
        instant they occur, so replanning after a switch leaves everything before it unchanged."""
        rb = _rng(self.seed, "trk", tr.id)
        rx = _rng(self.seed, "trkx", tr.id)
        draws = [(rb.uniform(s.lo, s.hi), rb.uniform(3, 50), rb.random(), rb.random()) for s in tr.stops]
        missed_sort = rb.random() < 0.12 and tr.direction == "outbound"   # a parcel misses a sort: ~+1 day
        missed_h = rb.uniform(20, 44)
        missed_at = rb.randrange(2, max(3, len(tr.stops) - 1))
        eta_noise = timedelta(hours=rb.gauss(0, tr.eta_noise_h))
        exc_u, exc_kind, exc_delay, exc_return = rx.random(), rx.random(), rx.uniform(24, 72), rx.random()
        cong_extra = rx.uniform(8, 30)
        base_total = sum(h for h, *_ in draws)
        eta0 = _round_hour(tr.created_at + timedelta(hours=base_total) + eta_noise)
        events: list[tuple[datetime, Place, str, str, str, float, float, float]] = []
        eta_revs: list[tuple[datetime, datetime]] = [(tr.created_at, eta0)]
        t = tr.created_at
        shift = timedelta(0)
        excepted = False
        final = None
        for i, (stop, (hours, lag, u_coord, u_off)) in enumerate(zip(tr.stops, draws)):
            t = t + timedelta(hours=hours)
            if missed_sort and i == missed_at:
                t += timedelta(hours=missed_h)
            if stop.kind == "depart_sea" and stop.node:
                piece = self.calendar.congestion(stop.node, t)
                if piece is not None:
                    noticed = _sec(max(events[-1][0] if events else tr.created_at, piece.start) + H)
                    resume = (piece.end if piece.end is not None and piece.end - t < timedelta(days=10)
                              else t + timedelta(days=5)) + timedelta(hours=cong_extra)
                    delay = resume - t
                    shift += delay
                    events.append((noticed, stop.place, "InTransit", "InTransit_001",
                                   f"Vessel departure delayed: port congestion at {cat.NODE_BY_ID[stop.node].name}",
                                   rx.uniform(5, 40), rx.random(), rx.random()))
                    eta_revs.append((noticed, _round_hour(eta0 + shift)))
                    t = resume
            if stop.kind == "transit" and not excepted:
                share = self.calendar.carrier_exception_share(t)
                if share > 0 and exc_u < share:
                    excepted = True
                    cross = stop.place.country != tr.origin.country
                    sub = ("Exception_007" if exc_kind < 0.25 else
                           "Exception_004" if (exc_kind < 0.5 and cross) else "Exception_005")
                    msg = {"Exception_007": "Incorrect address, delivery attempt not possible",
                           "Exception_004": "Held by customs, clearance delayed",
                           "Exception_005": "Delayed due to external factors (weather / network disruption)"}[sub]
                    events.append((t, stop.place, "Exception", sub, msg, rx.uniform(5, 40), rx.random(), rx.random()))
                    delay = timedelta(hours=exc_delay)
                    if sub == "Exception_007" and exc_return < 0.3:
                        events.append((t + delay, stop.place, "Exception", "Exception_010",
                                       "Returning to sender", rx.uniform(5, 40), rx.random(), rx.random()))
                        final = "returned"
                        break
                    events.append((t + delay, stop.place, "InTransit", "InTransit_008",
                                   "Problem resolved, shipment moving again", rx.uniform(5, 40), rx.random(),
                                   rx.random()))
                    shift += delay
                    eta_revs.append((_sec(t + H), _round_hour(eta0 + shift)))
                    t = t + delay
            t = _sec(t)
            events.append((t, stop.place, stop.tag, stop.subtag, stop.message, lag, u_coord, u_off))
        # Build checkpoints; created_at (when AfterShip saw it) strictly increases.
        cps, cp_times = [], []
        last_created = tr.created_at
        pickup = delivered = seen = None
        for when, place, tag, subtag, message, lag, u_coord, u_off in events:
            created = _sec(max(when + timedelta(minutes=lag), last_created + timedelta(seconds=1)))
            last_created = created
            local = when.astimezone(_zone(place.tz))
            offset = local.utcoffset()
            cps.append(Checkpoint(
                local.replace(tzinfo=None, microsecond=0),
                None if u_off < tr.no_offset_share else int(offset.total_seconds() // 60),
                created, place.location, place.city, place.state, place.country,
                None if u_coord < 0.1 else place.lat, None if u_coord < 0.1 else place.lon, message, tag, subtag))
            cp_times.append(created)
            if tag == "InTransit" and pickup is None:
                pickup = when
            if tag == "Delivered":
                delivered, seen = when, created
        tr.checkpoints = tuple(cps)
        tr.cp_times = cp_times
        tr.eta_times = [e[0] for e in eta_revs]
        tr.eta_values = [e[1] for e in eta_revs]
        tr.pickup_at = pickup
        tr.delivered_at = delivered if final != "returned" else None
        tr.delivered_seen = seen if final != "returned" else None
        tr.ends_at = events[-1][0] if events else tr.created_at

    def _replan_moving(self, cut: datetime) -> None:
        """Redo the plans of shipments still moving after a scenario switch at `cut`."""
        still = []
        for tr in self._moving:
            if tr.ends_at is not None and tr.ends_at < cut:
                continue                                  # its whole plan lies before the switch
            old_cps, old_times = tr.checkpoints, tr.cp_times
            old_eta_t, old_eta_v = tr.eta_times, tr.eta_values
            self._plan(tr)
            keep = bisect.bisect_left(old_times, cut)
            new_from = bisect.bisect_left(tr.cp_times, cut)
            tr.checkpoints = old_cps[:keep] + tr.checkpoints[new_from:]
            tr.cp_times = old_times[:keep] + tr.cp_times[new_from:]
            keep_e = bisect.bisect_left(old_eta_t, cut)
            new_e = bisect.bisect_left(tr.eta_times, cut)
            eta_t, eta_v = old_eta_t[:keep_e] + tr.eta_times[new_e:], old_eta_v[:keep_e] + tr.eta_values[new_e:]
            if tr.eta_values and eta_v[-1] != tr.eta_values[-1]:
                eta_t.append(cut)
                eta_v.append(tr.eta_values[-1])
            tr.eta_times, tr.eta_values = eta_t, eta_v
            tr.rev += 1
            tr.memo.clear()
            if tr.order is not None:
                tr.order.memo.clear()
            if not tr.delivered_done and tr.delivered_seen is not None:
                self._push(tr.delivered_seen, "arrive" if tr.direction == "inbound" else "delivered", tr)
            still.append(tr)
        self._moving = still

    def trackings(self, now: datetime) -> list[Tracking]:
        with self._lock:
            c, hit = self._view("trackings", now)
            if hit is not None:
                return hit
            n = bisect.bisect_left(self._track_keys, (c,))
            out = [self._tracking_view(tr, c) for tr in self._tracks[:n]]
            return self._remember("trackings", c, None, out)

    def _tracking_view(self, tr: _Track, c: datetime) -> Tracking:
        last = tr.memo.get("last")
        if last is not None and last[0] < c <= last[1]:
            return last[2]
        k = bisect.bisect_left(tr.cp_times, c)
        e = bisect.bisect_left(tr.eta_times, c)
        key = (k, e)
        hit = tr.memo.get(key)
        if hit is None:
            hit = tr.memo[key] = self._render_tracking(tr, c, k, e)
        nxt = min(tr.cp_times[k] if k < len(tr.cp_times) else _FAR, tr.eta_times[e] if e < len(tr.eta_times) else _FAR)
        tr.memo["last"] = (hit.updated_at, nxt, hit)
        return hit

    def _render_tracking(self, tr: _Track, c: datetime, k: int, e: int) -> Tracking:
        cps = tr.checkpoints[:k]
        if cps:
            tag, subtag = cps[-1].tag, cps[-1].subtag
        else:
            tag, subtag = "Pending", "Pending_001"
        updated = max(tr.created_at, tr.cp_times[k - 1] if k else tr.created_at,
                      tr.eta_times[e - 1] if e else tr.created_at)
        delivered = tr.delivered_at if tag == "Delivered" else None
        pickup = tr.pickup_at if any(cp.tag != "InfoReceived" for cp in cps) else None
        order, po = tr.order, tr.po
        view = Tracking(
            tr.id, tr.number, tr.slug, tr.mode, tr.direction,
            order.order_id if order else None, f"#{order.number}" if order else None, order.shop if order else None,
            po.number if po else None, tr.warehouse_id, tr.origin.country, tr.origin.city, tr.dest.country,
            tr.dest.city, tr.dest.lat, tr.dest.lon, tr.origin.lat, tr.origin.lon, tr.created_at.replace(microsecond=0),
            updated.replace(microsecond=0), tag, subtag, SUBTAG_MESSAGES.get(subtag, tag),
            tr.eta_values[e - 1] if e else None, tr.promised, pickup, delivered, cps)
        return view
