"""Identities and the five roles. Every write, export and query checks `require(identity, permission)`
on the server, in the function that does it: hiding a button is never the check.

A role grants permissions; a user may hold several roles. Admin holds every permission. A merchant
user (S2B2C) is any role with `merchant` set: it sees only that merchant's data (scope, not role)."""
from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("viewer", "operator", "approver", "analyst", "admin")

# permission → what it covers (the words are shown in refusals and in the README's matrix)
PERMISSIONS = {
    "view": "see the boards",
    "operate": "acknowledge, assign, snooze, resolve alerts and propose actions",
    "approve": "approve actions over their limits",
    "analyse": "use the SQL console, downloads, the data pack and the snapshot",
    "administer": "change configuration, rules and automatic playbooks, manage users, wall-screen links "
                  "and read the audit trail",
}

GRANTS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"view"}),
    "operator": frozenset({"view", "operate"}),
    "approver": frozenset({"view", "operate", "approve"}),
    "analyst": frozenset({"view", "analyse"}),
    "admin": frozenset(PERMISSIONS),
}


# What a merchant user (S2B2C) may do whatever its roles: look at its own data and analyse it.
# Alerts, actions and settings are the platform's: they concern stock and parcels of every merchant.
MERCHANT_PERMISSIONS = frozenset({"view", "analyse"})


class Refused(PermissionError):
    """The identity lacks the permission; the message says who, what and which role would do."""


@dataclass(frozen=True)
class Identity:
    subject: str                       # stable id: the OIDC `sub`, "local" or "wall:<token id>"
    name: str                          # what the audit trail and the screen show
    roles: frozenset[str] = field(default_factory=frozenset)
    merchant: str | None = None        # set: this user sees only this merchant's data
    email: str | None = None
    origin: str = ""                   # where the request came from (client address), for the audit
    via: str = "oidc"                  # oidc | local | wall_token

    def __post_init__(self):
        unknown = set(self.roles) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown role(s) {sorted(unknown)}; roles are {', '.join(ROLES)}")

    @property
    def permissions(self) -> frozenset[str]:
        granted = frozenset().union(*(GRANTS[r] for r in self.roles)) if self.roles else frozenset()
        return granted & MERCHANT_PERMISSIONS if self.scoped else granted

    def can(self, permission: str) -> bool:
        if permission not in PERMISSIONS:
            raise ValueError(f"unknown permission {permission!r}")
        return permission in self.permissions

    @property
    def scoped(self) -> bool:
        return self.merchant is not None


def local_admin(origin: str = "127.0.0.1") -> Identity:
    """The one user of local mode (no [auth] configured, loopback only)."""
    return Identity("local", "local admin", frozenset({"admin"}), origin=origin, via="local")


NOBODY = Identity("anonymous", "not signed in")


def roles_with(permission: str) -> list[str]:
    return [r for r in ROLES if permission in GRANTS[r]]


def require(identity: Identity | None, permission: str) -> Identity:
    """Return `identity` if it holds `permission`, else raise Refused with a message in words."""
    who = identity or NOBODY
    if who.scoped and permission not in MERCHANT_PERMISSIONS:
        raise Refused(f"{who.name} sees merchant {who.merchant}'s own data only: to "
                      f"{PERMISSIONS[permission]} is for the platform's war room.")
    if not who.can(permission):
        raise Refused(f"{who.name} may not {PERMISSIONS[permission]}: that needs the "
                      f"{' or '.join(roles_with(permission))} role.")
    return who
