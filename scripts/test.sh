#!/usr/bin/env bash
# Install assurisk with its test dependencies (editable) and run the test suite; extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh -e '.[test]'
exec .venv/bin/python -m pytest "$@"
