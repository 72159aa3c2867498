#!/usr/bin/env bash
# The browser tier: playwright-core from npm (tests/browser/package-lock.json) driving
# Debian's Chromium. No browser download: Chromium comes from apt when missing (root).
set -euo pipefail
cd "$(dirname "$0")/../.."

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo -n"
need=()
command -v node >/dev/null 2>&1 || need+=(nodejs npm)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "browser: ${need[*]} missing and apt-get is not available" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  npm ci --prefix tests/browser --no-audit --no-fund
fi
echo "browser: $(node --version), playwright-core $(node -p "require('./tests/browser/node_modules/playwright-core/package.json').version"), $( (chromium --version || /usr/bin/chromium --version) 2>/dev/null)"
