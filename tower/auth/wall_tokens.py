"""Signed wall-screen links: an admin issues a read-only, expiring, revocable token for a playlist of
pages; a TV opens `?kiosk=1&playlist=…&token=…` and shows the board without signing in.

A token is `<token id>.<expiry, unix seconds>.<signature>`: the signature is HMAC-SHA256 over the
id, the playlist and the expiry with a server secret (stdlib hmac; itsdangerous is not a declared
dependency), base64url without padding, so the link is compact and URL-safe. The signature proves
the link was issued here and that nobody changed its playlist or expiry; the `wall_tokens` row says
whether it still holds (revoked, or unknown to this database). Verification runs on every screen
refresh, so a revocation takes effect on the next one.

The secret, first found wins: `[auth] cookie_secret` in .streamlit/secrets.toml, `[wall] secret`
there, the environment's TOWER_WALL_SECRET, else a random secret written once to
<data folder>/.wall_secret (mode 0600) so links survive restarts. The key used for signing is
derived from it (HMAC with a fixed label), so the cookie secret itself never signs a link."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import queries
from tower.auth import audit, policy
from tower.auth.policy import Identity

SECRET_ENV = "TOWER_WALL_SECRET"
SECRET_FILE = ".wall_secret"      # in the data folder; the console has no file access at all
KEY_LABEL = b"tower wall-screen links v1"
MAX_VALID_FOR = timedelta(days=366)

# why a token is refused (tower/ui/locales/wall.toml has the words for each)
BAD_SIGNATURE, EXPIRED, REVOKED, UNKNOWN = "bad_signature", "expired", "revoked", "unknown"


class WallTokenError(ValueError):
    """Bad input to issue/revoke (empty playlist, validity out of range, unknown link), in words."""


@dataclass(frozen=True)
class Verdict:
    """What `verify` found: `identity` when the link holds, else `reason` (one of the constants)."""
    identity: Identity | None = None
    reason: str | None = None
    token_id: str | None = None
    playlist: tuple[str, ...] = ()
    label: str | None = None
    expires_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.identity is not None


# ── the secret ──────────────────────────────────────────────────────────────────────────────────
def _secrets_file(path: Path | None) -> dict:
    if not path or not Path(path).exists():
        return {}
    with Path(path).open("rb") as f:
        return tomllib.load(f)


def server_secret(secrets_path: Path | None, data_dir: Path) -> bytes:
    """The signing key for wall links (see the module docstring for where the secret comes from)."""
    found = _secrets_file(secrets_path)
    raw = (found.get("auth", {}).get("cookie_secret") or found.get("wall", {}).get("secret")
           or os.environ.get(SECRET_ENV))
    if raw:
        material = str(raw).encode()
    else:
        material = _secret_file(Path(data_dir))
    return hmac.new(material, KEY_LABEL, hashlib.sha256).digest()


def _secret_file(data_dir: Path) -> bytes:
    path = data_dir / SECRET_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once never overwrite each other's secret
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    value = secrets.token_urlsafe(48).encode()
    with os.fdopen(fd, "wb") as f:
        f.write(value)
    return value


def secret_for(cfg) -> bytes:
    """`server_secret` for a tower.config.Config."""
    return server_secret(getattr(cfg, "secrets_path", None), cfg.data_dir)


# ── tokens ──────────────────────────────────────────────────────────────────────────────────────
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _playlist_text(playlist) -> str:
    names = [p.strip() for p in (playlist.split(",") if isinstance(playlist, str) else playlist or ())]
    return ",".join(p for p in names if p)


def _signature(key: bytes, token_id: str, playlist: str, expires: int) -> str:
    message = f"{token_id}\n{playlist}\n{expires}".encode()
    return _b64(hmac.new(key, message, hashlib.sha256).digest())


def _utc(at: datetime) -> datetime:
    return at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc)


def issue(db, who: Identity, playlist, label: str, valid_for: timedelta, now: datetime, *,
          secret: bytes) -> str:
    """Issue a link for `playlist` (names of pages, list or comma-separated), valid for `valid_for`
    from `now` (real UTC). Needs the administer permission; the row and its audit entry are written
    in one transaction. Returns the token for the URL's `token=`."""
    policy.require(who, "administer")
    names = _playlist_text(playlist)
    if not names:
        raise WallTokenError("A wall-screen link needs at least one page in its playlist.")
    if not timedelta(0) < valid_for <= MAX_VALID_FOR:
        raise WallTokenError(f"A wall-screen link is valid for more than 0 and at most "
                             f"{MAX_VALID_FOR.days} days.")
    now = _utc(now)
    expires = int((now + valid_for).timestamp())
    token_id = secrets.token_urlsafe(9)     # 12 characters, no "." (the token's separator)
    label = (label or "").strip() or None
    with db.cursor() as cur:
        cur.begin()
        cur.execute(queries.load("auth/wall_token_insert"), {
            "token_id": token_id, "playlist": names, "issued_by": who.subject, "issued_at": now,
            "expires_at": datetime.fromtimestamp(expires, timezone.utc), "label": label})
        audit.record(cur, who, "wall_link.issue", at=now, target=f"wall:{token_id}",
                     detail={"playlist": names, "label": label, "expires_at": expires})
        cur.commit()
    return f"{token_id}.{expires}.{_signature(secret, token_id, names, expires)}"


def verify(db, token: str | None, now: datetime, *, playlist, secret: bytes) -> Verdict:
    """Check a link as the screen presents it (`token=` and `playlist=` from the URL). The signature
    is checked first, in constant time, so a forged or altered link never reaches the database."""
    names = _playlist_text(playlist)
    parts = (token or "").split(".")
    if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or len(parts[1]) > 12:
        return Verdict(reason=BAD_SIGNATURE)
    token_id, expires_text, given = parts
    expected = _signature(secret, token_id, names, int(expires_text))
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        return Verdict(reason=BAD_SIGNATURE)
    found = _row(db, token_id)
    if found is None:
        return Verdict(reason=UNKNOWN, token_id=token_id)
    expires_at = datetime.fromtimestamp(int(expires_text), timezone.utc)
    common = dict(token_id=token_id, playlist=tuple(names.split(",")), label=found["label"],
                  expires_at=expires_at)
    if found["revoked_at"] is not None:
        return Verdict(reason=REVOKED, **common)
    if _utc(now) >= min(expires_at, _utc(found["expires_at"])):
        return Verdict(reason=EXPIRED, **common)
    who = Identity(f"wall:{token_id}", f"wall screen {found['label'] or token_id}",
                   frozenset({"viewer"}), via="wall_token")
    return Verdict(identity=who, **common)


def _row(db, token_id: str) -> dict | None:
    with db.cursor() as cur:
        return _fetch(cur, token_id)


def _fetch(cur, token_id: str) -> dict | None:
    """The link's row as a dict (None when unknown); plain Python values, NULL as None."""
    cur.execute(queries.load("auth/wall_token_get"), {"token_id": token_id})
    row = cur.fetchone()
    return dict(zip([c[0] for c in cur.description], row)) if row else None


def revoke(db, who: Identity, token_id: str, now: datetime) -> bool:
    """Revoke a link (administer). True if this call revoked it, False if it already was; raises
    WallTokenError for an id this database never issued. Audited in the same transaction."""
    policy.require(who, "administer")
    now = _utc(now)
    with db.cursor() as cur:
        cur.begin()
        found = _fetch(cur, token_id)
        if found is None:
            cur.rollback()
            raise WallTokenError(f"There is no wall-screen link {token_id!r}.")
        if found["revoked_at"] is not None:
            cur.rollback()
            return False
        cur.execute(queries.load("auth/wall_token_revoke"),
                    {"token_id": token_id, "revoked_at": now, "revoked_by": who.subject})
        audit.record(cur, who, "wall_link.revoke", at=now, target=f"wall:{token_id}")
        cur.commit()
    return True


def links(db, who: Identity, now: datetime):
    """Every link with its state at `now` (valid / expired / revoked), newest first (a DataFrame).
    Administer only: the list names the screens and who issued their links."""
    policy.require(who, "administer")
    with db.cursor() as cur:
        return cur.execute(queries.load("auth/wall_tokens_list"), {"now": _utc(now)}).df()
