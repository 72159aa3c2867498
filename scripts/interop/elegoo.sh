#!/usr/bin/env bash
# Build .interop/elegoo-peer with pycentauri (PyPI), an independent SDCP v3
# client written against real Centauri Carbon printers. No Elegoo firmware runs
# off the printer, so this third-party client is the peer the simulator is held to.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=0.9.1
VENV=.interop/elegoo-peer
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('pycentauri') != '$VERSION')" 2>/dev/null; then
  exit 0
fi
py=""
root="${PYENV_ROOT:-$HOME/.pyenv}"
for candidate in $(ls -1 "$root/versions" 2>/dev/null | grep -E '^3\.1[1-9]' | sort -rV); do
  if [ -x "$root/versions/$candidate/bin/python3" ]; then py="$root/versions/$candidate/bin/python3"; break; fi
done
if [ -z "$py" ]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import sys; sys.exit(sys.version_info < (3, 11))"; then
      py=$(command -v "$candidate"); break
    fi
  done
fi
[ -n "$py" ] || { echo "no Python >= 3.11 for the pycentauri peer"; exit 1; }
rm -rf "$VENV"
"$py" -m venv "$VENV"
"$VENV/bin/pip" install --quiet "pycentauri==$VERSION"
