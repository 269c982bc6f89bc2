#!/usr/bin/env bash
# Set up everything the tests need (dev packages, PostgreSQL, Chromium) and run the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements-dev.txt
# Ray is an optional extra for `campus-fer import --ray`; its test needs it.
.venv/bin/python -m pip install --quiet -r requirements-ray.txt
if [ -f scripts/start_postgres.sh ]; then
  # Exports CAMPUS_FER_TEST_POSTGRES_URL for the PostgreSQL tests.
  source scripts/start_postgres.sh
fi
if [ -f scripts/install_browser.sh ]; then
  bash scripts/install_browser.sh
fi
.venv/bin/ruff check .
.venv/bin/lint-imports  # the floors: pyproject [tool.importlinter]
.venv/bin/python -m pytest -ra "$@"
