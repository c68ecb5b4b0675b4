"""Merchant scope in the UI: a merchant user (Identity.merchant set) reads its own database — the
snapshot cut to its rows by tower.merchant_snapshot — on every page, in every export and in the
console; its merchant filter is pinned (the URL cannot change it); platform-only pages refuse it.

The scope is the *database*, not a WHERE clause pages must remember: a page or query written later
that forgets the merchant filter still sees only the merchant's rows. A scoped session never gets
the live database; if its own cannot be built the page stops with a message (fail closed)."""
from __future__ import annotations

import logging
import threading
from dataclasses import replace
from pathlib import Path

import streamlit as st

from tower import merchant_snapshot, sql_console
from tower.auth.policy import Identity
from tower.db import Database
from tower.ui import i18n
from tower.ui.filters import ViewState

log = logging.getLogger("tower.ui")
# How old the analyst snapshot a merchant's pages are cut from may be (the console uses its own).
PAGE_SNAPSHOT_MAX_AGE_S = 15.0
# Pages about the platform's own operations: no merchant rows in them to show, so a merchant is
# told so instead ("audit" is the Audit page, when it is added).
PLATFORM_PAGES = ("stock", "suppliers", "sources", "audit", "actions")
_open: dict[Path, Database] = {}
_lock = threading.Lock()


class ScopeUnavailable(RuntimeError):
    """The merchant's database could not be built; the merchant sees nothing rather than everything."""


def pin(state: ViewState, who: Identity) -> ViewState:
    """`state` with a scoped identity's merchant as the merchant filter, whatever the URL said."""
    return replace(state, merchant=who.merchant) if who.scoped else state


def snapshot_path(rt) -> Path:
    cfg = getattr(rt, "config", None)
    path = getattr(cfg, "snapshot_path", None)
    return Path(path) if path else Path(rt.db.path).parent / "snapshot" / "tower.duckdb"


def instance_limits(rt) -> dict:
    """[database]'s memory and thread limits, for the DuckDB instance a merchant's file opens in this
    process (its spill files stay in DuckDB's default folder beside that file)."""
    engine = getattr(getattr(rt, "config", None), "engine", None) or {}
    return {k: v for k, v in engine.items() if k in ("memory_limit", "threads")}


def data_db(rt, who: Identity):
    """The database this identity's pages read: the live one, or for a merchant its own cut."""
    if not who.scoped:
        return rt.db
    try:
        snapshot = sql_console.fresh_snapshot(rt.db, snapshot_path(rt), PAGE_SNAPSHOT_MAX_AGE_S)
        path = merchant_snapshot.fresh(snapshot, who.merchant, instance_limits(rt))
    except Exception as e:  # noqa: BLE001 - any failure: no data at all, never the full database
        log.error("merchant database for %r not built: %s", who.merchant, e)
        raise ScopeUnavailable(str(e)) from e
    with _lock:
        db = _open.get(path)
        if db is None:
            for old in [p for p in _open if p.parent == path.parent]:
                _open.pop(old)  # closed when the last page using it lets go (a running query finishes)
            db = _open[path] = Database(path, read_only=True, engine=instance_limits(rt))
    return db


def stop_unavailable(lang: str, error: Exception) -> None:
    st.error(i18n.t("scope.unavailable", lang, error=str(error)[:200]))
    st.stop()


def guard_page(url_path: str, who: Identity, lang: str) -> None:
    """Before a page runs: a merchant on a platform-only page gets a refusal in words instead."""
    if who.scoped and url_path in PLATFORM_PAGES:
        st.title(i18n.t(f"nav.{url_path}", lang) if i18n.t(f"nav.{url_path}", lang) != f"nav.{url_path}"
                 else url_path)
        st.info(i18n.t(f"scope.refused.{url_path}", lang, merchant=who.merchant))
        st.stop()


def console_db(ctx):
    """The database the SQL console publishes the analyst snapshot from (the live one); with
    `merchant=ctx.scope`, tower.sql_console then cuts the merchant's own file from that snapshot
    and the console child opens only that file."""
    return ctx.runtime.db if ctx.scope is not None and ctx.runtime is not None else ctx.db
