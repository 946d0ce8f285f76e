"""The examples run as written and print what they promise."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT


def test_walkthrough_runs(tmp_path):
    env = dict(os.environ, ASSURISK_EXAMPLE_OUT=str(tmp_path))
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "walkthrough.py")], capture_output=True, text=True,
                       timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    assert "assurance events" in r.stdout and "CHN" in r.stdout and "not a random sample" in r.stdout
    report = (tmp_path / "report_china_ordinary.html").read_text()
    assert '<section id="reproducibility">' in report and 'id="para-1"' in report
