"""New database files start as a copy of an empty one at the code's schema and semantic layer, made
once per process. Migrating a new file from scratch is ~0.4 s of DDL (every queries/schema file, then
the layer's macros), paid by every merchant snapshot the console and the pages cut (tower.merchant_snapshot)
and by every test database; copying the empty file takes milliseconds."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

_lock = threading.Lock()
_template: Path | None = None


def copy_to(path: Path, build: Callable[[Path], None]) -> None:
    """Make `path` (not yet a file) an empty database: a copy of this process's template, which
    `build(template_path)` makes first (migrations and layer from scratch) if there is none yet.
    The copy appears whole or not at all, and never over a file another process made meanwhile
    (a connector worker and the app starting on a new data folder): that one is left to open."""
    global _template
    with _lock:
        if _template is None or not _template.exists():
            folder = Path(tempfile.mkdtemp(prefix="tower-empty-db-"))
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            build(folder / "empty.duckdb")
            _template = folder / "empty.duckdb"
        partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.new")
        shutil.copyfile(_template, partial)
    try:
        os.link(partial, path)  # fails if `path` exists: unlike a rename, it never replaces a file
    except OSError:
        pass  # made meanwhile (opened as it is), or no hard links here (DuckDB makes it, then migrated)
    finally:
        partial.unlink()
