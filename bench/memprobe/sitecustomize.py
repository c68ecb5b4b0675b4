"""Where the app server's memory goes during a soak: with this folder on PYTHONPATH and
TOWER_MEMPROBE=<file.jsonl>, a `python -m tower` process appends, every TOWER_MEMPROBE_EVERY_S
(20) seconds, its RSS and DuckDB's own account of its memory by component (queries/bench/
duckdb_memory.sql). TOWER_MEMPROBE_TRACEMALLOC=1 adds the bytes Python objects hold (tracemalloc:
slows the server, so not on by default).

    TOWER_MEMPROBE=/tmp/mem.jsonl PYTHONPATH=bench/memprobe python -m bench.soak --db <reference>

(`bench.soak` prints; `python -m bench soak` would also rewrite the Soak section of bench/README.md.)

Only the server samples itself: the soak's own process and the refit child import this file too
(it is a sitecustomize) and do nothing."""
import os
import sys

if os.environ.get("TOWER_MEMPROBE") and sys.orig_argv[1:3] == ["-m", "tower"]:
    import json
    import threading
    import time

    if os.environ.get("TOWER_MEMPROBE_TRACEMALLOC"):
        import tracemalloc
        tracemalloc.start()

    def sample() -> dict:
        from tower import runtime
        import queries
        status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
        out = {"t": time.time(), "rss_mb": int(status["VmRSS"].split()[0]) // 1024}
        rt = runtime._preloaded  # the server's runtime, once started
        if rt is not None:
            with rt.db.cursor() as cur:
                out["duckdb_mb"] = {tag: used // 2**20 for tag, used, _ in
                                    cur.execute(queries.load("bench/duckdb_memory")).fetchall()}
        if os.environ.get("TOWER_MEMPROBE_TRACEMALLOC"):
            out["python_mb"] = tracemalloc.get_traced_memory()[0] // 2**20
        return out

    def probe() -> None:
        every = float(os.environ.get("TOWER_MEMPROBE_EVERY_S", 20))
        while True:
            time.sleep(every)
            try:
                line = sample()
            except Exception as exc:  # a probe never takes the server down
                line = {"t": time.time(), "error": repr(exc)}
            with open(os.environ["TOWER_MEMPROBE"], "a") as f:
                f.write(json.dumps(line) + "\n")

    threading.Thread(target=probe, name="tower-memprobe", daemon=True).start()
