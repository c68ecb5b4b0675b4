"""How `python -m tower` may serve: which address, with or without sign-in. No Streamlit here:
tower/serve.py gathers the facts (command line, environment, Streamlit's config and secrets
files) and this module decides.

- Sign-in configured ([auth] in a secrets file): serve as asked.
- Local mode (no [auth], TOWER_AUTH unset): one local admin, so bind 127.0.0.1 only; asking for any
  other address is refused with a message saying how to configure sign-in.
- TOWER_AUTH=dev: sign-in through the sandbox's local identity provider, whose demo users sign in
  with one click — loopback only as well. Its [auth] section goes to a generated secrets file in
  the data folder (never the user's .streamlit/secrets.toml), the cookie secret made once and kept."""
from __future__ import annotations

import ipaddress
import os
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK = "127.0.0.1"
LOOPBACK_NAMES = {"localhost"}
DEV_SECRETS = Path("auth") / "dev_secrets.toml"      # under the data folder
README_SECTION = 'README.md, section "Sign-in"'


class RefusedToStart(SystemExit):
    """Serving as asked would expose Tower without sign-in; the message says what to do."""

    def __init__(self, message: str):
        super().__init__(message)   # SystemExit with a string prints it and exits with status 1
        self.message = message


@dataclass(frozen=True)
class Plan:
    mode: str                                           # "auth" | "local" | "dev"
    extra_args: list[str] = field(default_factory=list)  # appended to the streamlit command line


def streamlit_settings(dirs: list[Path]) -> tuple[str | None, list[Path]]:
    """(server.address, secrets files) as Streamlit will read them from the config.toml files in
    `dirs` (~/.streamlit, then the working folder's, then app.py's: later wins). Read here rather
    than through Streamlit's config, which would then warn that the [server] section changed."""
    address, files = None, None
    for folder in dirs:
        path = Path(folder) / "config.toml"
        if not path.is_file():
            continue
        try:
            with path.open("rb") as f:
                raw = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError):
            continue   # Streamlit reports a broken config file itself
        address = raw.get("server", {}).get("address", address)
        files = raw.get("secrets", {}).get("files", files)
    if isinstance(files, str):
        files = [files]
    return address, [Path(f) for f in files] if files else [Path(d) / "secrets.toml" for d in dirs]


def requested_address(argv: list[str], env: dict[str, str], configured: str | None) -> str | None:
    """The address Streamlit would bind: the last --server.address flag, else STREAMLIT_SERVER_ADDRESS,
    else config.toml's server.address; None or "" means every interface."""
    found = None
    for i, arg in enumerate(argv):
        if arg == "--server.address" and i + 1 < len(argv):
            found = argv[i + 1]
        elif arg.startswith("--server.address="):
            found = arg.split("=", 1)[1]
    if found is not None:
        return found
    return env.get("STREAMLIT_SERVER_ADDRESS") or configured


def is_loopback(address: str | None) -> bool:
    if not address:
        return False   # Streamlit's default: every interface
    if address.strip().lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(address.strip().strip("[]")).is_loopback
    except ValueError:
        return False   # a host name: it may resolve to anything


def auth_in_secrets(files: list[str | Path]) -> bool:
    """Does any of Streamlit's secrets files have an [auth] section?"""
    for f in files:
        path = Path(f)
        if path.is_file():
            try:
                with path.open("rb") as fh:
                    if "auth" in tomllib.load(fh):
                        return True
            except (OSError, tomllib.TOMLDecodeError):
                continue   # Streamlit reports a broken secrets file itself
    return False


def refusal(address: str, dev: bool) -> str:
    if dev:
        return (f"Tower will not listen on {address!r} with TOWER_AUTH=dev: its demo users sign in with "
                f"one click, so dev sign-in serves this computer only ({LOOPBACK}). To serve a network, "
                f"configure a real identity provider in .streamlit/secrets.toml [auth] ({README_SECTION}) "
                "and start without TOWER_AUTH.")
    return (f"Tower will not listen on {address!r} without sign-in: anyone who reaches that address "
            f"would be the local admin. Either configure sign-in — an [auth] section in "
            f".streamlit/secrets.toml with your OIDC provider ({README_SECTION}; try it offline with "
            f"TOWER_AUTH=dev make run) — or leave --server.address out to serve this computer only "
            f"({LOOPBACK}).")


def plan(argv: list[str], env: dict[str, str], configured_address: str | None,
         secrets_files: list[str | Path]) -> Plan:
    """Decide the mode; raise RefusedToStart rather than expose an unauthenticated Tower."""
    mode_env = env.get("TOWER_AUTH", "").strip().lower()
    if mode_env not in ("", "dev"):
        raise RefusedToStart(f"TOWER_AUTH={mode_env!r} is not known: use TOWER_AUTH=dev (local demo "
                             "sign-in) or leave it unset.")
    address = requested_address(argv, env, configured_address)
    if mode_env == "dev":
        if address and not is_loopback(address):
            raise RefusedToStart(refusal(address, dev=True))
        return Plan("dev", ["--server.address", LOOPBACK, "--browser.serverAddress", "localhost"])
    if auth_in_secrets(secrets_files):
        return Plan("auth")
    if address and not is_loopback(address):
        raise RefusedToStart(refusal(address, dev=False))
    return Plan("local", [] if address else ["--server.address", LOOPBACK])


def write_dev_secrets(data_dir: Path, metadata_url: str) -> Path:
    """Write <data>/auth/dev_secrets.toml with an [auth] section for the local provider and return
    its path. The cookie secret is generated the first time and kept, so restarts keep sessions."""
    path = Path(data_dir) / DEV_SECRETS
    cookie_secret = None
    if path.exists():
        try:
            with path.open("rb") as f:
                cookie_secret = tomllib.load(f).get("auth", {}).get("cookie_secret")
        except (OSError, tomllib.TOMLDecodeError):
            cookie_secret = None
    cookie_secret = cookie_secret or secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = ("# Written by `python -m tower` for TOWER_AUTH=dev (the sandbox's identity provider).\n"
            "# Regenerated at each start; the cookie secret is kept. Not for real sign-in.\n"
            "[auth]\n"
            'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
            f'cookie_secret = "{cookie_secret}"\n'
            'client_id = "tower-dev"\n'
            'client_secret = "tower-dev-secret"\n'
            f'server_metadata_url = "{metadata_url}"\n')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return path
