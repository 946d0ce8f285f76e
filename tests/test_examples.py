"""The examples run as written and print what they promise."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_walkthrough_runs():
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "walkthrough.py")], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert "assurance events" in r.stdout and "CHN" in r.stdout and "not a random sample" in r.stdout
