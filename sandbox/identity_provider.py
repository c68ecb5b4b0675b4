"""The sandbox's identity provider: a real OpenID Connect provider on loopback for `TOWER_AUTH=dev`
and the tests, so sign-in runs offline through the same code path as Google or Keycloak.

It is `oidc-provider-mock` (Flask + Authlib's server components): discovery document, JWKS, the
authorization-code flow with nonce, and RS256-signed ID tokens that Streamlit (Authlib's client)
validates — signature, issuer, audience, expiry, nonce. Its sign-in page has one button per demo user
(their subject); no password. That is why it only ever listens on 127.0.0.1.

The demo users (sandbox/demo_users.py) carry the claims a real provider would be set up to send.

Run it alone: `python -m sandbox.identity_provider --port 8503`."""
from __future__ import annotations

import argparse
import logging
import signal
import threading

import werkzeug.serving
from oidc_provider_mock import User, app as provider_app

from sandbox.demo_users import DEMO_USERS, DemoUser

log = logging.getLogger(__name__)
HOST = "127.0.0.1"
DEFAULT_PORT = 8503


class IdentityProvider:
    """A running provider; `issuer` is its base URL, `metadata_url` its discovery document."""

    def __init__(self, server: werkzeug.serving.BaseWSGIServer):
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="identity-provider", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._server.server_port

    @property
    def issuer(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def start(port: int = DEFAULT_PORT, users: tuple[DemoUser, ...] = DEMO_USERS) -> IdentityProvider:
    """Serve the provider on 127.0.0.1:`port` (0 picks a free port) in a background thread.
    Raises OSError if the port is taken."""
    flask_app = provider_app(require_nonce=True,
                             user_claims=[User(sub=u.subject, claims=u.claims()) for u in users])
    server = werkzeug.serving.make_server(HOST, port, flask_app, threaded=True)
    provider = IdentityProvider(server)
    log.info("identity provider (demo users: %s) at %s", ", ".join(u.subject for u in users),
             provider.issuer)
    return provider


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m sandbox.identity_provider",
                                description="Tower's local OpenID Connect provider with demo users.")
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    provider = start(args.port)
    print(f"discovery: {provider.metadata_url}  (Ctrl-C stops)")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):  # SIGINT too: see sandbox.__main__
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass
    provider.stop()


if __name__ == "__main__":
    main()
