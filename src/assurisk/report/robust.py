"""The report's robustness table: the question asked, refitted under a curated list of alternatives.

One model is compiled, with its prior settings as data (``check.replay.refit_alternatives``), and every
alternative, whether a different coding of the record or a different prior, is a re-run of that compiled
model. The list is curated for a court, not exhaustive (``assurisk check`` runs more, including each
state left out in turn):

- coding of partial breaches (and, when the table grades breaches, minor breaches) read as honoured;
- rows the coders flagged as judgement calls left out; weak-evidence rows left out;
- the state's own rows left out (how much its own record moves the answer);
- no Political Terror Scale covariate (the covariate set to zero: the same model without it);
- detection and verification: breaches half as likely, or twice as likely, to be reported; kept
  promises half as likely to be shown kept;
- prior scales of the case-type and item effects halved and doubled;
- face value: every breach reported and unknown outcomes dropped (detection and verification fixed
  near one on the same compiled model: Beta(10000, 1) priors).
"""

from __future__ import annotations

import copy
import time
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd

from ..check import replay
from ..priors import CASE_TYPES, VERIFICATION_LEVELS

SETTINGS = replay.RefitSettings(draws=800, tune=400, chains=4, thin=1)
NEAR_ONE = (10000.0, 1.0)


def _scaled(table: dict, f) -> dict:
    """Each Beta(a, b) with its mean m moved to f(m), same concentration, a and b kept >= 1."""
    out = {}
    for key, (a, b) in table.items():
        k, m = a + b, f(a / (a + b))
        k = max(k, 1 / min(m, 1 - m))
        out[key] = (m * k, (1 - m) * k)
    return out


def _col(df, name) -> pd.Series:
    return df[name].fillna("").astype(str).str.strip() if name in df.columns else pd.Series("", index=df.index)


def alternatives(fit, spec, table: pd.DataFrame, state: str) -> list[dict]:
    """The alternatives that apply to this fit and table: [{name, kind, table|None, priors|None, note, ...}]."""
    p = spec.priors
    out = []
    detail = _col(table, "outcome_detail")
    transferred = _col(table, "transferred").isin(["yes", ""])
    if (detail == "partly_breached").any():
        t = table.copy()
        partly = detail == "partly_breached"
        t.loc[partly, "outcome"] = "honored"
        if "item_outcomes" in t.columns:
            t.loc[partly, "item_outcomes"] = np.nan  # recoded as a whole: item outcomes would contradict it
        out.append({"name": "coding: partly breached promises read as honoured", "kind": "coding", "table": t,
                    "note": f"{int(partly.sum())} rows recoded"})
    grav = _col(table, "breach_gravity")
    if (grav == "minor").any():
        t = table.copy()
        minor = grav == "minor"
        t.loc[minor, "outcome"] = "honored"
        if "item_outcomes" in t.columns:
            t.loc[minor, "item_outcomes"] = np.nan
        out.append({"name": "coding: minor breaches read as honoured", "kind": "coding", "table": t,
                    "note": f"{int(minor.sum())} rows recoded"})
    jc = _col(table, "judgement_call")
    if (jc != "").any():
        keep = jc == ""
        out.append({"name": "data: rows flagged as judgement calls left out", "kind": "data", "table": table[keep],
                    "note": f"{int((~keep).sum())} rows left out"})
    ev = _col(table, "evidence_strength")
    if (ev == "weak").any():
        keep = ev != "weak"
        out.append({"name": "data: weak-evidence rows left out", "kind": "data", "table": table[keep],
                    "note": f"{int((~keep).sum())} rows left out"})
    code = _col(table, "receiving_state").str.upper()
    own = (code == state) & transferred
    if own.any() and state in spec.design.states:
        from ..codes import state_name

        out.append({"name": f"data: {state_name(state)}'s own rows left out", "kind": "data", "table": table[code != state],
                    "note": "the state is then one the record says nothing about"})
    if spec.use_covariate:
        out.append({"name": "covariate: none (states as exchangeable groups)", "kind": "covariate", "table": None,
                    "zero_x": True, "note": ""})
    if spec.detection:
        out.append({"name": "detection: breaches half as likely to be reported", "kind": "prior",
                    "priors": replace(p, detection=_scaled(p.detection, lambda m: 0.5 * m)), "note": ""})
        out.append({"name": "detection: unreported share of breaches halved", "kind": "prior",
                    "priors": replace(p, detection=_scaled(p.detection, lambda m: 1 - 0.5 * (1 - m))), "note": ""})
        out.append({"name": "verification: kept promises half as likely to be shown kept", "kind": "prior",
                    "priors": replace(p, verification=_scaled(p.verification, lambda m: 0.5 * m)), "note": ""})
    for f, word in ((0.5, "halved"), (2.0, "doubled")):
        out.append({"name": f"prior: case-type effect scales {word}", "kind": "prior",
                    "priors": replace(p, high_profile_sigma=p.high_profile_sigma * f,
                                      high_profile_treatment_sigma=p.high_profile_treatment_sigma * f,
                                      sigma_state_high_profile=p.sigma_state_high_profile * f), "note": ""})
    for f, word in ((0.5, "halved"), (2.0, "doubled")):
        out.append({"name": f"prior: item effect scale {word}", "kind": "prior",
                    "priors": replace(p, assurance_sigma=p.assurance_sigma * f), "note": ""})
    if spec.detection:
        near = {f"{lv}/{ct}": NEAR_ONE for lv in VERIFICATION_LEVELS for ct in CASE_TYPES}
        out.append({"name": "face value: every breach reported, unknown outcomes left out", "kind": "model",
                    "priors": replace(p, detection=dict(near), verification=dict(near)), "drop_unknown": True,
                    "note": "detection and verification fixed near one on the same model"})
    return out


def robustness(fit, spec, table: pd.DataFrame, question: dict, level: float, *, settings=SETTINGS,
               log=None) -> dict:
    """Estimate and central ``level`` interval for ``question`` under each alternative, with diagnostics."""
    state = question["receiving_state"]
    alts = alternatives(fit, spec, table, state)
    jobs, used = [], []
    x_center = fit.x_center
    seed0 = int(fit.meta["sampler"].get("seed") or 0)
    for a in alts:
        design = None
        if a.get("table") is not None:
            design = replay.design_for(spec, a["table"], detection=spec.detection)
            if design is None:
                continue
        if a.get("zero_x"):
            design = replace(spec.design, x=np.zeros_like(spec.design.x), x_sd=np.zeros_like(spec.design.x))
        d = design if design is not None else spec.design
        counts = d.counts.copy()
        if a.get("drop_unknown"):
            counts[:, 2] = 0
        jobs.append((design, counts, a.get("priors"), seed0 + 1 + len(jobs)))
        used.append(a)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = replay.refit_alternatives(spec, jobs, settings)
    seconds = time.perf_counter() - t
    tails = [(1 - level) / 2, (1 + level) / 2]
    rows = []
    for a, res in zip(used, results):
        meta = fit.meta
        if a.get("zero_x"):
            meta = copy.deepcopy(fit.meta)
            meta["spec"]["covariates"] = None
        p = fit.__class__(replay.draws_of(res, spec.design.states), meta).probability_matrix([question])[:, 0]
        lo, hi = np.quantile(p, tails)
        rows.append({"alternative": a["name"], "kind": a["kind"], "p_honored": float(p.mean()), "lower": float(lo),
                     "upper": float(hi), "level": level, "divergences": int(res["divergences"]),
                     "converged": bool(res["converged"]), "problems": "; ".join(res["problems"]),
                     "r_hat_max": res["r_hat_max"], "ess_bulk_min": res["ess_bulk_min"], "note": a["note"]})
    return {"rows": rows, "seconds": seconds, "settings": {"chains": settings.chains, "draws": settings.draws,
                                                          "tune": settings.tune}}
