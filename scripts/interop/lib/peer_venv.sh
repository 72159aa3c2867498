# Sourced by scripts/interop/*.sh: helpers for peers that live in their own venv.

# peer_installed VENV PACKAGE VERSION: true when VENV already has PACKAGE==VERSION.
peer_installed() {
  [ -x "$1/bin/python" ] && "$1/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('$2') != '$3')" 2>/dev/null
}

# find_python MINOR_MIN MINOR_MAX: a Python 3.MIN..3.MAX (pyenv first, then PATH), newest first.
find_python() {
  local min=$1 max=$2 root="${PYENV_ROOT:-$HOME/.pyenv}" candidate minor
  for candidate in $(ls -1 "$root/versions" 2>/dev/null | grep -E '^3\.[0-9]+' | sort -rV); do
    minor=$(echo "$candidate" | cut -d. -f2)
    if [ "$minor" -ge "$min" ] && [ "$minor" -le "$max" ] && [ -x "$root/versions/$candidate/bin/python3" ]; then
      echo "$root/versions/$candidate/bin/python3"; return 0
    fi
  done
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import sys; sys.exit(not (3, $min) <= sys.version_info[:2] <= (3, $max))"; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}
