#!/usr/bin/env bash
# The DuckLake test (tests/test_ducklake.py) in its own venv: DuckLake's extensions come from registry
# wheels built for DuckDB 1.5.5 (none exist for 2.0, docs/ducklake.md), so it cannot share the default
# venv. Needs PostgreSQL's server (Debian's `postgresql`): installed when missing and we are root.
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV="${LAKE_VENV:-.venv-ducklake}"
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian postgresql for the DuckLake test…"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL is not installed and cannot be installed here: sudo apt-get install -y postgresql"
  fi
fi
if [ ! -f "$VENV/.installed" ] || [ requirements-ducklake.txt -nt "$VENV/.installed" ]; then
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet -r requirements-dev.txt -r requirements-ducklake.txt
  touch "$VENV/.installed"
fi
exec "$VENV/bin/python" -m pytest -q tests/test_ducklake.py -p no:cacheprovider "$@"
