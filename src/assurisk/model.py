"""The PyMC model, built from a :class:`Design` and :class:`Priors`.

Promises as sets of items. For pattern i and promised item k:

    logit p_ik = intercept + alpha_k + a[s] + (beta_hp + b[s] + gamma * treat_k) * hp_i + beta_x * x_i
                 [+ delta[monitoring_i] * treat_k  with deterrence]
    P(promise kept) = prod_k p_ik  (adding an item can only lower it)

``alpha_torture = 0``, so the intercept is a torture promise to an ordinary suspect in a state with the
record's average effect at the record's mean covariate; ``treat_k`` marks items no court record shows
(torture and detention conditions, consular access, other), so ``gamma`` lets case type matter
differently for them. a = sigma_state * z, b = sigma_state_high_profile * z' (non-centred).

Three outcomes per transfer (monitoring-aware model, the default), with w = P(kept item verified as
kept) and d = P(broken item reported), each by item verification level and case type:

    P(honoured and verified) = prod_k p_k w_k
    P(breach reported)       = 1 - prod_k (1 - (1 - p_k) d_k)
    P(no known outcome)      = the rest

Face value: w = d = 1 and unknown outcomes dropped. PyMC is imported inside the function so that
importing assurisk (and scoring) never loads it.
"""

from __future__ import annotations

import numpy as np

from .contract import ASSURANCE_GROUPS, COURT_VERIFIABLE, MONITORING_LEVELS, VERIFICATION_LEVELS
from .design import OUTCOMES3, Design
from .priors import CASE_TYPES, Priors

# Names shared by the model, the saved file and the NumPy scorer.
SCALAR_PARAMS = ("intercept", "sigma_state", "beta_high_profile", "beta_high_profile_treatment",
                 "sigma_state_high_profile", "beta_pts")
STATE_PARAMS = ("state_effect", "state_high_profile_effect")
ASSURANCE_PARAM = "assurance_effect"
DETECTION_PARAM = "detection"
VERIFICATION_PARAM = "verification"
DETERRENCE_PARAM = "deterrence"
LATENT_PARAMS = ("z_state", "z_state_high_profile", "item_effect", "deterrence_effect")
TREATMENT_ITEM = np.array([g not in COURT_VERIFIABLE for g in ASSURANCE_GROUPS], dtype=float)
OBSERVED = "outcomes"


def build_model(design: Design, priors: Priors, *, use_covariate: bool, detection: bool,
                deterrence: bool = False, state_x: np.ndarray | None = None):
    """``state_x``: each state's latest centred covariate, used only by ``priors.state_beliefs``."""
    import pymc as pm
    import pytensor.tensor as pt

    coords = {"state": list(design.states), "pattern": np.arange(design.n_patterns),
              "assurance": list(ASSURANCE_GROUPS), "assurance_other": list(ASSURANCE_GROUPS[1:]),
              "verification_level": list(VERIFICATION_LEVELS), "case_type": list(CASE_TYPES),
              "monitoring": list(MONITORING_LEVELS), "monitored": list(MONITORING_LEVELS[1:]),
              "outcome": list(OUTCOMES3)}
    with pm.Model(coords=coords) as model:
        state_idx = pm.Data("state_idx", design.state_idx, dims="pattern")
        hp = pm.Data("high_profile", design.high_profile, dims="pattern")
        x = pm.Data("x", design.x, dims="pattern")
        promised = pm.Data("promised", design.assurance, dims=("pattern", "assurance"))
        mon = pm.Data("monitoring_idx", design.monitoring, dims="pattern")
        if detection:
            counts = pm.Data("counts", design.counts, dims=("pattern", "outcome"))

        intercept = pm.Normal("intercept", priors.intercept_mu, priors.intercept_sigma)
        sigma_state = pm.HalfNormal("sigma_state", priors.sigma_state)
        z_state = pm.Normal("z_state", 0.0, 1.0, dims="state")
        beta_hp = pm.Normal("beta_high_profile", priors.high_profile_mu, priors.high_profile_sigma)
        gamma = pm.Normal("beta_high_profile_treatment", 0.0, priors.high_profile_treatment_sigma)
        sigma_hp = pm.HalfNormal("sigma_state_high_profile", priors.sigma_state_high_profile)
        z_hp = pm.Normal("z_state_high_profile", 0.0, 1.0, dims="state")
        rest = pm.Normal("item_effect", 0.0, priors.assurance_sigma, dims="assurance_other")
        effect = pm.Deterministic("assurance_effect", pt.concatenate([pt.zeros(1), rest]), dims="assurance")
        a = pm.Deterministic("state_effect", sigma_state * z_state, dims="state")
        b = pm.Deterministic("state_high_profile_effect", sigma_hp * z_hp, dims="state")
        treat = pt.as_tensor_variable(TREATMENT_ITEM)
        hp_col = hp[:, None]
        eta = (intercept + effect[None, :] + a[state_idx][:, None]
               + (beta_hp + b[state_idx][:, None] + gamma * treat[None, :]) * hp_col)
        if use_covariate:
            beta_pts = pm.Normal("beta_pts", priors.pts_mu, priors.pts_sigma)
            eta = eta + beta_pts * x[:, None]
        else:
            beta_pts = 0.0
        if deterrence:
            dd = pm.Normal("deterrence_effect", 0.0, priors.deterrence_sigma, dims="monitored")
            delta = pm.Deterministic(DETERRENCE_PARAM, pt.concatenate([pt.zeros(1), dd]), dims="monitoring")
            eta = eta + delta[mon][:, None] * treat[None, :]
        log_p = -pt.log1p(pt.exp(-eta))  # log P(item kept)
        log_q = -pt.log1p(pt.exp(eta))  # log P(item broken)

        if detection:
            levels = np.where(np.array([g in COURT_VERIFIABLE for g in ASSURANCE_GROUPS])[None, :],
                              VERIFICATION_LEVELS.index("public_record"), 0)
            lv = pt.where(pt.as_tensor_variable(levels == 0), mon[:, None], pt.as_tensor_variable(levels))
            ct = pt.cast(hp, "int64")[:, None]
            det_ab, ver_ab = priors.beta_table("detection"), priors.beta_table("verification")
            d = pm.Beta(DETECTION_PARAM, alpha=det_ab[..., 0], beta=det_ab[..., 1], dims=("verification_level", "case_type"))
            w = pm.Beta(VERIFICATION_PARAM, alpha=ver_ab[..., 0], beta=ver_ab[..., 1],
                        dims=("verification_level", "case_type"))
            log_h = pt.sum(promised * (log_p + pt.log(w[lv, ct])), axis=1)
            log_not_b = pt.sum(promised * pt.log1p(-pt.exp(log_q) * d[lv, ct]), axis=1)
        else:
            log_h = pt.sum(promised * log_p, axis=1)
            log_not_b = log_h
        p_h = pt.exp(log_h)
        p_b = -pt.expm1(log_not_b)
        p_u = pt.clip(1.0 - p_h - p_b, 0.0, 1.0)
        if detection:
            probs = pt.clip(pt.stack([p_h, p_b, p_u], axis=1), 1e-12, 1.0)
            pm.Multinomial(OBSERVED, n=counts.sum(axis=1), p=probs / probs.sum(axis=1, keepdims=True),
                           observed=counts, dims=("pattern", "outcome"))
        else:
            n_known = pm.Data("n_known", design.counts[:, 0] + design.counts[:, 1], dims="pattern")
            n_breach = pm.Data("n_breaches", design.counts[:, 1], dims="pattern")
            pm.Binomial(OBSERVED, n=n_known, p=pt.clip(p_b, 1e-12, 1 - 1e-12), observed=n_breach, dims="pattern")

        for state, (mu, sigma) in priors.state_beliefs.items():
            k = design.states.index(state)
            sx = 0.0 if state_x is None else float(state_x[k])
            pm.Potential(f"belief_{state}", pm.logp(pm.Normal.dist(mu, sigma), intercept + a[k] + beta_pts * sx))
    return model
