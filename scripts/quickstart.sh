#!/usr/bin/env bash
# The main job on a fresh machine: install assurisk and score an ordinary case in China from the bundled fit.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh .
.venv/bin/assurisk score --state CHN --case-type ordinary
