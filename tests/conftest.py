"""Shared fixtures: one small simulated fit per test session (fitting is the slow part)."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import assurisk
from assurisk.simulate import simulate_cases

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

SIM_SEED = 11
FIT_SEED = 7
# simulate_cases records every breach, so the face-value model is the right one for it.
FIT_KW = dict(covariates=None, detection=False, draws=500, tune=500, chains=2, seed=FIT_SEED)


@pytest.fixture(scope="session")
def simulated():
    """20 exchangeable states x 30 transfers, with the true P(honoured) per state and case type."""
    return simulate_cases(n_states=20, transfers_per_state=30, seed=SIM_SEED)


@pytest.fixture(scope="session")
def sim_fit(simulated):
    cases, _ = simulated
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", assurisk.ConvergenceWarning)
        return assurisk.fit(cases, **FIT_KW)


@pytest.fixture(scope="session")
def bundled():
    return assurisk.default_fit()


def run_cli(*args, cwd=None):
    """Run the CLI in a fresh interpreter, as a user would."""
    return subprocess.run([sys.executable, "-m", "assurisk.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=600)
