"""The twin's two refusals. Both carry a message in words a user can act on."""
from __future__ import annotations


class TwinInvalid(ValueError):
    """A scenario, response or network the twin cannot simulate: unknown supplier/port/SKU,
    impossible parameters, a horizon beyond the memory limit, an empty network."""


class TwinCancelled(RuntimeError):
    """A simulation stopped because its caller cancelled it."""
