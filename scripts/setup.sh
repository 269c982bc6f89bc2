#!/usr/bin/env bash
# Create .venv and install a requirements file into it (default: the app's run-time set).
set -euo pipefail
cd "$(dirname "$0")/.."
requirements="${1:-requirements.txt}"
python3.11 -m venv .venv 2>/dev/null || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r "$requirements"
# This project itself, editable: puts the `campus-fer` command in .venv/bin.
.venv/bin/python -m pip install --quiet --no-deps --no-build-isolation --editable .
