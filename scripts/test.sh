#!/usr/bin/env bash
# Quick start 2/2: install everything the tests need, then lint, type-check and run every test
# (unit, integration on SQLite and a throwaway PostgreSQL cluster, browser tests in Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
echo "==> ruff"
.venv/bin/ruff check .
echo "==> mypy"
.venv/bin/mypy
echo "==> pytest"
exec .venv/bin/python -m pytest -q --timeout=900 "$@"
