"""The live network as arrays: `build(db, now)` reads the database (queries/twin/*.sql) as known at
`now` and returns a `Network` the simulation steps forward hourly.

Keys are SKU × warehouse pairs (index k). Times are hours relative to `now` (h = 0 is now; negative
is the past). Everything learned from history keeps its samples (lead times, transit times, delivery
slack) so the Monte Carlo draws from what really happened; where history is empty the quoted figure
or the config's default stands in, and `learned` says which.

Replay: `build(db, at=<past moment>)` uses only rows known by then — stock observations, PO progress,
shipments created, deliveries and orders up to `at`. Forecast rows and supplier/SKU master data are
kept in their current version (the tables keep no history of them)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Callable

import numpy as np
import pandas as pd

from tower.clock import utc
from tower.twin import settings as settings_mod
from tower.twin.settings import TwinSettings

# A Tower forecast plugged in instead of the planning sheet's: (keys, start, hours) → mean units per
# hour, shape (K, hours), or None to keep the sheet's. `keys` has columns sku, warehouse_id, market.
DemandOverride = Callable[[pd.DataFrame, datetime, int], "np.ndarray | None"]

PAST_H = 168  # hours of history read for the demand profile and the uplift


@dataclass(frozen=True)
class Supplier:
    supplier_id: str
    name: str
    tier: str                      # primary | backup | emergency
    country: str | None
    capacity_per_day: float
    free_per_day: float            # capacity minus what its open POs already take
    quoted_lead_days: float
    lead_days: np.ndarray          # samples of ordered → first shipped (days)
    learned: bool                  # lead_days come from PO history (else from the quoted lead time)


@dataclass(frozen=True)
class Lane:
    supplier_id: str
    warehouse_id: str
    mode: str                      # sea | air | truck | express
    shipments: int                 # inbound shipments seen on it
    transit_h: np.ndarray          # samples of shipped → delivered (hours)
    learned: bool                  # transit_h from delivered shipments (else the mode's default)
    nodes: tuple[str, ...] = ()    # ports, airports and hubs passed, in order
    positions: tuple[float, ...] = ()  # when in the trip each is passed (0–1)


@dataclass(frozen=True)
class Pipeline:
    """What is already on its way: inbound shipments (kind 0) and PO remainders (kind 1)."""
    ref: np.ndarray                # shipment_id or po_id
    kind: np.ndarray               # 0 shipment under way, 1 PO not yet shipped
    key: np.ndarray                # key index
    supplier: np.ndarray           # supplier_id
    units: np.ndarray              # float32
    order_h: np.ndarray            # when ordered (h, ≤ 0)
    promised_h: np.ndarray         # promised ship (h), NaN if none
    shipped_h: np.ndarray          # shipments: when shipped (h ≤ 0); POs: NaN
    eta_h: np.ndarray              # shipments: ETA (h), NaN if none; POs: NaN
    mode: np.ndarray               # shipments: their mode; POs: their lane's mode

    def __len__(self) -> int:
        return len(self.ref)


@dataclass(frozen=True)
class Network:
    now: datetime
    sku: np.ndarray                # (K,) per key
    warehouse: np.ndarray          # (K,)
    market: np.ndarray             # (K,) market the warehouse serves
    stock: np.ndarray              # (K,) units available at now, float32
    safety: np.ndarray             # (K,) safety stock (units), 0 when no policy
    price: np.ndarray              # (K,) unit price, USD
    cost: np.ndarray               # (K,) unit cost, USD
    forecast: np.ndarray           # (K, H) planned units per hour from now (H = max horizon)
    uplift: np.ndarray             # (K,) recent sales ÷ forecast (fades with uplift_half_life_h)
    uplift_sigma: np.ndarray       # (K,) σ of log demand level around the uplift
    suppliers: dict[str, Supplier]
    lanes: dict[tuple[str, str], list[Lane]]   # (supplier, warehouse) → lanes, busiest first
    pipeline: Pipeline
    flow: pd.DataFrame             # supplier_id, key, units_per_day: the ordering pattern that goes on
    supplier_costs: dict[tuple[str, str], float]   # (supplier, sku) → agreed unit cost
    delivery_slack: dict[str, np.ndarray]          # market → hours delivered before the promise
    nodes: dict[str, dict]         # node_id → name, kind, country, status
    settings: TwinSettings
    demand_source: str = "forecast"  # forecast | override
    meta: dict = field(default_factory=dict)

    # ── lookups ────────────────────────────────────────────────────────────────────────────────
    @property
    def size(self) -> int:
        return len(self.sku)

    @property
    def max_hours(self) -> int:
        return self.forecast.shape[1]

    def keys_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"sku": self.sku, "warehouse_id": self.warehouse, "market": self.market})

    def key_index(self, sku: str, warehouse: str) -> int | None:
        hit = np.flatnonzero((self.sku == sku) & (self.warehouse == warehouse))
        return int(hit[0]) if len(hit) else None

    def by_tier(self, tier: str) -> Supplier | None:
        found = [s for s in self.suppliers.values() if s.tier == tier]
        return max(found, key=lambda s: s.capacity_per_day) if found else None

    def lane(self, supplier_id: str, warehouse_id: str, mode: str | None = None) -> Lane:
        """The supplier's lane to the warehouse (its busiest, or of `mode`); a default one if unseen."""
        lanes = self.lanes.get((supplier_id, warehouse_id), [])
        if mode is not None:
            lanes = [ln for ln in lanes if ln.mode == mode]
        if lanes:
            return lanes[0]
        if mode is None:
            own = [ln for (s, _), ls in self.lanes.items() if s == supplier_id for ln in ls]
            sup = self.suppliers.get(supplier_id)
            wh_country = {w: m for w, m in zip(self.warehouse, self.market)}.get(warehouse_id)
            mode = ("truck" if sup is not None and sup.country == wh_country
                    else own[0].mode if own else "sea")
        return default_lane(self.settings, supplier_id, warehouse_id, mode)

    def unit_cost(self, supplier_id: str, k: int) -> float:
        known = self.supplier_costs.get((supplier_id, str(self.sku[k])))
        if known is not None:
            return known
        tier = self.suppliers[supplier_id].tier if supplier_id in self.suppliers else "primary"
        return float(self.cost[k]) * self.settings.supplier_premium.get(tier, 1.0)

    def demand_mean(self, hours: int) -> np.ndarray:
        """(K, hours) expected units per hour: forecast × the fading uplift."""
        t = np.arange(hours, dtype=np.float32)
        fade = np.float32(0.5) ** (t / np.float32(self.settings.demand.uplift_half_life_h))
        factor = 1 + (self.uplift[:, None] - 1) * fade[None, :]
        return (self.forecast[:, :hours] * factor).astype(np.float32)

    def with_demand(self, hourly: np.ndarray, sigma: np.ndarray | None = None) -> "Network":
        """The same network with another demand (K, ≥1 hours of mean units/h; a Tower forecast):
        the uplift is then 1 (the forecast already reads recent sales), its spread kept or given."""
        hourly = np.asarray(hourly, dtype=np.float32)
        full = np.empty_like(self.forecast)
        n = min(hourly.shape[1], self.max_hours)
        full[:, :n] = hourly[:, :n]
        full[:, n:] = hourly[:, n - 1:n]
        return replace(self, forecast=full, uplift=np.ones(self.size, np.float32),
                       uplift_sigma=self.uplift_sigma if sigma is None else np.asarray(sigma, np.float32),
                       demand_source="override")


def default_lane(cfg: TwinSettings, supplier_id: str, warehouse_id: str, mode: str) -> Lane:
    d = cfg.transit_defaults[mode]
    return Lane(supplier_id, warehouse_id, mode, 0, lognormal_samples(d.median_h, d.cv), False)


def lognormal_samples(median: float, cv: float, n: int = 64) -> np.ndarray:
    """Deterministic quantiles of a lognormal (median, cv): a stand-in sample when history is empty."""
    sigma = np.sqrt(np.log1p(cv ** 2))
    q = (np.arange(n) + 0.5) / n
    z = np.sqrt(2) * _erfinv(2 * q - 1)
    return (median * np.exp(sigma * z)).astype(np.float64)


def _erfinv(y: np.ndarray) -> np.ndarray:
    """Inverse error function (Giles' approximation; plenty for stand-in quantiles)."""
    w = -np.log((1.0 - y) * (1.0 + y))
    small = w < 5
    ws, wl = w - 2.5, np.sqrt(np.maximum(w, 5)) - 3
    ps = np.polyval([2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                     -0.00125372503, -0.00417768164, 0.246640727, 1.50140941], ws)
    pl = np.polyval([-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                     -0.0076224613, 0.00943887047, 1.00167406, 2.83297682], wl)
    return np.where(small, ps, pl) * y


# ── build ─────────────────────────────────────────────────────────────────────────────────────────
def build(db, now: datetime | None = None, *, at: datetime | None = None,
          demand_override: DemandOverride | None = None, settings: TwinSettings | None = None) -> Network:
    """The network as known at `now` (or `at`, a past moment to replay; default: the wall clock)."""
    when = utc(at or now or datetime.now(timezone.utc))
    cfg = settings or settings_mod.load()
    hours = cfg.limits.max_horizon_days * 24
    keys = db.query("twin/keys", {"at": when})
    if keys.empty:
        return _empty(when, cfg, hours)
    keys_frame = keys[["sku", "warehouse_id", "market"]].reset_index(drop=True)
    k_of = {(s, w): i for i, (s, w) in enumerate(zip(keys.sku, keys.warehouse_id))}

    forecast, uplift, sigma = _demand(db, keys_frame, when, hours, cfg)
    source = "forecast"
    if demand_override is not None:
        plugged = demand_override(keys_frame, when, hours)
        if plugged is not None:
            source = "override"
            plugged = np.asarray(plugged, dtype=np.float32)
            forecast[:, :min(hours, plugged.shape[1])] = plugged[:, :hours]
            uplift = np.ones(len(keys), np.float32)

    suppliers = _suppliers(db, when, cfg)
    lanes = _lanes(db, when, cfg)
    costs = {(r.supplier_id, r.sku): float(r.unit_cost)
             for r in db.query("twin/supplier_costs", {"at": when}).itertuples()}
    nodes = {r.node_id: {"name": r.name, "kind": r.kind, "country": r.country, "status": r.status}
             for r in db.query("twin/nodes").itertuples()}
    slack = {r.market: np.asarray(r.slack_samples, dtype=np.float64)
             for r in db.query("twin/delivery_slack", {"at": when, "days": 14}).itertuples()}
    flow = db.query("twin/order_flow", {"at": when, "days": cfg.replenishment.lookback_days})
    flow = flow.assign(key=[k_of.get((s, w), -1) for s, w in zip(flow.sku, flow.warehouse_id)])
    flow = flow[flow.key >= 0][["supplier_id", "key", "units_per_day"]].reset_index(drop=True)

    net = Network(
        now=when, sku=keys.sku.to_numpy(object), warehouse=keys.warehouse_id.to_numpy(object),
        market=keys.market.to_numpy(object), stock=keys.available.to_numpy(np.float32),
        safety=keys.safety_qty.fillna(0).to_numpy(np.float32),
        price=keys.unit_price.to_numpy(np.float64), cost=keys.unit_cost.to_numpy(np.float64),
        forecast=forecast, uplift=uplift, uplift_sigma=sigma, suppliers=suppliers, lanes=lanes,
        pipeline=_empty_pipeline(), flow=flow, supplier_costs=costs, delivery_slack=slack, nodes=nodes,
        settings=cfg, demand_source=source)
    return replace(net, pipeline=_pipeline(db, when, net, k_of))


def _hours_since(ts: pd.Series, when: datetime) -> np.ndarray:
    t = pd.to_datetime(ts, utc=True)
    return ((t - pd.Timestamp(when)).dt.total_seconds() / 3600).to_numpy(np.float64)


def _demand(db, keys: pd.DataFrame, when: datetime, hours: int, cfg: TwinSettings):
    """(forecast (K, hours), uplift (K,), sigma (K,)): the market forecasts spread over warehouses
    by their share of the market's orders; beyond the forecast's end, the past week's profile by
    hour of day; the uplift and its spread from recent sales."""
    start = pd.Timestamp(when).floor("h")
    frm, until = start - pd.Timedelta(hours=PAST_H), start + pd.Timedelta(hours=hours)
    fc = db.query("twin/forecast_hourly", {"from": frm.to_pydatetime(), "until": until.to_pydatetime()})
    split = db.query("twin/market_split", {"at": when, "hours": PAST_H})
    k_n, span = len(keys), PAST_H + hours
    plan = np.zeros((k_n, span), np.float64)
    covered_until = np.full(k_n, -1)
    if not fc.empty:
        fc["h"] = ((pd.to_datetime(fc.period_start, utc=True) - frm).dt.total_seconds() // 3600).astype(int)
        m = fc.merge(split, on="market").merge(
            keys.reset_index().rename(columns={"index": "k"})[["k", "sku", "warehouse_id"]],
            on=["sku", "warehouse_id"])
        np.add.at(plan, (m.k.to_numpy(), m.h.to_numpy()), (m.units * m.share).to_numpy())
        last = m.groupby("k").h.max()
        covered_until[last.index.to_numpy()] = last.to_numpy()
    # units sold per key and hour over the past week
    sales = db.query("twin/sales_hourly", {"at": when, "hours": PAST_H})
    sold = np.zeros((k_n, PAST_H), np.float64)
    if not sales.empty:
        sales["h"] = ((pd.to_datetime(sales.period_start, utc=True) - frm).dt.total_seconds() // 3600).astype(int)
        s = sales.merge(keys.reset_index().rename(columns={"index": "k"})[["k", "sku", "warehouse_id"]],
                        on=["sku", "warehouse_id"])
        s = s[(s.h >= 0) & (s.h < PAST_H)]
        np.add.at(sold, (s.k.to_numpy(), s.h.to_numpy()), s.units.to_numpy())
    past = plan[:, :PAST_H]
    no_plan = past.sum(axis=1) <= 0
    # a key without a forecast: its own past week's pace, flat
    plan[no_plan, :] = sold[no_plan].mean(axis=1, keepdims=True)
    covered_until[no_plan] = span - 1
    profile = np.stack([past[:, h::24].mean(axis=1) for h in range(24)], axis=1)  # (K, 24) by hour of day
    hod = (frm.hour + np.arange(span)) % 24
    for k in np.flatnonzero(covered_until < span - 1):
        tail = np.arange(max(covered_until[k] + 1, PAST_H), span)
        plan[k, tail] = profile[k, hod[tail]] if not no_plan[k] else plan[k, tail]
    expected = plan[:, :PAST_H]
    d = cfg.demand
    w = d.uplift_window_h
    uplift = (sold[:, -w:].sum(axis=1) + 2) / (expected[:, -w:].sum(axis=1) + 2)
    b = d.spread_bucket_h
    nb = d.spread_window_h // b
    sb = sold[:, -nb * b:].reshape(k_n, nb, b).sum(axis=2)
    eb = expected[:, -nb * b:].reshape(k_n, nb, b).sum(axis=2)
    sigma = np.clip(np.log((sb + 1) / (eb * uplift[:, None] + 1)).std(axis=1), d.min_sigma, d.max_sigma)
    return (plan[:, PAST_H:].astype(np.float32), uplift.astype(np.float32), sigma.astype(np.float32))


def _suppliers(db, when: datetime, cfg: TwinSettings) -> dict[str, Supplier]:
    out = {}
    for r in db.query("twin/suppliers", {"at": when}).itertuples():
        samples = np.asarray(r.lead_samples, dtype=np.float64)
        quoted = float(r.lead_time_days or 0) or 7.0
        learned = len(samples) >= 3
        if not learned:
            samples = lognormal_samples(quoted, cfg.expediting.quoted_lead_cv)
        cap = float(r.capacity_per_day or 0)
        out[r.supplier_id] = Supplier(r.supplier_id, r.name or r.supplier_id, r.tier or "primary", r.country,
                                      cap, max(cap - float(r.committed_per_day or 0), 0.0), quoted,
                                      samples, learned)
    return out


def _lanes(db, when: datetime, cfg: TwinSettings) -> dict[tuple[str, str], list[Lane]]:
    nodes = db.query("twin/lane_nodes", {"at": when})
    out: dict[tuple[str, str], list[Lane]] = {}
    for r in db.query("twin/lanes", {"at": when}).itertuples():
        on = nodes[(nodes.supplier_id == r.supplier_id) & (nodes.warehouse_id == r.warehouse_id)
                   & (nodes["mode"] == r.mode)].sort_values("position")
        samples = np.asarray(r.transit_samples, dtype=np.float64)
        mode = r.mode if r.mode in settings_mod.MODES else "sea"
        lane = (Lane(r.supplier_id, r.warehouse_id, mode, int(r.shipments), samples, True)
                if len(samples) >= 3 else replace(default_lane(cfg, r.supplier_id, r.warehouse_id, mode),
                                                  shipments=int(r.shipments)))
        lane = replace(lane, nodes=tuple(on.node_id), positions=tuple(float(p) for p in on.position))
        out.setdefault((r.supplier_id, r.warehouse_id), []).append(lane)
    for lanes in out.values():
        lanes.sort(key=lambda ln: -ln.shipments)
    return out


def _pipeline(db, when: datetime, net: Network, k_of: dict) -> Pipeline:
    p = db.query("twin/pipeline", {"at": when})
    p = p.assign(k=[k_of.get((s, w), -1) for s, w in zip(p.sku, p.warehouse_id)])
    p = p[(p.k >= 0) & (p.units > 0)].reset_index(drop=True)
    if p.empty:
        return _empty_pipeline()
    modes = [m if isinstance(m, str) else net.lane(s, w).mode
             for m, s, w in zip(p["mode"], p.supplier_id, p.warehouse_id)]
    return Pipeline(
        ref=p.ref.to_numpy(object), kind=(p.kind == "po").to_numpy(np.int8), key=p.k.to_numpy(np.int64),
        supplier=p.supplier_id.to_numpy(object), units=p.units.to_numpy(np.float32),
        order_h=_hours_since(p.ordered_at, when), promised_h=_hours_since(p.promised_ship_date, when),
        shipped_h=_hours_since(p.shipped_at, when), eta_h=_hours_since(p.eta, when),
        mode=np.asarray(modes, dtype=object))


def _empty_pipeline() -> Pipeline:
    e = np.array([], dtype=object)
    f = np.array([], dtype=np.float64)
    return Pipeline(e, np.array([], np.int8), np.array([], np.int64), e, np.array([], np.float32), f, f, f, f, e)


def _empty(when: datetime, cfg: TwinSettings, hours: int) -> Network:
    e = np.array([], dtype=object)
    z = np.zeros(0, np.float32)
    return Network(when, e, e, e, z, z, z.astype(np.float64), z.astype(np.float64),
                   np.zeros((0, hours), np.float32), z, z, {}, {}, _empty_pipeline(),
                   pd.DataFrame({"supplier_id": [], "key": [], "units_per_day": []}), {}, {}, {}, cfg)


def hours_at(net: Network, h: float) -> datetime:
    return net.now + timedelta(hours=float(h))
