"""The PyMC model, built from a :class:`Design` and :class:`Priors`.

logit p = intercept + a[state] + (beta_hp + b[state]) * high_profile + beta_pts * x + sum_k e[k] * promised_k
a = sigma_state * z_state,  b = sigma_state_high_profile * z_state_high_profile  (non-centred)

Face value: breaches ~ Binomial(n known-outcome transfers, 1 - p).
Monitoring-aware: reported breaches ~ Binomial(n all transfers, (1 - p) * d[verification, case type]),
with Beta priors on the detection probabilities d.

PyMC is imported inside the function so that importing assurisk (and scoring) never loads it.
"""

from __future__ import annotations

import numpy as np

from .contract import ASSURANCE_GROUPS, VERIFICATION_LEVELS
from .design import Design
from .priors import CASE_TYPES, Priors

# Names shared by the model, the saved file and the NumPy scorer.
SCALAR_PARAMS = ("intercept", "sigma_state", "beta_high_profile", "sigma_state_high_profile", "beta_pts")
STATE_PARAMS = ("state_effect", "state_high_profile_effect")
ASSURANCE_PARAM = "assurance_effect"
DETECTION_PARAM = "detection"


def build_model(design: Design, priors: Priors, *, use_covariate: bool, detection: bool,
                state_x: np.ndarray | None = None):
    """``state_x``: each state's latest standardised covariate, used only by ``priors.state_beliefs``."""
    import pymc as pm
    import pytensor.tensor as pt

    coords = {"state": list(design.states), "pattern": np.arange(design.n_patterns),
              "assurance": list(ASSURANCE_GROUPS), "verification": list(VERIFICATION_LEVELS),
              "case_type": list(CASE_TYPES)}
    with pm.Model(coords=coords) as model:
        state_idx = pm.Data("state_idx", design.state_idx, dims="pattern")
        hp = pm.Data("high_profile", design.high_profile, dims="pattern")
        x = pm.Data("x", design.x, dims="pattern")
        promised = pm.Data("promised", design.assurance, dims=("pattern", "assurance"))
        level = pm.Data("verification_idx", design.verification, dims="pattern")
        n = pm.Data("n_transfers", design.n, dims="pattern")
        r = pm.Data("n_breaches", design.breaches, dims="pattern")

        intercept = pm.Normal("intercept", priors.intercept_mu, priors.intercept_sigma)
        sigma_state = pm.HalfNormal("sigma_state", priors.sigma_state)
        z_state = pm.Normal("z_state", 0.0, 1.0, dims="state")
        beta_hp = pm.Normal("beta_high_profile", priors.high_profile_mu, priors.high_profile_sigma)
        sigma_hp = pm.HalfNormal("sigma_state_high_profile", priors.sigma_state_high_profile)
        z_hp = pm.Normal("z_state_high_profile", 0.0, 1.0, dims="state")
        effect = pm.Normal(ASSURANCE_PARAM, 0.0, priors.assurance_sigma, dims="assurance")
        a = pm.Deterministic("state_effect", sigma_state * z_state, dims="state")
        b = pm.Deterministic("state_high_profile_effect", sigma_hp * z_hp, dims="state")
        eta = intercept + a[state_idx] + (beta_hp + b[state_idx]) * hp + pt.dot(promised, effect)
        beta_pts = 0.0
        if use_covariate:
            beta_pts = pm.Normal("beta_pts", priors.pts_mu, priors.pts_sigma)
            eta = eta + beta_pts * x
        p_breach = pm.math.invlogit(-eta)
        if detection:
            ab = np.array([[priors.detection[f"{lv}/{ct}"] for ct in CASE_TYPES] for lv in VERIFICATION_LEVELS])
            d = pm.Beta(DETECTION_PARAM, alpha=ab[..., 0], beta=ab[..., 1], dims=("verification", "case_type"))
            p_obs = p_breach * d[level, pt.cast(hp, "int64")]
        else:
            p_obs = p_breach
        pm.Binomial("breaches", n=n, p=p_obs, observed=r, dims="pattern")

        for state, (mu, sigma) in priors.state_beliefs.items():
            k = design.states.index(state)
            sx = 0.0 if state_x is None else float(state_x[k])
            torture = ASSURANCE_GROUPS.index("torture")
            pm.Potential(f"belief_{state}", pm.logp(pm.Normal.dist(mu, sigma),
                                                     intercept + a[k] + effect[torture] + beta_pts * sx))
    return model
