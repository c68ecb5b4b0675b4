"""The one error every layer of tower.actions raises for bad input (re-exported by engine.py)."""
from __future__ import annotations


class ActionInvalid(ValueError):
    """The action cannot be proposed or moved as asked: bad parameters (the message names the field),
    an unknown SKU/supplier/warehouse, or a status that does not allow the step. Nothing was written."""
