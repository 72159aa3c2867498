#!/usr/bin/env bash
# Build .interop/prusalink-venv with Prusa-Link (PyPI prusalink 0.8.1), the Raspberry Pi
# flavour of PrusaLink. It runs without a printer on its serial port, which is enough
# to hold the client's digest authentication and parsers to the real server.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=0.8.1
VENV=.interop/prusalink-venv
if [ -x "$VENV/bin/prusalink" ] && "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('prusalink') != '$VERSION')" 2>/dev/null; then
  exit 0
fi
command -v unshare >/dev/null || { echo "unshare is missing (util-linux)"; exit 1; }
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  if ! dpkg -s libcap-dev libturbojpeg0 >/dev/null 2>&1; then
    for _ in $(seq 1 60); do fuser /var/lib/dpkg/lock-frontend >/dev/null 2>&1 || break; sleep 2; done
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcap-dev libturbojpeg0 >/dev/null
  fi
fi
py=""
root="${PYENV_ROOT:-$HOME/.pyenv}"
for candidate in $(ls -1 "$root/versions" 2>/dev/null | grep -E '^3\.11' | sort -rV); do
  [ -x "$root/versions/$candidate/bin/python3" ] && { py="$root/versions/$candidate/bin/python3"; break; }
done
[ -n "$py" ] || py=$(command -v python3.11 || true)
[ -n "$py" ] || { echo "no Python 3.11 for Prusa-Link"; exit 1; }
rm -rf "$VENV"
"$py" -m venv "$VENV"
"$VENV/bin/pip" install --quiet "prusalink==$VERSION"
