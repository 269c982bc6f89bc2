#!/usr/bin/env bash
# Install Debian's Chromium for the Playwright browser tests, once (never `playwright install`), and
# axe-core for tests/test_accessibility.py from the npm registry at the version pinned in
# tests/a11y/package-lock.json (npm ci: exactly that version and checksum).
set -euo pipefail
cd "$(dirname "$0")/.."
packages=()
if [ ! -x /usr/bin/chromium ]; then
  packages+=(chromium fonts-dejavu-core)
fi
if ! command -v npm >/dev/null 2>&1; then
  packages+=(npm)
fi
if [ "${#packages[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${packages[@]}"
fi
npm ci --prefix tests/a11y --prefer-offline --no-audit --no-fund --loglevel=error
