"""From a signed-in OIDC user to a tower.auth.policy.Identity: which Tower roles and which merchant.

Two sources, combined:
- the ID token's claims: a roles claim (name configurable, default "roles"; "groups" is read too) as
  a list or a space/comma separated string, and a `merchant` claim;
- the roles file (config/roles.toml), keyed by the user's subject or e-mail address:

      [users."ada@example.com"]
      roles = ["operator", "analyst"]
      [users."0f3c9a2e-…"]                  # an OIDC `sub`
      roles = ["viewer"]
      merchant = "nordic-nest"              # this user sees only that merchant's data

Roles are the union of both; the file's merchant wins over the claim's. Claim values that are not
Tower roles (providers send many groups) are ignored with a log line. A user with no Tower role gets
no roles — never a default — and the UI says to ask an admin. Provider groups may be prefixed:
"tower-admin", "tower:admin", "/tower/admin" and "admin" all mean admin."""
from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tower.auth.policy import ROLES, Identity

log = logging.getLogger(__name__)

DEFAULT_ROLES_CLAIM = "roles"
EXTRA_ROLE_CLAIMS = ("groups",)    # read as well as the configured claim
MERCHANT_CLAIM = "merchant"
_PREFIX = re.compile(r"^/?tower[-_:/.]", re.I)


class RolesFileError(ValueError):
    """The roles file cannot be used; the message names the file and the problem."""


class RoleEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    roles: list[str] = Field(default_factory=list)
    merchant: str | None = None

    @field_validator("roles")
    @classmethod
    def _known(cls, roles: list[str]) -> list[str]:
        unknown = sorted(set(roles) - set(ROLES))
        if unknown:
            raise ValueError(f"unknown role(s) {unknown}; roles are {', '.join(ROLES)}")
        return roles

    @field_validator("merchant")
    @classmethod
    def _not_blank(cls, merchant: str | None) -> str | None:
        if merchant is not None and not merchant.strip():
            raise ValueError("merchant must not be empty (leave it out for a user of every merchant)")
        return merchant.strip() if merchant else merchant


class RolesFile(BaseModel):
    """config/roles.toml: [users."<email or subject>"] roles = [...], merchant = "..."."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    users: dict[str, RoleEntry] = Field(default_factory=dict)

    def entry_for(self, subject: str, email: str | None) -> RoleEntry | None:
        if subject in self.users:
            return self.users[subject]
        if email:
            wanted = email.strip().lower()
            return next((e for key, e in self.users.items() if key.strip().lower() == wanted), None)
        return None


def load_roles_file(path: Path | None) -> RolesFile:
    """The roles file at `path`; an absent file is an empty one. Raises RolesFileError in words."""
    if path is None or not Path(path).exists():
        return RolesFile()
    try:
        with Path(path).open("rb") as f:
            raw = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise RolesFileError(f"{path} is not valid TOML: {e}") from None
    except OSError as e:
        raise RolesFileError(f"{path} cannot be read: {e}") from None
    try:
        return RolesFile.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors())
        raise RolesFileError(f"{path}: {problems}") from None


def claim_values(value: object) -> list[str]:
    """A claim as a list of strings: a list, or one string split on spaces and commas."""
    if isinstance(value, str):
        return [v for v in re.split(r"[\s,]+", value) if v]
    if isinstance(value, (list, tuple)):
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]
    return []


def role_name(value: str) -> str | None:
    """'Admin', 'tower-admin', '/tower/admin' → 'admin'; anything else → None."""
    name = _PREFIX.sub("", value.strip()).strip("/").lower()
    return name if name in ROLES else None


def roles_from_claims(claims: Mapping[str, object], roles_claim: str = DEFAULT_ROLES_CLAIM) -> set[str]:
    found: set[str] = set()
    for claim in dict.fromkeys((roles_claim, *EXTRA_ROLE_CLAIMS)):
        for value in claim_values(claims.get(claim)):
            role = role_name(value)
            if role:
                found.add(role)
            else:
                log.info("ignoring %r in claim %r of %s: not a Tower role (%s)", value, claim,
                         claims.get("sub"), ", ".join(ROLES))
    return found


def identity_from_claims(claims: Mapping[str, object], roles_file: RolesFile | None = None, *,
                         roles_claim: str = DEFAULT_ROLES_CLAIM, origin: str = "") -> Identity:
    """The Identity of a signed-in user from the ID token's claims (st.user) and the roles file."""
    subject = str(claims.get("sub") or claims.get("email") or "")
    if not subject:
        raise ValueError("the identity provider sent no subject (`sub`) for this user")
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    # an address the provider says it has not verified must not unlock someone else's roles entry
    by_email = email if claims.get("email_verified", True) not in (False, "false") else None
    entry = (roles_file or RolesFile()).entry_for(subject, by_email)
    roles = roles_from_claims(claims, roles_claim) | set(entry.roles if entry else ())
    merchant_claim = claims.get(MERCHANT_CLAIM)
    merchant = (entry.merchant if entry and entry.merchant else
                merchant_claim.strip() if isinstance(merchant_claim, str) and merchant_claim.strip() else None)
    name = next((str(claims[k]) for k in ("name", "preferred_username", "email")
                 if isinstance(claims.get(k), str) and claims[k].strip()), subject)
    if not roles:
        log.warning("%s (%s) signed in with no Tower role", name, subject)
    return Identity(subject=subject, name=name, roles=frozenset(roles), merchant=merchant,
                    email=email, origin=origin, via="oidc")
