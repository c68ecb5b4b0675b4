"""The durable inbox between the receiver and the loader: one file per verified delivery.

DuckDB has one writer (the app's Database), so the receiver never touches it: it writes the
delivery to `<spool>/inbox/<name>.json` — a temporary name first, fsync'd, renamed, directory
fsync'd — and only then answers 2xx. The name starts with a hash of (source, delivery id) and ends
with the arrival time: every copy a vendor sends gets its own file, so a redelivery that arrives
while the loader is committing the first copy is neither lost nor miscounted. The loader folds the
copies of one delivery id into one row (and counts them), applies them to DuckDB and removes each
file only after its transaction has committed; a process killed in between finds the files again on
restart (and the loader's delivery-id check makes a second pass harmless).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

TMP_PREFIX = ".tmp-"


@dataclass(frozen=True)
class Delivery:
    source: str
    kind: str
    delivery_id: str
    topic: str | None
    received_at: datetime
    body: bytes
    headers: dict        # the vendor headers the mapping needs (e.g. X-Shopify-Shop-Domain)
    path: Path | None = None


class Spool:
    def __init__(self, folder: str | os.PathLike):
        self.inbox = Path(folder) / "inbox"
        self.failed = Path(folder) / "failed"
        self.inbox.mkdir(parents=True, exist_ok=True)
        self.failed.mkdir(parents=True, exist_ok=True)

    def clear_partial(self) -> int:
        """Remove temp files a killed process left (never acknowledged, so the vendor retries)."""
        n = 0
        for p in self.inbox.glob(TMP_PREFIX + "*"):
            p.unlink(missing_ok=True)
            n += 1
        return n

    @staticmethod
    def key(source: str, delivery_id: str) -> str:
        return hashlib.sha256(f"{source}\0{delivery_id}".encode()).hexdigest()[:40]

    def put(self, d: Delivery) -> bool:
        """Store durably; False when a copy of this delivery is already waiting (a redelivery)."""
        key = self.key(d.source, d.delivery_id)
        waiting = any(self.inbox.glob(f"{key}-*.json"))
        final = self.inbox / f"{key}-{time.time_ns()}-{os.getpid()}-{id(d)}.json"
        record = {"source": d.source, "kind": d.kind, "delivery_id": d.delivery_id, "topic": d.topic,
                  "received_at": d.received_at.isoformat(), "headers": d.headers,
                  "body": base64.b64encode(d.body).decode("ascii")}
        tmp = self.inbox / f"{TMP_PREFIX}{final.name}.{os.getpid()}.{id(d)}"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
        self._sync_dir()
        return not waiting

    def _sync_dir(self) -> None:
        fd = os.open(self.inbox, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def pending(self, limit: int = 1000) -> list[Path]:
        """Files waiting to be loaded, oldest first."""
        files = []
        with os.scandir(self.inbox) as it:
            for e in it:
                if e.name.endswith(".json") and not e.name.startswith(TMP_PREFIX):
                    try:
                        files.append((e.stat().st_mtime_ns, e.path))
                    except FileNotFoundError:
                        continue
        files.sort()
        return [Path(p) for _, p in files[:limit]]

    @staticmethod
    def read(path: Path) -> Delivery:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Delivery(raw["source"], raw["kind"], raw["delivery_id"], raw.get("topic"),
                        datetime.fromisoformat(raw["received_at"]), base64.b64decode(raw["body"]),
                        dict(raw.get("headers") or {}), path)

    def done(self, path: Path) -> None:
        path.unlink(missing_ok=True)

    def set_aside(self, path: Path) -> None:
        """Keep a delivery that could not be applied, out of the inbox (for a person to look at)."""
        os.replace(path, self.failed / path.name)
