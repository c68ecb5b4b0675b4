"""Scenarios: named disturbances switched on for windows of simulated time.

`scenario_windows(names, anchor)` turns config names into windows placed relative to the start of a
demo. A `Calendar` holds the effective windows and answers the questions the simulation asks at a
sim instant: how much demand is planned (the forecast's uplift) and how much actually comes, which
supplier is silent, which port is congested, what share of parcels hits carrier exceptions.

`member_day` is the reference case: a promotion whose demand runs at ~180 % of a forecast that already
carries a planned uplift, with the primary supplier going silent from event start + 6 h for 12 h.
Switching scenarios at runtime (`Calendar.switched`) keeps the past exactly as it was: old windows are
cut at the switch instant and new ones only start there."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sandbox.catalog import CONGESTION_PORTS, PRIMARY
from sandbox.model import PromotionEvent, ScenarioWindow
from tower.clock import utc

H = timedelta(hours=1)

# name: (kind, default start offset from anchor, default duration, display name)
KNOWN = {
    "member_day": ("promotion", 0.5 * H, 24 * H, "Member Day"),
    "flash_sale": ("promotion", None, 12 * H, "Weekend flash sale"),
    "demand_surge": ("disruption", 0.5 * H, 12 * H, "Unplanned demand surge"),
    "supplier_outage": ("disruption", 1 * H, 12 * H, "Primary supplier silent"),
    "port_congestion": ("disruption", 0.5 * H, 72 * H, "Port congestion at Shenzhen / Yantian"),
    "carrier_exceptions": ("disruption", 0.5 * H, 24 * H, "Carrier exceptions on last-mile parcels"),
}
# Demand factors: the forecast's planned uplift, and how actual demand compares with that forecast.
PLANNED_UPLIFT = {"member_day": 1.5, "flash_sale": 1.3}
SURPRISE = {"member_day": 1.8, "flash_sale": 1.12, "demand_surge": 1.7}
# A scenario's hero item: (sku, market) -> how much more of the order lines it takes while the scenario
# runs (on top of catalog.TRENDING). Member day features the viral salad bowl in the US: with the thin
# US cover the planner keeps for it (catalog.COVER_DAYS_BY_SKU), it runs out during the event and
# ~40 % of its member-day demand is lost unless someone acts (plan B-03, tests/test_world_drama.py).
HERO = {"member_day": {("GL-BOWL-01", "US"): 1.4}}
MEMBER_DAY_OUTAGE_AFTER = 6 * H
MEMBER_DAY_OUTAGE_FOR = 12 * H
CARRIER_EXCEPTION_SHARE = 0.25


def _check(name: str) -> None:
    if name not in KNOWN:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(sorted(KNOWN))}")


def scenario_windows(names: list[str], anchor: datetime) -> list[ScenarioWindow]:
    """Windows for config scenario names, placed relative to `anchor` (sim time at start).

    `member_day` also brings last week's smaller "Weekend flash sale" into the history, so a retro
    has an earlier promotion to compare with."""
    anchor = utc(anchor)
    windows: list[ScenarioWindow] = []
    for name in names:
        _check(name)
        _, offset, duration, _ = KNOWN[name]
        if name == "flash_sale" or name == "member_day":
            day = anchor.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=5)
            sale = ScenarioWindow("flash_sale", day + 14 * H, day + 14 * H + KNOWN["flash_sale"][2])
            if sale not in windows:
                windows.append(sale)
            if name == "flash_sale":
                continue
        start = anchor + offset
        windows.append(ScenarioWindow(name, start, start + duration))
    return windows


@dataclass(frozen=True)
class Piece:
    """One effective window: a scenario in force over [start, end) (end None = open)."""
    name: str
    start: datetime
    end: datetime | None
    origin: datetime                      # the configured window's start (names the event)
    since: datetime                       # when this window entered the calendar (sim time)
    params: dict = field(default_factory=dict, compare=False, hash=False)

    def covers(self, t: datetime) -> bool:
        return self.start <= t and (self.end is None or t < self.end)

    @property
    def event_id(self) -> str:
        return f"EVT-{self.name.replace('_', '-')}-{self.origin:%Y%m%d%H%M}"


def _expand(window: ScenarioWindow, since: datetime) -> list[Piece]:
    """A configured window → effective pieces (member_day brings its supplier outage along)."""
    _check(window.name)
    start = utc(window.starts_at)
    end = utc(window.ends_at) if window.ends_at is not None else None
    pieces = [Piece(window.name, start, end, start, since, dict(window.params))]
    if window.name == "member_day" and window.params.get("supplier_outage", True):
        o_start = start + MEMBER_DAY_OUTAGE_AFTER
        o_end = o_start + MEMBER_DAY_OUTAGE_FOR
        if end is None or o_start < end:
            pieces.append(Piece("supplier_outage", o_start, o_end, o_start, since,
                                {"supplier": PRIMARY, "cause": "member_day"}))
    return pieces


class Calendar:
    """The effective scenario windows and the questions the simulation asks about an instant."""

    def __init__(self, pieces: list[Piece]):
        self.pieces = tuple(p for p in pieces if p.end is None or p.end > p.start)

    @classmethod
    def of(cls, windows: list[ScenarioWindow] | None, since: datetime) -> Calendar:
        return cls([p for w in windows or [] for p in _expand(w, utc(since))])

    def switched(self, windows: list[ScenarioWindow], cut: datetime) -> Calendar:
        """The calendar after switching to `windows` at `cut`: nothing before `cut` changes."""
        cut = utc(cut)
        new = [p for w in windows for p in _expand(w, cut)]
        same = {(p.name, p.start, p.end) for p in new}
        kept: list[Piece] = []
        for p in self.pieces:
            if (p.name, p.start, p.end) in same and p.start < cut:
                kept.append(p)            # unchanged window already under way: keep it whole
            elif p.start < cut:
                end = cut if p.end is None else min(p.end, cut)
                kept.append(Piece(p.name, p.start, end, p.origin, p.since, p.params))
        kept_keys = {(p.name, p.start, p.end) for p in kept}
        for p in new:
            if (p.name, p.start, p.end) in kept_keys:
                continue
            if p.end is not None and p.end <= cut:
                continue
            kept.append(Piece(p.name, max(p.start, cut), p.end, p.origin, cut, p.params))
        return Calendar(kept)

    # ─── questions about an instant ───────────────────────────────────────────────────────────
    def active(self, name: str, t: datetime) -> list[Piece]:
        return [p for p in self.pieces if p.name == name and p.covers(t)]

    def planned_uplift(self, t: datetime) -> float:
        """Factor the forecast carries at `t` (promotions are planned ahead)."""
        factor = 1.0
        for p in self.pieces:
            if p.name in PLANNED_UPLIFT and p.covers(t):
                factor = max(factor, p.params.get("planned_uplift", PLANNED_UPLIFT[p.name]))
        return factor

    def surprise(self, t: datetime) -> float:
        """Actual demand / forecast at `t` (before random noise)."""
        factor = 1.0
        for p in self.pieces:
            if p.name in SURPRISE and p.covers(t):
                factor *= p.params.get("factor", SURPRISE[p.name])
        return factor

    def sku_boost(self, market: str, t: datetime) -> dict[str, float]:
        """sku -> extra share of `market`'s order lines at `t` (the running scenarios' hero items)."""
        out: dict[str, float] = {}
        for p in self.pieces:
            if p.name in HERO and p.covers(t):
                for (sku, m), factor in HERO[p.name].items():
                    if m == market:
                        out[sku] = out.get(sku, 1.0) * factor
        return out

    def supplier_down(self, code: str, t: datetime) -> bool:
        return any(p.params.get("supplier", PRIMARY) == code for p in self.active("supplier_outage", t))

    def congestion(self, node_id: str, t: datetime) -> Piece | None:
        """The congestion window holding `node_id` at `t`, if any."""
        for p in self.active("port_congestion", t):
            if node_id in p.params.get("nodes", CONGESTION_PORTS):
                return p
        return None

    def congestion_changes(self, node_id: str) -> list[tuple[datetime, str]]:
        """(instant, status) changes of a node's status, in time order."""
        changes = []
        for p in self.pieces:
            if p.name == "port_congestion" and node_id in p.params.get("nodes", CONGESTION_PORTS):
                changes.append((p.start, "congested"))
                if p.end is not None:
                    changes.append((p.end, "normal"))
        return sorted(changes)

    def carrier_exception_share(self, t: datetime) -> float:
        shares = [p.params.get("share", CARRIER_EXCEPTION_SHARE) for p in self.active("carrier_exceptions", t)]
        return max(shares, default=0.0)

    # ─── the event calendar as the planning API shows it ─────────────────────────────────────
    def events(self, now: datetime) -> list[PromotionEvent]:
        """Promotions (known ahead) and disruptions that have begun by `now`, one per configured window."""
        grouped: dict[str, list[Piece]] = {}
        for p in self.pieces:
            kind = KNOWN[p.name][0]
            if p.since > now or (kind == "disruption" and p.start > now):
                continue
            grouped.setdefault(p.event_id, []).append(p)
        out = []
        for event_id, pieces in grouped.items():
            first = pieces[0]
            kind, _, default_len, title = KNOWN[first.name]
            start = min(p.start for p in pieces)
            ends = [p.end for p in pieces]
            end = max(e for e in ends if e is not None) if None not in ends else None
            if end is None:               # open-ended disruption: show the default length as the plan
                end = start + default_len
            name = first.params.get("title") or title
            if first.name == "supplier_outage":
                name = f"Supplier {first.params.get('supplier', PRIMARY)} silent"
            updated = max(p.since for p in pieces) if kind == "promotion" else max(start, max(p.since for p in pieces))
            out.append(PromotionEvent(event_id, name, start, end, kind, min(updated, now)))
        return sorted(out, key=lambda e: (e.starts_at, e.event_id))
