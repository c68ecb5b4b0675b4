"""Roles on the page, in the viewer's language: the refusal a page shows when the signed-in user
lacks a permission, the download button every export goes through, and the audit trail's codes in
words. The checks themselves are on the server, in the domain functions (tower.alerts.lifecycle,
tower.retro.events, tower.sql_console, tower.auth.exports / trail): a page hides what its user may
not do, and the function refuses anyway if asked."""
from __future__ import annotations

import re
from collections.abc import Callable

import streamlit as st

from tower.auth import exports, policy
from tower.auth.policy import Identity

_TARGET = re.compile(r"^([a-z_]+):(.+)$")


_LOCAL_NAME = policy.local_admin().name


def person(t: Callable[..., str], name) -> str:
    """A user's name as shown: the local-mode admin in the viewer's words, anyone else as named."""
    if not isinstance(name, str):
        return ""
    return t("audit.local_admin") if name == _LOCAL_NAME else name


def refusal(t: Callable[..., str], who: Identity, permission: str) -> str:
    """"<name> may not <what>: that needs the <role> role." in the viewer's language."""
    roles = t("audit.or").join(t(f"audit.role.{r}") for r in policy.roles_with(permission))
    return t("audit.refused", name=person(t, who.name), what=t(f"audit.perm.{permission}"), roles=roles)


def acting_as(t: Callable[..., str], who: Identity) -> str:
    return t("audit.signed_in_as", name=person(t, who.name))


def download(ctx, who: Identity, label: str, build: Callable[[], bytes | str], *, file_name: str,
             mime: str, key: str, detail: dict | None = None, where=st) -> bool:
    """A download button for users who may export ("analyse"); nothing at all for others. The bytes
    are built on click by tower.auth.exports.export, which checks the permission again and appends
    the audit row. Returns whether the button was shown."""
    if not who.can("analyse"):
        return False
    where.download_button(label, data=lambda: exports.export(ctx.db, who, file_name, build, at=ctx.now,
                                                             detail=detail),
                          file_name=file_name, mime=mime, on_click="ignore", key=key)
    return True


def action_text(t: Callable[..., str], code: str) -> str:
    """An audit action code (alert.acknowledge, export …) in words; unknown codes as written."""
    text = t(f"audit.action.{code}")
    return code if text == f"audit.action.{code}" else text


def target_text(t: Callable[..., str], target: str | None) -> str:
    """alert:42 → "alert #42" in words; a file name or an unknown target as written."""
    if not isinstance(target, str):
        return ""
    match = _TARGET.match(target)
    if not match:
        return target
    key = f"audit.target.{match.group(1)}"
    text = t(key, id=match.group(2))
    return target if text == key else text


def role_text(t: Callable[..., str], role: str) -> str:
    text = t(f"audit.role.{role}")
    return role if text == f"audit.role.{role}" else text


def via_text(t: Callable[..., str], via) -> str:
    """How the actor signed in (oidc, local, wall_token) in words."""
    if not isinstance(via, str) or not via:
        return ""
    text = t(f"audit.via.{via}")
    return via if text == f"audit.via.{via}" else text
