#!/usr/bin/env bash
# Quick start 1/2: install, create the SQLite demo database and serve it at http://127.0.0.1:5000.
# Extra arguments go to `gradflow demo` (e.g. --port 8000 --students 500).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/gradflow demo "$@"
