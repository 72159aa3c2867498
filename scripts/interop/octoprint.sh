#!/usr/bin/env bash
# Build .interop/octoprint-venv with real OctoPrint (PyPI) for the interop tier.
# Idempotent: does nothing when the pinned version is already installed.
# OctoPrint supports Python >=3.7,<3.14: prefer 3.11, then 3.12, then 3.13.
set -euo pipefail
cd "$(dirname "$0")/../.."

VERSION="${OCTOPRINT_VERSION:-1.11.8}"
VENV=.interop/octoprint-venv

python_ok() {
  "$1" -c "import sys; sys.exit(0 if (3, 9) <= sys.version_info[:2] < (3, 14) else 1)" >/dev/null 2>&1
}

find_python() {
  local candidate root="${PYENV_ROOT:-$HOME/.pyenv}"
  if [ -n "${OCTOPRINT_PYTHON:-}" ] && python_ok "$OCTOPRINT_PYTHON"; then
    echo "$OCTOPRINT_PYTHON"; return 0
  fi
  for minor in 11 12 13; do
    # pyenv shims answer even when the version is not selected: prefer real binaries.
    if [ -d "$root/versions" ]; then
      for candidate in $(ls -1 "$root/versions" 2>/dev/null | grep -E "^3\.${minor}(\.|$)" | sort -rV); do
        if python_ok "$root/versions/$candidate/bin/python3"; then
          echo "$root/versions/$candidate/bin/python3"; return 0
        fi
      done
    fi
    for candidate in "/usr/local/bin/python3.${minor}" "/usr/bin/python3.${minor}" "python3.${minor}"; do
      if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then
        command -v "$candidate"; return 0
      fi
    done
  done
  if command -v python3 >/dev/null 2>&1 && python_ok python3; then
    command -v python3; return 0
  fi
  return 1
}

mkdir -p .interop
if [ -x "$VENV/bin/octoprint" ] \
  && [ "$("$VENV/bin/python" -c 'import octoprint; print(octoprint.__version__)' 2>/dev/null)" = "$VERSION" ]; then
  echo "octoprint $VERSION already installed in $VENV"
  exit 0
fi

PY=$(find_python) || { echo "no python between 3.9 and 3.13 found" >&2; exit 1; }
echo "using $PY ($("$PY" --version 2>&1))"
rm -rf "$VENV"
"$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "octoprint==$VERSION"
"$VENV/bin/python" -c 'import octoprint; print("octoprint", octoprint.__version__)'
