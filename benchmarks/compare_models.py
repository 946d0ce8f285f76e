"""Model comparison on the bundled record: covariates, time, deterrence, item-effect scale, face value.

Each variant is fitted with the bundled fit's seed and sampler settings and compared by PSIS-LOO over
cases (``az.compare`` on the fits' per-case log-likelihood), grouped posterior predictive checks
(verification x case type, state) and the China answers with their priors. Every fit's convergence
and divergences are printed beside its numbers; nothing is muted. The face-value model has a
different likelihood (unknown outcomes dropped), so it is shown but not ranked by LOO.

Run:  .venv/bin/python benchmarks/compare_models.py        (about 10 minutes on 2 cores)
Writes benchmarks/out/compare_models.json and prints the Markdown tables used in docs/model.md.
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

import assurisk
from assurisk.check import predictive, replay
from assurisk.check.sensitivity import _detection_scaled
from assurisk.resources import data_path

SEED = 20261128
ROWS = [{"receiving_state": "CHN", "case_type": ct, "assurance_types": a}
        for ct in ("ordinary", "high_profile") for a in ("torture", "death_penalty")]


def variants() -> dict[str, dict]:
    p = assurisk.Priors()
    return {
        "default: PTS covariate": {},
        "no covariate": {"covariates": None},
        "Fariss latent scores (with their measurement error)": {"covariates": "fariss"},
        "PTS + time trend": {"time_effect": True},
        "PTS + deterrence (monitoring changes compliance)": {"deterrence": True},
        "item effects sd 0.5 (the v1 scale)": {"priors": replace(p, assurance_sigma=0.5)},
        "case-type effects sd 0.5": {"priors": replace(p, high_profile_sigma=0.5, high_profile_treatment_sigma=0.5)},
        "detection: breaches half as visible": {"priors": replace(p, detection=_detection_scaled(lambda m: 0.5 * m))},
        "detection and verification priors half as concentrated": {
            "priors": replace(p, detection=_weaker(p.detection), verification=_weaker(p.verification))},
    }


def _weaker(table: dict) -> dict:
    """The same prior means with half the concentration (a and b kept >= 1, so no infinite density)."""
    out = {}
    for k, (a, b) in table.items():
        m, c = a / (a + b), max((a + b) / 2, 1 / min(a / (a + b), b / (a + b)))
        out[k] = (m * c, (1 - m) * c)
    return out


def summarise(name: str, fit, seconds: float) -> dict:
    spec = replay.spec_from_fit(fit)
    u = predictive.units(spec)
    ppc = predictive.grouped_ppc(fit, spec, u, seed=0)
    s = fit.score(ROWS)
    typical = fit.case_type_contrast()
    chn = fit.case_type_contrast("CHN")
    return {
        "variant": name, "seconds": round(seconds, 1), "converged": fit.converged,
        "divergences": fit.diagnostics["divergences"], "r_hat_max": fit.diagnostics["r_hat_max"],
        "ess_bulk_min": fit.diagnostics["ess_bulk_min"],
        "ppc_failures": int(sum(not r["passed"] for r in ppc)), "ppc_groups": len(ppc),
        "cells": [{k: (None if v is None or (isinstance(v, float) and np.isnan(v)) else
                       (v.item() if hasattr(v, "item") else v))
                   for k, v in r.items() if k in ("case_type", "assurance_types", "p_honored", "p_honored_lower",
                                                  "p_honored_upper", "p_honored_prior", "prior_contraction",
                                                  "n_direct", "prior_dominated")} for r in s.to_dict("records")],
        "typical_contrast": typical, "china_contrast": chn,
    }


def main() -> None:
    import arviz_stats as azs

    (Path(__file__).resolve().parent / "out").mkdir(exist_ok=True)
    cases = data_path("cases.csv")
    fits, out = {}, []
    for name, kw in variants().items():
        t = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", assurisk.ConvergenceWarning)
            fit = assurisk.fit(cases, seed=SEED, **kw)
        for w in caught:
            if issubclass(w.category, assurisk.ConvergenceWarning):
                print(f"[{name}] {w.message}")
        fits[name] = fit
        fit.save(Path(__file__).resolve().parent / "out" / f"compare_{len(fits)}.nc")
        out.append(summarise(name, fit, time.perf_counter() - t))
        print(f"fitted {name} in {out[-1]['seconds']} s (converged {fit.converged}, divergences "
              f"{fit.diagnostics['divergences']})", flush=True)
    pointwise = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for name, f in fits.items():
            pointwise[name] = azs.loo(f.idata, pointwise=True)
    best = max(pointwise, key=lambda k: float(pointwise[k].elpd))
    for r in out:
        lo = pointwise[r["variant"]]
        diff = np.ravel(lo.elpd_i) - np.ravel(pointwise[best].elpd_i)  # paired, case by case
        r.update(elpd_loo=float(lo.elpd), elpd_se=float(lo.se), p_loo=float(lo.p), elpd_diff=float(diff.sum()),
                 diff_se=float(np.sqrt(len(diff)) * diff.std(ddof=1)) if r["variant"] != best else 0.0,
                 pareto_k_max=float(np.max(lo.pareto_k)), n_pareto_k_over_0_7=int(np.sum(np.ravel(lo.pareto_k) > 0.7)))
    t = time.perf_counter()
    face = assurisk.fit(cases, detection=False, seed=SEED)
    out.append(summarise("face value: unknowns dropped, every breach assumed reported", face, time.perf_counter() - t))
    dest = Path(__file__).resolve().parent / "out"
    dest.mkdir(exist_ok=True)
    (dest / "compare_models.json").write_text(json.dumps(out, indent=1, default=float))

    print("\n| variant | elpd_loo (SE) | difference from best (SE) | max Pareto k | grouped PPC failures | "
          "converged (divergences) |\n|---|---|---|---|---|---|")
    for r in out:
        if "elpd_loo" in r:
            print(f"| {r['variant']} | {r['elpd_loo']:.1f} ({r['elpd_se']:.1f}) | {r['elpd_diff']:.1f} ({r['diff_se']:.1f}) | "
                  f"{r['pareto_k_max']:.2f} ({r['n_pareto_k_over_0_7']} over 0.7) | {r['ppc_failures']} of {r['ppc_groups']} | "
                  f"{'yes' if r['converged'] else 'NO'} ({r['divergences']}) |")
    print("\n| variant | CHN ordinary torture | prior | CHN high-profile torture | P(ordinary better), typical state "
          "(prior) | converged |\n|---|---|---|---|---|---|")
    for r in out:
        o, h = r["cells"][0], r["cells"][2]
        tc = r["typical_contrast"]
        prior = "n/a" if tc["p_ordinary_better_prior"] is None else f"{tc['p_ordinary_better_prior']:.2f}"
        flag = " (prior-dominated)" if o["prior_dominated"] else ""
        print(f"| {r['variant']} | {o['p_honored']:.2f} ({o['p_honored_lower']:.2f}-{o['p_honored_upper']:.2f}){flag} | "
              f"{o['p_honored_prior']:.2f} | {h['p_honored']:.2f} ({h['p_honored_lower']:.2f}-{h['p_honored_upper']:.2f}) | "
              f"{tc['p_ordinary_better']:.2f} ({prior}) | {'yes' if r['converged'] else 'NO'} ({r['divergences']}) |")


if __name__ == "__main__":
    main()
