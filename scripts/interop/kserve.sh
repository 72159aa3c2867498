#!/usr/bin/env bash
# Build .interop/kserve: KServe's Python model server (PyPI `kserve`), a real server of the
# Open Inference Protocol (KServe v2 REST), plus onnxruntime to run the served model. The
# detection add-on's remote backend is tested against it on loopback
# (tests/interop/test_kserve_interop.py, server script tests/interop/kserve_server.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=0.21.0
VENV=.interop/kserve
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('kserve') != '$VERSION')" 2>/dev/null; then
  exit 0
fi
py=""
root="${PYENV_ROOT:-$HOME/.pyenv}"
for candidate in $(ls -1 "$root/versions" 2>/dev/null | grep -E '^3\.1[1-3]' | sort -rV); do
  if [ -x "$root/versions/$candidate/bin/python3" ]; then py="$root/versions/$candidate/bin/python3"; break; fi
done
if [ -z "$py" ]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import sys; sys.exit(not (3, 11) <= sys.version_info < (3, 14))"; then
      py=$(command -v "$candidate"); break
    fi
  done
fi
[ -n "$py" ] || { echo "no Python 3.11-3.13 for the KServe peer"; exit 1; }
rm -rf "$VENV"
"$py" -m venv "$VENV"
"$VENV/bin/pip" install --quiet "kserve==$VERSION" "onnxruntime==1.31.1"
