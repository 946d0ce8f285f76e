"""Simulated case tables with known parameters: for tests, recovery studies and calibration."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .states import sovereign_codes


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
    states = sorted(sovereign_codes())[:n_states]  # receiving states must be sovereign (states.py)
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


# Who is watched, and how often a breach surfaces when nobody watches, by monitoring level and case type
# (ordinary, high-profile): chosen so that the simulation's true verification rate w (a kept promise is
# shown kept only when watched) and detection rate d = w + (1 - w) * s equal the means of the default
# priors (priors.DEFAULT_VERIFICATION and DEFAULT_DETECTION): the study of "the model when its priors
# are right".
def _rates():
    from .priors import DEFAULT_DETECTION, DEFAULT_VERIFICATION

    mean = lambda ab: ab[0] / (ab[0] + ab[1])  # noqa: E731
    watched, surfaces = {}, {}
    for lv in ("none", "consular", "independent"):
        w = tuple(mean(DEFAULT_VERIFICATION[(lv, ct)]) for ct in ("ordinary", "high_profile"))
        d = tuple(mean(DEFAULT_DETECTION[(lv, ct)]) for ct in ("ordinary", "high_profile"))
        watched[lv] = w
        surfaces[lv] = tuple(max(0.0, (di - wi) / (1 - wi)) for di, wi in zip(d, w))
    return watched, surfaces


WATCHED, SURFACES = _rates()
MONITORING_SHARES = {  # ordinary, high-profile: P(none), P(consular), P(independent)
    "ordinary": (0.75, 0.20, 0.05),
    "high_profile": (0.40, 0.40, 0.20),
}


def simulate_monitored(n_states: int = 20, transfers_per_state: int = 40, *, share_high_profile: float = 0.5,
                       params: TrueParameters = TrueParameters(beta_high_profile=0.0), seed: int = 0
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Transfers whose breaches are seen only if someone watches (or, rarely, they surface anyway).

    Each transfer gets a monitoring level (high-profile cases are watched more). A watched transfer
    ends ``breached`` or ``honored`` as it truly was; an unwatched one ends ``breached`` if its breach
    surfaced and ``unknown`` otherwise. The rates match the default detection and verification priors. All promises are about torture. By default high-profile and
    ordinary cases are equally at risk (beta_high_profile = 0), the claim a court would want tested.
    Returns (cases, truth) as :func:`simulate_cases` does.
    """
    rng = np.random.default_rng(seed)
    cases, truth = simulate_cases(n_states, transfers_per_state, share_high_profile=share_high_profile,
                                  params=params, seed=seed)
    p = truth.set_index(["receiving_state", "case_type"]).p_true
    p_row = p.loc[list(zip(cases.receiving_state, cases.case_type))].to_numpy()
    breach = rng.random(len(cases)) >= p_row
    levels = ("none", "consular", "independent")
    monitoring = np.array([levels[rng.choice(3, p=MONITORING_SHARES[ct])] for ct in cases.case_type])
    hp = (cases.case_type == "high_profile").to_numpy().astype(int)
    w = np.array([WATCHED[lv][h] for lv, h in zip(monitoring, hp)])
    sfc = np.array([SURFACES[lv][h] for lv, h in zip(monitoring, hp)])
    watched = rng.random(len(cases)) < w
    surfaced = rng.random(len(cases)) < sfc
    outcome = np.where(watched, np.where(breach, "breached", "honored"), np.where(breach & surfaced, "breached", "unknown"))
    cases = cases.assign(outcome=outcome, monitoring=monitoring, assurance_types="torture")
    return cases, truth
