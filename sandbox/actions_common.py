"""What the sandbox's write paths share (issue 13): the vendor's refusal, quantity checks, and a change
queued at an instant of simulated time."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sandbox.sim import H

MAX_QUANTITY = 100_000            # more than a year of the whole shop's demand: a typo, not an order


class ActionError(Exception):
    """The vendor refuses: 422 names the `field`, 409 a `code` (with numbers in `extra`), 404 unknown."""

    def __init__(self, status: int, message: str, *, field: str | None = None, code: str | None = None,
                 **extra):
        super().__init__(message)
        self.status, self.message, self.field, self.code, self.extra = status, message, field, code, extra


@dataclass
class Deferred:
    """A change queued at an instant of simulated time (it rides the world's "arrive" happenings)."""
    apply: Callable[[datetime, bool], None]
    rev: int = 0


def ceil_hour(t: datetime) -> datetime:
    floor = t.replace(minute=0, second=0, microsecond=0)
    return floor if floor == t else floor + H


def check_quantity(quantity, field: str = "quantity") -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise ActionError(422, "must be a whole number of units", field=field)
    if quantity <= 0:
        raise ActionError(422, f"must be at least 1 (got {quantity})", field=field)
    if quantity > MAX_QUANTITY:
        raise ActionError(422, f"{quantity} units is more than {MAX_QUANTITY} per order", field=field)
    return quantity
