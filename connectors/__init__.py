"""Connectors: incremental, validated, idempotent pulls from the outside world into DuckDB.

`build(source_cfg, config)` turns a `[sources.<name>]` table into a source object by its `kind`;
`connectors.base.sync(source, db, clock)` runs it once; `connectors.scheduler.Scheduler` runs all
of them on their intervals.
"""
from __future__ import annotations

from connectors.aftership import AfterShipSource
from connectors.base import RunResult, Source, sync
from connectors.dcsa import DcsaSource
from connectors.fx_rates import FxRatesSource
from connectors.nps import CsatSource, NpsSource
from connectors.planning import PlanningSource
from connectors.returns import ReturnsSource
from connectors.shopify import ShopifySource
from connectors.shopify_graphql import ShopifyGraphQLSource
from connectors.supplier_csv import SupplierCsvSource
from connectors.supplier_portal import SupplierPortalSource
from connectors.track17 import Track17Source

KINDS: dict[str, type[Source]] = {cls.kind: cls for cls in (
    AfterShipSource, ShopifySource, ShopifyGraphQLSource, SupplierPortalSource, SupplierCsvSource,
    ReturnsSource, NpsSource, CsatSource, PlanningSource, FxRatesSource, Track17Source, DcsaSource,
)}
# Configs written before the GraphQL connector say `kind = "shopify"`: that was (and stays) REST.
KINDS["shopify"] = ShopifySource


class UnknownKind(ValueError):
    pass


def build(source_cfg, config) -> Source:
    """The connector for one configured source (raises UnknownKind for an unknown `kind`)."""
    try:
        cls = KINDS[source_cfg.kind]
    except KeyError:
        raise UnknownKind(f"source {source_cfg.name!r}: unknown kind {source_cfg.kind!r} "
                          f"(known: {', '.join(sorted(KINDS))})") from None
    return cls(source_cfg, config)


__all__ = ["build", "sync", "KINDS", "RunResult", "Source", "UnknownKind"]
