"""A vendor on loopback for the action engine's tests: a real HTTP server that records every request
and deduplicates on the Idempotency-Key header like a real vendor API, and can be told to answer the
next requests with 500, 429 (Retry-After), 400 or a timeout. `NotifyClient` is an action client
(connectors/actions/base.py contract) for its /notify endpoint, over real HTTP with requests."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from connectors.actions.base import ActionRefused, ActionUnavailable, Sent
from tower.config import Config, SandboxConfig

# Fast retries: three tries within a fraction of a second.
FAST = {"max_attempts": 3, "backoff_s": 0.01, "max_backoff_s": 0.05}


def config_for(db_path, **actions) -> Config:
    """A Config whose data folder holds `db_path`, with [actions] tables (fast retries by default)."""
    return Config(db_path=db_path, snapshot_path=db_path.parent / "snapshot" / "tower.duckdb",
                  snapshot_interval_s=60, sandbox=SandboxConfig(), sources={},
                  raw={"actions": {"engine": FAST, **actions}})


class Vendor:
    def __init__(self):
        self.requests: list[dict] = []          # every request received, in order
        self.effects: dict[tuple, dict] = {}    # (path, Idempotency-Key) -> the one effect it created
        self.script: list[str] = []             # planned answers: "500", "429", "400", "timeout"
        self.acknowledge = True                 # False: reply without confirming (a later webhook would)
        self.retry_after = "0"                  # the Retry-After a 429 carries (seconds)
        self.lock = threading.Lock()
        vendor = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                key = self.headers.get("Idempotency-Key")
                with vendor.lock:
                    vendor.requests.append({"path": self.path, "key": key, "body": body})
                    planned = vendor.script.pop(0) if vendor.script else None
                if planned == "timeout":
                    time.sleep(1.5)
                    return
                if planned in ("500", "429"):
                    return self._reply(int(planned), {"error": "try again later"},
                                       {"Retry-After": vendor.retry_after} if planned == "429" else {})
                if planned == "400":
                    return self._reply(400, {"errors": [f"channel {body.get('channel')!r} is archived"]})
                with vendor.lock:
                    if (self.path, key) not in vendor.effects:   # the vendor deduplicates: one effect per key
                        vendor.effects[(self.path, key)] = {
                            "id": f"msg-{len(vendor.effects) + 1}", "body": body, "acknowledged": vendor.acknowledge}
                    effect = vendor.effects[(self.path, key)]
                self._reply(200, {"id": effect["id"], "acknowledged": effect["acknowledged"]})

            def _reply(self, status: int, body: dict, headers: dict | None = None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def requests_for(self, key: str) -> list[dict]:
        return [r for r in self.requests if r["key"] == key]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class NotifyClient:
    """Posts {"channel", "text"} to the vendor's /notify with the action's key as Idempotency-Key."""
    kind = "notify"

    def __init__(self, base_url: str, timeout_s: float = 0.5):
        self.url = f"{base_url}/notify"
        self.timeout_s = timeout_s

    def preview(self, params: dict, key: str) -> dict:
        return {"method": "POST", "url": self.url, "headers": {"Idempotency-Key": key},
                "body": {"channel": params["channel"], "text": params["text"]}}

    def send(self, params: dict, key: str) -> Sent:
        request = self.preview(params, key)
        try:
            reply = requests.post(self.url, json=request["body"], headers=request["headers"],
                                  timeout=self.timeout_s)
        except requests.RequestException as e:
            raise ActionUnavailable(f"notify endpoint unreachable: {type(e).__name__}") from None
        if reply.status_code == 429 or reply.status_code >= 500:
            retry_after = reply.headers.get("Retry-After")
            raise ActionUnavailable(f"HTTP {reply.status_code}", status=reply.status_code,
                                    retry_after_s=float(retry_after) if retry_after else None)
        if reply.status_code >= 400:
            body = reply.json()
            raise ActionRefused("; ".join(body.get("errors", [])) or f"HTTP {reply.status_code}",
                                status=reply.status_code, response=body)
        body = reply.json()
        return Sent(external_id=body["id"], request=request, response=body, acknowledged=body["acknowledged"])

    def compensate(self, params: dict, external_id: str, key: str) -> Sent | None:
        return None  # a message cannot be taken back


class CapClient(NotifyClient):
    """cap_promotion on the loopback vendor: POST /caps, undone by POST /caps/<id>/undo."""
    kind = "cap_promotion"

    def __init__(self, base_url: str, timeout_s: float = 0.5):
        super().__init__(base_url, timeout_s)
        self.base, self.url = base_url, f"{base_url}/caps"

    def preview(self, params: dict, key: str) -> dict:
        return {"method": "POST", "url": self.url, "headers": {"Idempotency-Key": key}, "body": dict(params)}

    def compensate(self, params: dict, external_id: str, key: str) -> Sent | None:
        undo = CapClient(self.base, self.timeout_s)
        undo.url = f"{self.base}/caps/{external_id}/undo"
        return undo.send(params, key)
