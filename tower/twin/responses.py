"""Responses the twin compares, as data: what the seller could do about a disruption. Each is decided
at h = 0 (now). `default_responses(network)` proposes the usual set for the network at hand.

- do_nothing: the baseline every net benefit is measured against.
- shift_to_backup(share): `share` of the primary's not-yet-shipped volume (open POs and the orders the
  usual pattern would place) goes to the backup supplier, made at its free capacity, on its lanes.
- air_freight: goods not yet shipped by sea fly instead (the supplier's air lane, else the default).
- alternative_route(via, mode): goods not yet shipped whose route passes a disrupted node go via
  `via` by `mode` instead (e.g. Zhejiang → Shanghai Pudong air → US East), plus feeder hours.
- emergency_supplier(share_of_gap): the emergency supplier makes the expected shortfall per SKU ×
  warehouse (× share_of_gap), at its capacity, on its lanes.
- transfer(from, to, share): `share` of the sending warehouse's stock above `keep_days` of its own
  demand moves to the receiving warehouse (same SKUs).
- cap_promotion(factor): demand in the scenario's surge windows (the observed uplift when there is
  none) is × factor; part of the turned-away demand comes back later (config cap_recapture)."""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from tower.twin.errors import TwinInvalid
from tower.twin.scenarios import words


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @property
    def name(self) -> str:
        return self.kind


class DoNothing(_Strict):
    kind: Literal["do_nothing"] = "do_nothing"


class ShiftToBackup(_Strict):
    kind: Literal["shift_to_backup"] = "shift_to_backup"
    share: float = Field(gt=0, le=1)
    backup: str | None = None      # default: the backup-tier supplier
    primary: str | None = None     # default: the primary-tier supplier

    @property
    def name(self) -> str:
        return f"shift_to_backup_{round(self.share * 100)}"


class AirFreight(_Strict):
    kind: Literal["air_freight"] = "air_freight"
    supplier: str | None = None    # default: every supplier shipping by sea


class AlternativeRoute(_Strict):
    kind: Literal["alternative_route"] = "alternative_route"
    via: str = Field(min_length=1)
    mode: Literal["sea", "air", "truck", "express"] = "air"
    avoid: list[str] = Field(default_factory=list)   # default: the nodes the scenario disrupts

    @property
    def name(self) -> str:
        return f"alternative_route_{self.via}"


class EmergencySupplier(_Strict):
    kind: Literal["emergency_supplier"] = "emergency_supplier"
    share_of_gap: float = Field(default=1.0, gt=0, le=2)
    supplier: str | None = None    # default: the emergency-tier supplier


class Transfer(_Strict):
    kind: Literal["transfer"] = "transfer"
    from_warehouse: str = Field(min_length=1)
    to_warehouse: str = Field(min_length=1)
    share: float = Field(default=0.5, gt=0, le=1)

    @property
    def name(self) -> str:
        return f"transfer_{self.from_warehouse}_to_{self.to_warehouse}"


class CapPromotion(_Strict):
    kind: Literal["cap_promotion"] = "cap_promotion"
    factor: float = Field(gt=0, le=1)

    @property
    def name(self) -> str:
        return f"cap_promotion_{round(self.factor * 100)}"


Response = Annotated[Union[DoNothing, ShiftToBackup, AirFreight, AlternativeRoute, EmergencySupplier,
                           Transfer, CapPromotion], Field(discriminator="kind")]
_ADAPTER = TypeAdapter(Response)


def parse(data: dict) -> Response:
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as e:
        raise TwinInvalid(f"response {data.get('kind', '?')!r}: {words(e)}") from None


def check(network, responses: list) -> None:
    """Refuse responses naming a supplier, node or warehouse the network does not have."""
    whs = set(network.warehouse)
    names = [r.name for r in responses]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise TwinInvalid(f"the same response twice: {', '.join(sorted(dup))}")
    for r in responses:
        for sup in (getattr(r, "backup", None), getattr(r, "primary", None), getattr(r, "supplier", None)):
            if sup is not None and sup not in network.suppliers:
                raise TwinInvalid(f"{r.name}: unknown supplier {sup!r}; known: {', '.join(sorted(network.suppliers))}")
        for node in ([r.via] if isinstance(r, AlternativeRoute) else []) + list(getattr(r, "avoid", [])):
            if node not in network.nodes:
                raise TwinInvalid(f"{r.name}: unknown port or node {node!r}")
        if isinstance(r, Transfer):
            for w in (r.from_warehouse, r.to_warehouse):
                if w not in whs:
                    raise TwinInvalid(f"{r.name}: unknown warehouse {w!r}; known: {', '.join(sorted(whs))}")
            if r.from_warehouse == r.to_warehouse:
                raise TwinInvalid(f"{r.name}: a transfer needs two different warehouses")
        if isinstance(r, ShiftToBackup) and r.backup is None and network.by_tier("backup") is None:
            raise TwinInvalid("shift_to_backup: the network has no backup-tier supplier")
        if isinstance(r, EmergencySupplier) and r.supplier is None and network.by_tier("emergency") is None:
            raise TwinInvalid("emergency_supplier: the network has no emergency-tier supplier")


def default_responses(network) -> list:
    """do_nothing plus every response the network can carry out."""
    out: list = [DoNothing()]
    if network.by_tier("backup") is not None and network.by_tier("primary") is not None:
        out.append(ShiftToBackup(share=0.3))
    out.append(AirFreight())
    airports = [n for n, v in network.nodes.items() if v.get("kind") == "airport"]
    backup = network.by_tier("backup")
    backup_airports = [n for lanes in network.lanes.values() for ln in lanes
                       if backup is not None and ln.supplier_id == backup.supplier_id
                       for n in ln.nodes if n in airports]
    via = backup_airports[0] if backup_airports else (sorted(airports)[0] if airports else None)
    if via is not None:
        out.append(AlternativeRoute(via=via, mode="air"))
    if network.by_tier("emergency") is not None:
        out.append(EmergencySupplier())
    pair = _transfer_pair(network)
    if pair is not None:
        out.append(Transfer(from_warehouse=pair[0], to_warehouse=pair[1], share=0.5))
    out.append(CapPromotion(factor=0.8))
    return out


def _transfer_pair(network) -> tuple[str, str] | None:
    """Two warehouses of the same market: from the one with more cover to the one with less."""
    by_market: dict[str, list[str]] = {}
    for w, m in dict(zip(network.warehouse, network.market)).items():
        by_market.setdefault(m, []).append(w)
    daily = network.forecast[:, :24 * 7].sum(axis=1) / 7
    for whs in by_market.values():
        if len(whs) >= 2:
            cover = {w: network.stock[network.warehouse == w].sum() / max(daily[network.warehouse == w].sum(), 1e-6)
                     for w in whs}
            ranked = sorted(whs, key=lambda w: -cover[w])
            return ranked[0], ranked[-1]
    return None
