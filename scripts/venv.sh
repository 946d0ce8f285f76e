#!/usr/bin/env bash
# Create (or reuse) .venv with Python >= 3.12 and install assurisk into it with the given pip target.
# Usage: scripts/venv.sh TARGET   e.g. scripts/venv.sh .   or   scripts/venv.sh -e '.[test]'
set -euo pipefail
cd "$(dirname "$0")/.."
if ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
  py=$(scripts/find_python.sh)
  echo "creating .venv with $py ($("$py" --version))" >&2
  rm -rf .venv
  "$py" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check "$@"
