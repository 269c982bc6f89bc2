#!/usr/bin/env bash
# Set up (first run) and start the Campus FER REST API: uvicorn api.app:app, OpenAPI docs at /docs.
# Listens on 127.0.0.1:8000 unless CAMPUS_FER_API_HOST / CAMPUS_FER_API_PORT say otherwise; extra
# arguments go to uvicorn (e.g. --workers 2). Tokens: .venv/bin/campus-fer token create NAME --scope write
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh requirements.txt
exec .venv/bin/uvicorn api.app:app --host "${CAMPUS_FER_API_HOST:-127.0.0.1}" \
  --port "${CAMPUS_FER_API_PORT:-8000}" "$@"
