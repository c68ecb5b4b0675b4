"""What one refresh of a page costs the server once its queries are cached: the interpreter work
every screen repeats at every refresh (building elements, styling, serialising), which twenty
screens in step queue for on one GIL.

    python -m bench.rerun_cost --db <tower.duckdb> [--page pages/overview.py] [--kiosk] [--runs 200]

The app (`app.py`: frame, status strip, the page) runs in an AppTest on `db` (bench.bench_pages'
tower.toml: sandbox off, no sources, so nothing but the pages touches the file); three untimed runs
warm the imports and caches, then `runs` full reruns are timed. A full rerun draws the status strip
and the page's live parts as a wall screen's fragment reruns do, plus the frame around them. Prints
the mean milliseconds per rerun. Compare two commits by running it in each (alternately, on the same
machine): the figure moves with interpreter work, not with the data's size.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.bench_pages import ROOT, app_on


def rerun_ms(db_path: Path, page: str, kiosk: bool, runs: int) -> float:
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as folder, app_on(db_path, Path(folder)):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        if kiosk:
            at.query_params["kiosk"] = "1"
        at.run()
        at.switch_page(page)
        at.run()
        at.run()
        if at.exception:
            raise SystemExit(f"{page} raised: {at.exception[0].message}")
        started = time.perf_counter()
        for _ in range(runs):
            at.run()
        return (time.perf_counter() - started) / runs * 1000


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", type=Path, required=True, help="a Tower DuckDB file (only read)")
    p.add_argument("--page", default="pages/overview.py")
    p.add_argument("--kiosk", action="store_true", help="as a wall screen (?kiosk=1)")
    p.add_argument("--runs", type=int, default=200)
    a = p.parse_args(argv)
    ms = rerun_ms(a.db, a.page, a.kiosk, a.runs)
    print(f"{a.page}{' (kiosk)' if a.kiosk else ''}: {ms:.1f} ms per rerun, mean of {a.runs}")


if __name__ == "__main__":
    main()
