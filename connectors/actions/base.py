"""What every action client is: one kind of write to an outside system, sent with an idempotency key.

The engine (tower/actions) owns the log and the state machine; a client only knows its vendor's
format. `preview` is the dry run: the exact request `send` would make, with no credentials in it.
`send` must be safe to call again with the same key: the vendor deduplicates on the key (an
`Idempotency-Key` header, or a natural key such as a discount code derived from it), so a retry after
a timeout or a kill -9 never makes a second PO."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Sent:
    """The vendor accepted the request."""
    external_id: str | None                 # PO number, booking id, discount gid, metafield id …
    request: dict                           # {"method", "url", "body"}: what was sent (no credentials)
    response: dict | None = None            # the vendor's reply body
    acknowledged: bool = False              # True when the reply itself is the confirmation
    cost: float | None = None               # what the vendor says it costs (USD), when it says
    eta: datetime | None = None             # when its effect lands (goods arrive, transfer done)
    detail: dict = field(default_factory=dict)   # anything else worth showing (promised date …)


class ActionRefused(Exception):
    """The vendor said no (4xx, validation or user errors): retrying will not help. The message is
    the vendor's reason in words."""

    def __init__(self, message: str, *, status: int | None = None, response: dict | None = None):
        super().__init__(message)
        self.status = status
        self.response = response


class ActionUnavailable(Exception):
    """The vendor could not be reached or failed (timeout, connection refused, 429, 5xx): worth
    retrying with backoff; after the last retry the engine falls back to the manual procedure."""

    def __init__(self, message: str, *, status: int | None = None, retry_after_s: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


class ActionClient(Protocol):
    kind: str                               # raise_po | book_freight | … (the actions.kind column)

    def preview(self, params: dict, key: str) -> dict:
        """The exact request `send` would make: {"method", "url", "body"}; sends nothing."""

    def send(self, params: dict, key: str) -> Sent:
        """Send it. Raises ActionRefused or ActionUnavailable; never sends twice for one key."""

    def compensate(self, params: dict, external_id: str, key: str) -> Sent | None:
        """Undo what `send` did where the vendor allows it (cancel the PO, restore the ship time,
        expire the coupon); None when this kind cannot be undone."""
