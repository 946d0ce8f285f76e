#!/usr/bin/env bash
# Install assurisk with its test dependencies (editable) and run the test suite; extra args go to pytest.
# The report test renders the HTML in headless Chromium: installed here from Debian's packages when
# missing and this user can (root with apt-get); otherwise that one test is skipped (failed under CI).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium (Debian package) for the report rendering test" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
    || echo "could not install chromium; the rendering test will be skipped" >&2
fi
scripts/venv.sh -e '.[test]'
exec .venv/bin/python -m pytest "$@"
