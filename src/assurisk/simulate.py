"""Simulated case tables with known parameters: for tests, recovery studies and calibration."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .codes import iso3166_alpha3


@dataclass(frozen=True)
class TrueParameters:
    intercept: float = 0.5
    sigma_state: float = 1.0
    beta_high_profile: float = -0.8
    sigma_state_high_profile: float = 0.4


def simulate_cases(n_states: int = 12, transfers_per_state: int = 30, *, share_high_profile: float = 0.5,
                   params: TrueParameters = TrueParameters(), seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (cases, truth): one row per transfer, and the true P(honoured) per state and case type.

    States are real ISO3 codes (the first ``n_states`` in alphabetical order) used as exchangeable
    labels; there is no covariate, so fit these with ``covariates=None``.
    """
    rng = np.random.default_rng(seed)
    states = sorted(iso3166_alpha3())[:n_states]
    a = params.sigma_state * rng.standard_normal(n_states)
    b = params.sigma_state_high_profile * rng.standard_normal(n_states)
    state = np.repeat(states, transfers_per_state)
    s_idx = np.repeat(np.arange(n_states), transfers_per_state)
    hp = rng.random(len(state)) < share_high_profile
    eta = params.intercept + a[s_idx] + (params.beta_high_profile + b[s_idx]) * hp
    honored = rng.random(len(state)) < 1 / (1 + np.exp(-eta))
    cases = pd.DataFrame({
        "receiving_state": state,
        "case_type": np.where(hp, "high_profile", "ordinary"),
        "outcome": np.where(honored, "honored", "breached"),
    })
    truth = pd.DataFrame([
        {"receiving_state": s, "case_type": ct,
         "p_true": 1 / (1 + np.exp(-(params.intercept + a[i] + (params.beta_high_profile + b[i]) * (ct == "high_profile"))))}
        for i, s in enumerate(states) for ct in ("ordinary", "high_profile")
    ])
    return cases, truth
