"""Sensitivity: power-scaling of prior and likelihood, and refits under named alternatives.

For one question (a state and a case type) the robustness table gives the estimate and interval
under each alternative: other priors (wider, narrower, other detection beliefs, an elicited example),
other coding rules (partly_breached read as honoured; treaty and informal assurances left out;
weak-evidence rows left out), the face-value model, and each receiving state's rows left out in turn.
Data alternatives reuse the compiled model; prior alternatives need a recompile.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import stats

from ..contract import VERIFICATION_LEVELS
from ..priors import CASE_TYPES, DEFAULT_DETECTION, Priors
from . import predictive, replay

MAIN = ["intercept", "sigma_state", "beta_high_profile", "beta_high_profile_treatment", "sigma_state_high_profile",
        "beta_covariate", "beta_time"]


def _log_prior(fit, priors: Priors) -> np.ndarray:
    """Joint log prior density of every posterior draw (chains x draws), as the model defines it."""
    post = {k: v.values for k, v in fit.idata.posterior.to_dataset().data_vars.items()}
    lp = (stats.norm.logpdf(post["intercept"], priors.intercept_mu, priors.intercept_sigma)
          + stats.halfnorm.logpdf(post["sigma_state"], scale=priors.sigma_state)
          + stats.norm.logpdf(post["beta_high_profile"], priors.high_profile_mu, priors.high_profile_sigma)
          + stats.norm.logpdf(post["beta_high_profile_treatment"], 0, priors.high_profile_treatment_sigma)
          + stats.halfnorm.logpdf(post["sigma_state_high_profile"], scale=priors.sigma_state_high_profile)
          + stats.norm.logpdf(post["z_state"]).sum(axis=-1) + stats.norm.logpdf(post["z_state_high_profile"]).sum(axis=-1)
          + stats.norm.logpdf(post["item_effect"], 0, priors.assurance_sigma).sum(axis=-1))
    if "beta_covariate" in post:
        lp = lp + stats.norm.logpdf(post["beta_covariate"], priors.covariate_mu, priors.covariate_sigma)
    if "covariate_error" in post:
        lp = lp + stats.norm.logpdf(post["covariate_error"]).sum(axis=-1)
    if "beta_time" in post:
        lp = lp + stats.norm.logpdf(post["beta_time"], 0, priors.time_sigma)
    if "deterrence_effect" in post:
        lp = lp + stats.norm.logpdf(post["deterrence_effect"], 0, priors.deterrence_sigma).sum(axis=-1)
    for name in ("detection", "verification"):
        if name in post:
            table = getattr(priors, name)
            for i, lv in enumerate(VERIFICATION_LEVELS):
                for j, ct in enumerate(CASE_TYPES):
                    a, b = table[f"{lv}/{ct}"]
                    lp = lp + stats.beta.logpdf(post[name][:, :, i, j], a, b)
    return np.asarray(lp)


def power_scaling(fit, spec: replay.ModelSpec) -> pd.DataFrame:
    """ArviZ's power-scaling sensitivity of the main parameters to the prior and to the likelihood."""
    import arviz_stats as azs
    import xarray as xr

    u = predictive.units(spec)
    y = u["y"].to_numpy()
    p = predictive.unit_probabilities(fit.draws, spec, u["pattern"].to_numpy())
    chains = fit.meta["sampler"]["chains"]
    ll = np.log(np.take_along_axis(p, y[None, :, None], axis=2)[..., 0]).reshape(chains, -1, len(y))
    post = fit.idata.posterior.to_dataset()
    names = [n for n in MAIN if n in post]
    tree = xr.DataTree.from_dict({
        "posterior": post[names],
        "log_likelihood": xr.Dataset({"breach": (("chain", "draw", "obs"), ll)}),
        "log_prior": xr.Dataset({"prior": (("chain", "draw"), _log_prior(fit, spec.priors))}),
    })
    return azs.psense_summary(tree, var_names=names)


def _detection_scaled(f) -> dict:
    """Default detection priors with each mean m moved to f(m), same concentration, a and b kept >= 1
    (a Beta with a or b below 1 has infinite density at an edge and makes the sampler diverge)."""
    out = {}
    for (lv, ct), (a, b) in DEFAULT_DETECTION.items():
        k, m = a + b, f(a / (a + b))
        k = max(k, 1 / min(m, 1 - m))  # so that both m*k and (1-m)*k are at least 1
        out[f"{lv}/{ct}"] = (m * k, (1 - m) * k)
    return out


def prior_alternatives(priors: Priors) -> dict[str, Priors]:
    scale = lambda f: replace(priors, intercept_sigma=priors.intercept_sigma * f, sigma_state=priors.sigma_state * f,  # noqa: E731
                              high_profile_sigma=priors.high_profile_sigma * f,
                              covariate_sigma=priors.covariate_sigma * f, time_sigma=priors.time_sigma * f,
                              high_profile_treatment_sigma=priors.high_profile_treatment_sigma * f,
                              sigma_state_high_profile=priors.sigma_state_high_profile * f,
                              assurance_sigma=priors.assurance_sigma * f)
    return {
        "priors: all scales x 2": scale(2.0),
        "priors: all scales x 0.5": scale(0.5),
        "priors: case-type effects sd 0.5 (items 1.5)": replace(priors, high_profile_sigma=0.5,
                                                                high_profile_treatment_sigma=0.5),
        "priors: case-type effects sd 2 (items 1.5)": replace(priors, high_profile_sigma=2.0,
                                                              high_profile_treatment_sigma=2.0),
        "priors: item effects sd 0.5": replace(priors, assurance_sigma=0.5),
        "detection: breaches half as visible": replace(priors, detection=_detection_scaled(lambda m: 0.5 * m)),
        "detection: unseen share halved": replace(priors, detection=_detection_scaled(lambda m: 1 - 0.5 * (1 - m))),
        "elicited example: unmonitored breach reported 1 in 4 (90%: 0.10-0.45)":
            priors.with_detection("none", 0.25, 0.10, 0.45),
    }


def _recode(cases: pd.DataFrame, mask, outcome: str) -> pd.DataFrame:
    """Rows under ``mask`` read as ``outcome`` for the whole promise (their item outcomes dropped)."""
    out = cases.copy()
    out["outcome"] = np.where(mask, outcome, cases["outcome"].astype(object))
    if "item_outcomes" in out.columns:
        out["item_outcomes"] = np.where(mask, None, out["item_outcomes"].astype(object))
    return out


def data_alternatives(cases: pd.DataFrame, states) -> dict[str, pd.DataFrame]:
    """Alternative case tables; ``states`` are the states whose rows are left out in turn."""
    out = {}
    def col(name):  # missing cells read as "" (pandas 3 keeps NA through astype(str))
        if name not in cases:
            return pd.Series("", index=cases.index)
        return cases[name].astype(object).where(cases[name].notna(), "").astype(str).str.strip()

    partly = col("outcome_detail") == "partly_breached"
    if partly.any():
        out["coding: partly_breached read as honoured"] = _recode(cases, partly, "honored")
    minor = col("breach_gravity") == "minor"
    if minor.any():
        out["coding: minor breaches read as honoured"] = _recode(cases, minor, "honored")
    if "case_type_criteria" in cases:
        media = (col("case_type") == "ordinary") & col("case_type_criteria").str.contains("media")
        if media.any():
            out["coding: media attention alone counts as high-profile"] = cases.assign(
                case_type=np.where(media, "high_profile", cases["case_type"].astype(object)))
    if "promise_context" in cases:
        out["data: standing obligations and after-transfer promises left out"] = cases[col("promise_context") == "transfer_condition"]
    if "assurance_kind" in cases:
        out["data: treaty and informal assurances left out"] = cases[col("assurance_kind") == "case_specific"]
    if "evidence_strength" in cases:
        out["data: weak-evidence rows left out"] = cases[col("evidence_strength") != "weak"]
    if "judgement_call" in cases:
        out["data: rows flagged as judgement calls left out"] = cases[col("judgement_call") == ""]
    code = cases["receiving_state"].astype(str).str.strip().str.upper()
    for s in states:
        out[f"without {s}'s own rows"] = cases[code != s]
    return out


def robustness(fit, spec: replay.ModelSpec, cases: pd.DataFrame, question: dict, *,
               settings: replay.RefitSettings = replay.RefitSettings(draws=1000, tune=1000, chains=4, thin=1),
               executor=None, seed: int = 0, only=None) -> list[dict]:
    """Estimate and 90% interval for ``question`` under each alternative (the fit itself first).

    ``only`` (names of alternatives) runs just those, for a quick look at one assumption.
    """
    wanted = (lambda name: True) if only is None else set(only).__contains__
    def summarise(name, draws_obj, note="", res=None):
        p = fit.__class__(draws_obj, fit.meta).probability_matrix([question])[:, 0]
        lo, hi = np.quantile(p, [0.05, 0.95])
        div = fit.diagnostics["divergences"] if res is None else res["divergences"]
        conv = fit.converged if res is None else res["converged"]
        return {"alternative": name, "p_honored": float(p.mean()), "lower": float(lo), "upper": float(hi),
                "divergences": int(div), "converged": bool(conv), "note": note}

    x_center = float(fit.meta["spec"].get("x_center", 0.0))
    rows = [summarise("as fitted", fit.draws)]
    names, jobs = [], []
    for name, table in data_alternatives(cases, spec.design.states).items():
        if len(table) == 0 or not wanted(name):
            continue
        d = replay.design_for(spec, table, detection=spec.detection)
        if d is None:
            continue
        names.append(name)
        jobs.append((d, d.counts, seed + len(jobs)))
    for name, res in zip(names, replay.run_refits(spec, jobs, settings, executor)):
        note = "the question's state is then an unseen state" if name == f"without {question['receiving_state']}'s own rows" else ""
        rows.append(summarise(name, replay.draws_of(res, spec.design.states), note, res))
    for name, priors in prior_alternatives(spec.priors).items():
        if not wanted(name):
            continue
        alt = replace(spec, priors=priors)
        res = replay.run_refits(alt, [(None, spec.design.counts, seed)], settings)[0]
        rows.append(summarise(name, replay.draws_of(res, spec.design.states), res=res))
    face_name = "face value: unknown outcomes dropped, every breach assumed reported"
    if spec.detection and wanted(face_name):
        fd = replay.design_for(spec, cases, detection=False)
        face = replace(spec, design=fd, detection=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = replay.run_refits(face, [(None, fd.counts, seed)], settings)[0]
        rows.append(summarise(face_name, replay.draws_of(res, spec.design.states), res=res))
    return rows
