"""Where the app server's memory goes during a soak: with this folder on PYTHONPATH and
TOWER_MEMPROBE=<file.jsonl>, a `python -m tower` process appends, every TOWER_MEMPROBE_EVERY_S
(20) seconds, its RSS and DuckDB's own account of its memory by component (queries/bench/
duckdb_memory.sql). TOWER_MEMPROBE_TRACEMALLOC=1 adds the bytes held by Python objects allocated
since the first sample (tracemalloc: slows the server, so not on by default; at the reference scale
with twenty sessions it slows it past use, where TOWER_MEMPROBE_GC serves). TOWER_MEMPROBE_CACHES=1
adds the bytes in Streamlit's caches and the revalidator, TOWER_MEMPROBE_GC=1 a census of the objects Python's garbage collector tracks, by type, and
TOWER_MEMPROBE_EVENTS=1 the start and end of the snapshot copy, alert evaluations and forecast stores.

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
        if os.environ.get("TOWER_MEMPROBE_CACHES"):
            out["caches_mb"] = caches_mb()
        if os.environ.get("TOWER_MEMPROBE_GC"):
            out["gc_mb"] = gc_census_mb()
            out["frames"] = big_frames()
        if os.environ.get("TOWER_MEMPROBE_TRACEMALLOC"):
            out["python_mb"] = tracemalloc.get_traced_memory()[0] // 2**20
        return out

    def caches_mb() -> dict:
        """Bytes in Streamlit's own caches by category (st.cache_data entries are pickled bytes;
        session state is sized by Streamlit itself) and the frames the revalidator keeps."""
        import pandas as pd
        from streamlit.runtime import Runtime
        from tower.ui import revalidate
        sizes: dict = {}
        for stats in Runtime.instance().stats_mgr.get_stats(["cache_memory_bytes"]).values():
            for st in stats:
                key = f"{st.category_name}:{st.cache_name}".rsplit(".", 1)[-1]
                sizes[key] = sizes.get(key, 0) + st.byte_length
        with revalidate.shared._lock:
            values = [r.value for r in revalidate.shared._latest.values()]
        sizes["revalidate"] = sum(int(v.memory_usage(deep=True).sum()) for v in values if isinstance(v, pd.DataFrame))
        out = {k: round(v / 2**20, 1) for k, v in sorted(sizes.items(), key=lambda kv: -kv[1])[:12]}
        return {**out, "revalidate_shapes": len(values)}  # a count, not MB

    def gc_census_mb(top: int = 10) -> dict:
        """Bytes of the objects the garbage collector tracks, by type (shallow sizes, plus the
        buffers of numpy arrays that own their data): a Python-side leak shows here, native
        memory (DuckDB, arrow) does not. Holds the GIL for a second or two."""
        import gc
        import numpy as np
        sizes: dict = {}
        for obj in gc.get_objects():
            name = type(obj).__name__
            size = sys.getsizeof(obj)
            if isinstance(obj, np.ndarray) and obj.base is None:
                size += obj.nbytes
            sizes[name] = sizes.get(name, 0) + size
        return {k: round(v / 2**20, 1) for k, v in sorted(sizes.items(), key=lambda kv: -kv[1])[:top]}

    def mark(event: str):
        """Wrap a method so its start and end go to the probe's file: RSS spikes get a cause."""
        def wrap(fn):
            def timed(*args, **kwargs):
                write({"t": time.time(), "begin": event})
                try:
                    return fn(*args, **kwargs)
                finally:
                    write({"t": time.time(), "end": event})
            return timed
        return wrap

    def write(line: dict) -> None:
        with open(os.environ["TOWER_MEMPROBE"], "a") as f:
            f.write(json.dumps(line) + "\n")

    def big_frames(min_mb: float = 10.0) -> list:
        """DataFrames over `min_mb`: their shape, first columns and who holds them (the referrers'
        types two levels up, and the dict key or attribute name that points at them)."""
        import gc
        import pandas as pd

        def holders(obj, depth: int) -> list:
            if depth == 0:
                return []
            out = []
            for ref in gc.get_referrers(obj)[:6]:
                if ref is frames_seen or type(ref).__name__ == "frame":
                    continue
                label = type(ref).__name__
                if isinstance(ref, dict):
                    keys = [k for k, v in ref.items() if v is obj][:1]
                    label += f"[{keys[0]!r}]" if keys else ""
                out.append([label, holders(ref, depth - 1)])
            return out

        frames_seen = [o for o in gc.get_objects() if isinstance(o, pd.DataFrame)]
        found = []
        for df in frames_seen:
            mb = df.memory_usage(deep=True).sum() / 2**20
            if mb >= min_mb:
                found.append({"mb": round(mb, 1), "rows": len(df), "cols": list(map(str, df.columns[:6])),
                              "held_by": holders(df, 3)})
        del frames_seen
        return sorted(found, key=lambda f: -f["mb"])[:8]

    def probe() -> None:
        every = float(os.environ.get("TOWER_MEMPROBE_EVERY_S", 20))
        time.sleep(1)  # `python -m` puts the project on sys.path after site runs
        if os.environ.get("TOWER_MEMPROBE_EVENTS"):
            from tower import db as tower_db
            from tower.alerts import engine
            from tower.twin import forecast
            tower_db.Database._copy_to = mark("snapshot copy")(tower_db.Database._copy_to)
            engine.AlertEngine.evaluate = mark("alert evaluation")(engine.AlertEngine.evaluate)
            forecast.store_rows = mark("forecast store")(forecast.store_rows)
        if os.environ.get("TOWER_MEMPROBE_TRACEMALLOC"):
            # from the first sample on: traced from the start, the server took over 3 min to start
            time.sleep(every)
            tracemalloc.start()
        while True:
            time.sleep(every)
            try:
                line = sample()
            except Exception as exc:  # a probe never takes the server down
                line = {"t": time.time(), "error": repr(exc)}
            write(line)

    threading.Thread(target=probe, name="tower-memprobe", daemon=True).start()
