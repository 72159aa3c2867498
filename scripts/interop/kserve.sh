#!/usr/bin/env bash
# Build .interop/kserve: KServe's Python model server (PyPI `kserve`), a real server of the
# Open Inference Protocol (KServe v2 REST), plus onnxruntime to run the served model. The
# detection add-on's remote backend is tested against it on loopback
# (tests/interop/test_kserve_interop.py, server script tests/interop/kserve_server.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/interop/lib/peer_venv.sh
VERSION=0.21.0
VENV=.interop/kserve
peer_installed "$VENV" kserve "$VERSION" && exit 0
py=$(find_python 11 13) || { echo "no Python 3.11-3.13 for the KServe peer"; exit 1; }
rm -rf "$VENV"
"$py" -m venv "$VENV"
"$VENV/bin/pip" install --quiet "kserve==$VERSION" "onnxruntime==1.31.1"
