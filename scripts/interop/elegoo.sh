#!/usr/bin/env bash
# Build .interop/elegoo-peer with pycentauri (PyPI), an independent SDCP v3
# client written against real Centauri Carbon printers. No Elegoo firmware runs
# off the printer, so this third-party client is the peer the simulator is held to.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/interop/lib/peer_venv.sh
VERSION=0.9.1
VENV=.interop/elegoo-peer
peer_installed "$VENV" pycentauri "$VERSION" && exit 0
py=$(find_python 11 99) || { echo "no Python >= 3.11 for the pycentauri peer"; exit 1; }
rm -rf "$VENV"
"$py" -m venv "$VENV"
"$VENV/bin/pip" install --quiet "pycentauri==$VERSION"
