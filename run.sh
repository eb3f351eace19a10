#!/usr/bin/env bash
# One command for each job on a fresh machine: it makes the virtual environment, installs the
# project, compiles the catalogues, then runs the job.
#   ./run.sh demo     migrate + seed the demo department (SQLite) and show its bookable days
#   ./run.sh test     lint, type-check and the whole test suite
#   ./run.sh radyar … any radyar command inside the environment
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=${RADYAR_VENV:-.venv}

setup() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
  fi
  # Reinstall only when the project's metadata changed since the last install.
  local stamp="$VENV/.radyar-installed"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e '.[dev]'
    touch "$stamp"
  fi
  "$VENV/bin/pybabel" compile -q -d locales -D messages --use-fuzzy 2>/dev/null \
    || "$VENV/bin/pybabel" compile -d locales -D messages
}

job=${1:-}
shift || true
case "$job" in
  demo)
    setup
    exec "$VENV/bin/radyar" demo "$@"
    ;;
  test)
    setup
    "$VENV/bin/ruff" check .
    "$VENV/bin/ruff" format --check .
    "$VENV/bin/mypy"
    "$VENV/bin/lint-imports" --no-cache
    scripts/i18n.sh check
    # One test process per core, each file's tests kept in one process (module fixtures).
    exec "$VENV/bin/pytest" -q -n auto --dist loadfile "$@"
    ;;
  radyar)
    setup
    exec "$VENV/bin/radyar" "$@"
    ;;
  *)
    echo "usage: ./run.sh demo | test [pytest args] | radyar COMMAND…" >&2
    exit 2
    ;;
esac
