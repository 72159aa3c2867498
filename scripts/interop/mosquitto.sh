#!/usr/bin/env bash
# Make sure mosquitto (the broker behind the Bambu simulator) is installed.
# Idempotent: does nothing when it is already there. Needs apt (Debian/Ubuntu)
# and root or sudo; the simulator only runs the binary, it never starts the
# system service.
set -euo pipefail

if command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; then
  echo "mosquitto: $( (/usr/sbin/mosquitto -h 2>/dev/null || mosquitto -h 2>/dev/null || true) | head -n1)"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "mosquitto: not installed and apt-get is not available; install mosquitto >= 2.0 by hand" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo -n"
  else
    echo "mosquitto: not installed; run as root: apt-get install -y mosquitto" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends mosquitto
# A system service apt may start listens on 1883 only; the simulator's brokers use free ports.
echo "mosquitto: installed"
