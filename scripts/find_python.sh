#!/usr/bin/env bash
# Print the path of a Python >= 3.12 (PyMC 6 needs it): $PYTHON if set, then python3.12 / python3.13 /
# python3 / python on PATH, then any pyenv-installed 3.12+. Exit 1 with advice when none is found.
ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
candidates+=(python3.12 python3.13 python3.14 python3 python)
pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for d in "$pyenv_root"/versions/3.12* "$pyenv_root"/versions/3.13* "$pyenv_root"/versions/3.14*; do
  [ -x "$d/bin/python3" ] && candidates+=("$d/bin/python3")
done
for c in "${candidates[@]}"; do
  if ok "$c"; then command -v "$c" 2>/dev/null || echo "$c"; exit 0; fi
done
echo "assurisk needs Python >= 3.12 and none was found. Install one (e.g. 'pyenv install 3.12', or your" >&2
echo "system's python3.12 package), or point PYTHON at it: PYTHON=/path/to/python3.12 $0" >&2
exit 1
