"""`python -m tower [streamlit options]` (dispatched by tower/__main__.py): start Tower's runtime
(sandbox, connectors, alerts) in this process, then serve the Streamlit app from the same process.

`streamlit run app.py` alone would start the runtime only when the first browser connects; a war room
wants data flowing from the moment the server is up, whether or not a screen is open yet.

Who may reach it (tower.auth.serving decides, before anything binds a port):
- no [auth] in the secrets: local mode, one local admin, 127.0.0.1 only — a non-loopback
  --server.address is refused with a message saying how to configure sign-in;
- [auth] configured: Streamlit's OIDC sign-in, served as asked;
- TOWER_AUTH=dev: the sandbox's identity provider on 127.0.0.1:TOWER_AUTH_DEV_PORT (default 8503)
  with its demo users, its [auth] in a generated secrets file under the data folder (the user's own
  .streamlit/secrets.toml is still read too); open http://localhost:<port>."""
import logging
import os
import signal
from pathlib import Path

from streamlit.web import cli

from tower import config as config_mod
from tower import runtime
from tower.auth import serving

APP = Path(__file__).resolve().parent.parent / "app.py"
# where Streamlit looks for config.toml and secrets.toml, in its order (later wins)
STREAMLIT_DIRS = list(dict.fromkeys([Path.home() / ".streamlit", Path.cwd() / ".streamlit",
                                     APP.parent / ".streamlit"]))
log = logging.getLogger("tower")


class HeldStop:
    """Until Streamlit serves and installs its own handler, SIGTERM and Ctrl-C end the process as a
    stop of Streamlit would: through main's `finally`, which stops the runtime. Python's default
    would kill it where it stands (SIGTERM) or raise inside whatever runs (Ctrl-C): runtime threads
    inside DuckDB, a sync left `running` in the run log. A slow machine's Streamlit takes seconds
    to serve. While the runtime starts the stop is held, so it never finds half a runtime to stop."""

    def __init__(self) -> None:
        self.held, self.requested = True, False
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        self.requested = True
        if not self.held:
            raise SystemExit(0)

    def release(self) -> None:
        self.held = False
        if self.requested:
            raise SystemExit(0)


def dev_sign_in_args(own_files: list[Path]) -> list[str]:
    """Start the local identity provider and point Streamlit at it (both secrets files)."""
    # imported here: Flask and Authlib's server side take ~0.9 s to import and warn of deprecations,
    # which a server in local or sign-in mode never needs
    from sandbox import identity_provider

    port = int(os.environ.get("TOWER_AUTH_DEV_PORT", identity_provider.DEFAULT_PORT))
    provider = identity_provider.start(port)
    dev_file = serving.write_dev_secrets(config_mod.load().data_dir, provider.metadata_url)
    log.info("TOWER_AUTH=dev: identity provider at %s, secrets in %s", provider.issuer, dev_file)
    return [arg for f in [*own_files, dev_file] for arg in ("--secrets.files", str(f))]


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = HeldStop()
    address, secrets_files = serving.streamlit_settings(STREAMLIT_DIRS)
    plan = serving.plan(argv, dict(os.environ), address, secrets_files)   # RefusedToStart: exits 1
    extra = plan.extra_args + (dev_sign_in_args(secrets_files) if plan.mode == "dev" else [])
    log.info("serving in %s mode", {"local": "local (one local admin, 127.0.0.1 only)",
                                      "auth": "sign-in", "dev": "dev sign-in"}[plan.mode])
    rt = runtime.preload()
    try:
        stop.release()
        cli.main(["run", str(APP), "--server.headless", "true", *argv, *extra], prog_name="streamlit")
    finally:
        # Streamlit has stopped serving (SIGTERM, Ctrl-C): stop the runtime's threads before the
        # interpreter does. A thread still inside DuckDB when Python exits aborts the process
        # ("terminate called…"), and a webhook batch cut there was set aside as failed.
        log.info("stopping Tower's runtime")
        rt.stop()
        log.info("Tower stopped")
