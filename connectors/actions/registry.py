"""Which client writes each action kind, built from the config ([actions] and the sources it reuses)."""
from __future__ import annotations

from collections.abc import Callable

from connectors.actions import freight, supplier_po, transfer
from connectors.actions.base import ActionClient
from connectors.actions.notify import NotifyClient
from connectors.actions.storefront import CapPromotion, CreateDiscount, SetPromisedShipTime
from tower.config import Config

# kind -> factory(cfg) -> client. Each action module adds its kinds here.
FACTORIES: dict[str, Callable[[Config], ActionClient]] = {
    "raise_po": supplier_po.client,
    "book_freight": freight.client,
    "transfer_stock": transfer.client,
    "set_promised_ship_time": SetPromisedShipTime,
    "create_discount": CreateDiscount,
    "cap_promotion": CapPromotion,
    "notify": NotifyClient,
}


def client_for(kind: str, cfg: Config) -> ActionClient:
    try:
        factory = FACTORIES[kind]
    except KeyError:
        raise ValueError(f"unknown action kind {kind!r}; known: {', '.join(sorted(FACTORIES))}") from None
    return factory(cfg)
