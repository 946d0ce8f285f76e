"""The PyMC model (face-value version), built from a :class:`Design` and :class:`Priors`.

logit p = intercept + a[state] + (beta_hp + b[state]) * high_profile + beta_pts * x
a = sigma_state * z_state,  b = sigma_state_high_profile * z_state_high_profile  (non-centred)

PyMC is imported inside the function so that importing assurisk (and scoring) never loads it.
"""

from __future__ import annotations

import numpy as np

from .design import Design
from .priors import Priors

# Names shared by the model, the saved file and the NumPy scorer.
SCALAR_PARAMS = ("intercept", "sigma_state", "beta_high_profile", "sigma_state_high_profile", "beta_pts")
STATE_PARAMS = ("state_effect", "state_high_profile_effect")


def build_model(design: Design, priors: Priors, *, use_covariate: bool):
    import pymc as pm

    coords = {"state": list(design.states), "pattern": np.arange(design.n_patterns)}
    with pm.Model(coords=coords) as model:
        state_idx = pm.Data("state_idx", design.state_idx, dims="pattern")
        hp = pm.Data("high_profile", design.high_profile, dims="pattern")
        x = pm.Data("x", design.x, dims="pattern")
        n = pm.Data("n_transfers", design.n, dims="pattern")
        y = pm.Data("n_honored", design.y, dims="pattern")

        intercept = pm.Normal("intercept", priors.intercept_mu, priors.intercept_sigma)
        sigma_state = pm.HalfNormal("sigma_state", priors.sigma_state)
        z_state = pm.Normal("z_state", 0.0, 1.0, dims="state")
        beta_hp = pm.Normal("beta_high_profile", priors.high_profile_mu, priors.high_profile_sigma)
        sigma_hp = pm.HalfNormal("sigma_state_high_profile", priors.sigma_state_high_profile)
        z_hp = pm.Normal("z_state_high_profile", 0.0, 1.0, dims="state")
        a = pm.Deterministic("state_effect", sigma_state * z_state, dims="state")
        b = pm.Deterministic("state_high_profile_effect", sigma_hp * z_hp, dims="state")
        eta = intercept + a[state_idx] + (beta_hp + b[state_idx]) * hp
        if use_covariate:
            beta_pts = pm.Normal("beta_pts", priors.pts_mu, priors.pts_sigma)
            eta = eta + beta_pts * x
        pm.Binomial("honored", n=n, logit_p=eta, observed=y, dims="pattern")
    return model
