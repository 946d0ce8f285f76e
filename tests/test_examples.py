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


def test_example_notebook_runs(tmp_path):
    """examples/notebook.py (a jupytext percent notebook) runs top to bottom on the bundled fit."""
    env = dict(os.environ, ASSURISK_EXAMPLE_OUT=str(tmp_path), MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "notebook.py")], capture_output=True, text=True,
                       timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    assert "p_honored_prior" in r.stdout and "PSIS-LOO over" in r.stdout and "'chain': 4" in r.stdout
    for name in ("forest", "cell", "contrast"):
        assert (tmp_path / f"notebook_{name}.png").stat().st_size > 10_000
