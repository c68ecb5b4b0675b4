"""What the app server's threads are doing when wall screens wait: with this folder on PYTHONPATH and
TOWER_STALLPROBE=<file.tsv>, a `python -m tower` process runs one thread that sleeps 10 ms in a loop.
When it wakes more than TOWER_STALLPROBE_LAG_S (0.15) late, something held the interpreter: it writes
a LAG line and every thread's stack at that moment; every TOWER_STALLPROBE_EVERY_S (0.25) it writes
the stacks anyway, as a sample; and it times every garbage collection over 50 ms (GC lines).

    TOWER_STALLPROBE=/tmp/stall.tsv PYTHONPATH=bench/stallprobe \\
        python -m bench.soak --minutes 4 --db <reference> --keep-latencies /tmp/lat.csv

Lines are tab-separated: `time  LAG  seconds`, `time  GC  generation  seconds  collected`, and
`time  sample|lagdump  thread  leaf-frame  last three frames under the repository`. Joined with the
soak's --keep-latencies on time, a window where every screen's refresh was slow shows what each
script thread waited on (bench/README.md, "Where the refreshes waited"). Only the server probes
itself: the soak's own process and the refit child import this file too and do nothing."""
import os
import sys

if os.environ.get("TOWER_STALLPROBE") and sys.orig_argv[1:3] == ["-m", "tower"]:
    import gc
    import threading
    import time
    import traceback

    ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))) + os.sep
    LAG_S = float(os.environ.get("TOWER_STALLPROBE_LAG_S", "0.15"))
    EVERY_S = float(os.environ.get("TOWER_STALLPROBE_EVERY_S", "0.25"))
    out = open(os.environ["TOWER_STALLPROBE"], "a", buffering=1)
    write_lock = threading.Lock()

    def write(text: str) -> None:
        with write_lock:
            out.write(text)

    def stacks(kind: str) -> None:
        names = {t.ident: t.name for t in threading.enumerate()}
        now, lines = time.time(), []
        for ident, frame in sys._current_frames().items():
            if ident == threading.get_ident():
                continue
            stack = traceback.extract_stack(frame)
            ours = [f for f in stack if f.filename.startswith(ROOT) and os.sep + ".venv" not in f.filename]
            leaf = stack[-1]
            lines.append(f"{now:.2f}\t{kind}\t{names.get(ident, '?')}\t{leaf.name}@"
                         f"{os.path.basename(leaf.filename)}:{leaf.lineno}\t"
                         + " < ".join(f"{f.name}:{f.lineno}" for f in ours[-3:][::-1]) + "\n")
        write("".join(lines))

    def probe() -> None:
        last = time.perf_counter()
        while True:
            before = time.perf_counter()
            time.sleep(0.01)
            lag = time.perf_counter() - before - 0.01
            if lag > LAG_S:
                write(f"{time.time():.2f}\tLAG\t{lag:.3f}\n")
                stacks("lagdump")
            if before - last >= EVERY_S:
                last = before
                stacks("sample")

    collecting = {}

    def timed(phase: str, info: dict) -> None:
        if phase == "start":
            collecting["at"] = time.perf_counter()
        elif "at" in collecting and (took := time.perf_counter() - collecting.pop("at")) > 0.05:
            write(f"{time.time():.2f}\tGC\t{info['generation']}\t{took:.3f}\t{info['collected']}\n")

    gc.callbacks.append(timed)
    threading.Thread(target=probe, name="stallprobe", daemon=True).start()
