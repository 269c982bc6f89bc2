#!/usr/bin/env bash
# Set up (first run) and start the Campus FER app: streamlit run app.py.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
exec .venv/bin/streamlit run app.py "$@"
