# Sourced by the scripts: which Home Assistant (and so which venv) a command runs with.
#
#   PRINTFARM_HA=ci        (default) .venv from requirements.txt: Home Assistant 2025.4.4,
#                          the oldest release printfarm supports and the one CI runs.
#   PRINTFARM_HA=latest    .venv-ha-latest from requirements-ha-latest.txt: the newest
#                          Home Assistant the test harness exists for (needs Python 3.14).
#   PRINTFARM_HA=X.Y.Z     .venv-ha-X.Y.Z: requirements-ha-latest.txt without the test
#                          harness, with homeassistant==X.Y.Z (for scripts/develop, probe,
#                          simulate on any 2026.x release).
#
# Sets PRINTFARM_VENV (relative to the repository root), PRINTFARM_REQUIREMENTS,
# PRINTFARM_HA_PIN (empty or a homeassistant==X.Y.Z pin), PRINTFARM_MIN_PYTHON and
# PRINTFARM_PYTHON_ORDER (interpreter names to try, best first). Exported, so
# the scripts that tests start run on the same Home Assistant as the tests.

PRINTFARM_HA="${PRINTFARM_HA:-ci}"
PRINTFARM_HA_PIN=""
case "$PRINTFARM_HA" in
  ci)
    PRINTFARM_VENV=.venv
    PRINTFARM_REQUIREMENTS=requirements.txt
    PRINTFARM_MIN_PYTHON=3.13.0
    PRINTFARM_PYTHON_ORDER="python3.13 python3.14 python3 python"
    ;;
  latest)
    PRINTFARM_VENV=.venv-ha-latest
    PRINTFARM_REQUIREMENTS=requirements-ha-latest.txt
    PRINTFARM_MIN_PYTHON=3.14.2
    PRINTFARM_PYTHON_ORDER="python3.14 python3 python"
    ;;
  20[2-9][0-9].[0-9]*.[0-9]*)
    PRINTFARM_VENV=".venv-ha-$PRINTFARM_HA"
    PRINTFARM_REQUIREMENTS=requirements-ha-latest.txt
    PRINTFARM_HA_PIN="homeassistant==$PRINTFARM_HA"
    PRINTFARM_MIN_PYTHON=3.14.2
    PRINTFARM_PYTHON_ORDER="python3.14 python3 python"
    ;;
  *)
    echo "PRINTFARM_HA must be ci, latest or a Home Assistant version such as 2026.11.0 (got '$PRINTFARM_HA')" >&2
    exit 2
    ;;
esac
export PRINTFARM_HA PRINTFARM_VENV PRINTFARM_REQUIREMENTS PRINTFARM_HA_PIN PRINTFARM_MIN_PYTHON \
  PRINTFARM_PYTHON_ORDER
