"""The PyMC model, built from a :class:`Design` and :class:`Priors`.

Promises as sets of items. For pattern i and promised item k:

    logit p_ik = intercept + alpha_k + a[s] + (beta_hp + b[s] + gamma * treat_k) * hp_i
                 + beta_cov * x_i + beta_time * t_i  [+ delta[monitoring_i] * treat_k  with deterrence]
    P(promise kept) = prod_k p_ik  (adding an item can only lower it)

``alpha_torture = 0``, so the intercept is a torture promise to an ordinary suspect in a state with the
record's average effect at the record's mean covariate and year; ``treat_k`` marks items no court
record shows (torture and detention conditions, consular access, other), so ``gamma`` lets case type
matter differently for them. a = sigma_state * z, b = sigma_state_high_profile * z' (non-centred).
The covariate is measured with error where its source says so: x_i = m_i + s_i * u_j, u_j ~ N(0, 1)
for the state-year j of pattern i.

Three outcomes per transfer (monitoring-aware model, the default), with w = P(kept item verified as
kept) and d = P(broken item reported), each by item verification level and case type:

    P(honoured and verified) = prod_k p_k w_k
    P(breach reported)       = 1 - prod_k (1 - (1 - p_k) d_k)
    P(no known outcome)      = the rest

Face value: w = d = 1 and unknown outcomes dropped.

Every prior hyperparameter enters as data (``pm.Data``), so one compiled model serves every prior
alternative of a sensitivity analysis (nutpie ``with_data``), not only every data set. PyMC is
imported inside the function so that importing assurisk (and scoring) never loads it.
"""

from __future__ import annotations

import numpy as np

from .contract import ASSURANCE_GROUPS, COURT_VERIFIABLE, MONITORING_LEVELS, VERIFICATION_LEVELS
from .design import OUTCOMES3, Design
from .priors import CASE_TYPES, Priors

# Names shared by the model, the saved file and the NumPy scorer.
SCALAR_PARAMS = ("intercept", "sigma_state", "beta_high_profile", "beta_high_profile_treatment",
                 "sigma_state_high_profile", "beta_covariate", "beta_time")
STATE_PARAMS = ("state_effect", "state_high_profile_effect")
ASSURANCE_PARAM = "assurance_effect"
DETECTION_PARAM = "detection"
VERIFICATION_PARAM = "verification"
DETERRENCE_PARAM = "deterrence"
LATENT_COVARIATE = "covariate_error"
LATENT_PARAMS = ("z_state", "z_state_high_profile", "item_effect", "deterrence_effect", LATENT_COVARIATE)
TREATMENT_ITEM = np.array([g not in COURT_VERIFIABLE for g in ASSURANCE_GROUPS], dtype=float)
OBSERVED = "outcomes"
# Prior hyperparameters as model data: name -> how to read it from a Priors object.
PRIOR_DATA = {
    "prior_intercept": lambda p: np.array([p.intercept_mu, p.intercept_sigma]),
    "prior_sigma_state": lambda p: np.array(p.sigma_state),
    "prior_high_profile": lambda p: np.array([p.high_profile_mu, p.high_profile_sigma]),
    "prior_high_profile_treatment": lambda p: np.array(p.high_profile_treatment_sigma),
    "prior_sigma_state_high_profile": lambda p: np.array(p.sigma_state_high_profile),
    "prior_covariate": lambda p: np.array([p.covariate_mu, p.covariate_sigma]),
    "prior_time": lambda p: np.array(p.time_sigma),
    "prior_item": lambda p: np.array(p.assurance_sigma),
    "prior_deterrence": lambda p: np.array(p.deterrence_sigma),
    "prior_detection": lambda p: p.beta_table("detection"),
    "prior_verification": lambda p: p.beta_table("verification"),
}


def prior_data(priors: Priors) -> dict[str, np.ndarray]:
    """The prior hyperparameters as the arrays the model reads (for ``with_data`` / ``set_data``)."""
    return {k: np.asarray(f(priors), dtype=float) for k, f in PRIOR_DATA.items()}


def design_data(design: Design) -> dict[str, np.ndarray]:
    """The design as the arrays the model reads."""
    counts = np.asarray(design.counts, dtype=np.int64)
    return {"state_idx": design.state_idx, "high_profile": design.high_profile, "x": design.x,
            "x_sd": design.x_sd, "latent_idx": design.latent_idx, "t": design.t,
            "promised": design.assurance, "monitoring_idx": design.monitoring, "counts": counts,
            "n_known": counts[:, 0] + counts[:, 1], "n_breaches": counts[:, 1]}


def build_model(design: Design, priors: Priors, *, use_covariate: bool, detection: bool,
                deterrence: bool = False, time_effect: bool = False, state_x: np.ndarray | None = None):
    """``state_x``: each state's latest centred covariate, used only by ``priors.state_beliefs``."""
    import pymc as pm
    import pytensor.tensor as pt

    n_latent = len(design.latent_keys)
    coords = {"state": list(design.states), "pattern": np.arange(design.n_patterns),
              "assurance": list(ASSURANCE_GROUPS), "assurance_other": list(ASSURANCE_GROUPS[1:]),
              "verification_level": list(VERIFICATION_LEVELS), "case_type": list(CASE_TYPES),
              "monitoring": list(MONITORING_LEVELS), "monitored": list(MONITORING_LEVELS[1:]),
              "outcome": list(OUTCOMES3), "covariate_latent": list(design.latent_keys)}
    dd = design_data(design)
    with pm.Model(coords=coords) as model:
        pr = {k: pm.Data(k, v) for k, v in prior_data(priors).items()}
        state_idx = pm.Data("state_idx", dd["state_idx"], dims="pattern")
        hp = pm.Data("high_profile", dd["high_profile"], dims="pattern")
        x = pm.Data("x", dd["x"], dims="pattern")
        promised = pm.Data("promised", dd["promised"], dims=("pattern", "assurance"))
        mon = pm.Data("monitoring_idx", dd["monitoring_idx"], dims="pattern")
        if detection:
            counts = pm.Data("counts", dd["counts"], dims=("pattern", "outcome"))

        intercept = pm.Normal("intercept", pr["prior_intercept"][0], pr["prior_intercept"][1])
        sigma_state = pm.HalfNormal("sigma_state", pr["prior_sigma_state"])
        z_state = pm.Normal("z_state", 0.0, 1.0, dims="state")
        beta_hp = pm.Normal("beta_high_profile", pr["prior_high_profile"][0], pr["prior_high_profile"][1])
        gamma = pm.Normal("beta_high_profile_treatment", 0.0, pr["prior_high_profile_treatment"])
        sigma_hp = pm.HalfNormal("sigma_state_high_profile", pr["prior_sigma_state_high_profile"])
        z_hp = pm.Normal("z_state_high_profile", 0.0, 1.0, dims="state")
        rest = pm.Normal("item_effect", 0.0, pr["prior_item"], dims="assurance_other")
        effect = pm.Deterministic(ASSURANCE_PARAM, pt.concatenate([pt.zeros(1), rest]), dims="assurance")
        a = pm.Deterministic("state_effect", sigma_state * z_state, dims="state")
        b = pm.Deterministic("state_high_profile_effect", sigma_hp * z_hp, dims="state")
        treat = pt.as_tensor_variable(TREATMENT_ITEM)
        hp_col = hp[:, None]
        eta = (intercept + effect[None, :] + a[state_idx][:, None]
               + (beta_hp + b[state_idx][:, None] + gamma * treat[None, :]) * hp_col)
        beta_cov = 0.0
        if use_covariate:
            beta_cov = pm.Normal("beta_covariate", pr["prior_covariate"][0], pr["prior_covariate"][1])
            x_eff = x
            if n_latent:
                x_sd = pm.Data("x_sd", dd["x_sd"], dims="pattern")
                latent_idx = pm.Data("latent_idx", dd["latent_idx"], dims="pattern")
                u = pm.Normal(LATENT_COVARIATE, 0.0, 1.0, dims="covariate_latent")
                x_eff = x + x_sd * pt.concatenate([u, pt.zeros(1)])[latent_idx]  # index -1: exact value
            eta = eta + beta_cov * x_eff[:, None]
        if time_effect:
            t = pm.Data("t", dd["t"], dims="pattern")
            beta_time = pm.Normal("beta_time", 0.0, pr["prior_time"])
            eta = eta + beta_time * t[:, None]
        if deterrence:
            d_eff = pm.Normal("deterrence_effect", 0.0, pr["prior_deterrence"], dims="monitored")
            delta = pm.Deterministic(DETERRENCE_PARAM, pt.concatenate([pt.zeros(1), d_eff]), dims="monitoring")
            eta = eta + delta[mon][:, None] * treat[None, :]
        log_p = -pt.log1p(pt.exp(-eta))  # log P(item kept)
        log_q = -pt.log1p(pt.exp(eta))  # log P(item broken)

        if detection:
            levels = np.where(np.array([g in COURT_VERIFIABLE for g in ASSURANCE_GROUPS])[None, :],
                              VERIFICATION_LEVELS.index("public_record"), 0)
            lv = pt.where(pt.as_tensor_variable(levels == 0), mon[:, None], pt.as_tensor_variable(levels))
            ct = pt.cast(hp, "int64")[:, None]
            det, ver = pr["prior_detection"], pr["prior_verification"]
            d = pm.Beta(DETECTION_PARAM, alpha=det[..., 0], beta=det[..., 1], dims=("verification_level", "case_type"))
            w = pm.Beta(VERIFICATION_PARAM, alpha=ver[..., 0], beta=ver[..., 1], dims=("verification_level", "case_type"))
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
            n_known = pm.Data("n_known", dd["n_known"], dims="pattern")
            n_breach = pm.Data("n_breaches", dd["n_breaches"], dims="pattern")
            pm.Binomial(OBSERVED, n=n_known, p=pt.clip(p_b, 1e-12, 1 - 1e-12), observed=n_breach, dims="pattern")

        for state, (mu, sigma) in priors.state_beliefs.items():
            k = design.states.index(state)
            sx = 0.0 if state_x is None else float(state_x[k])
            pm.Potential(f"belief_{state}", pm.logp(pm.Normal.dist(mu, sigma), intercept + a[k] + beta_cov * sx))
    return model
