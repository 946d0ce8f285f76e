"""Predictive checks: PSIS-LOO against simple baselines, grouped posterior predictive checks, LOO-PIT.

The unit is one observation the model used: one transfer's whole promise, or one item of a transfer
coded item by item (aggregate rows are expanded to their transfers). The outcome has three values:
verified kept (0), breach reported (1), nothing known (2); the face-value model has only the first two.
Baselines predict the same three-way outcome from group frequencies, each refitted without the
observation it predicts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..design import COURT_ITEM, N_ITEMS
from ..draws import outcome_probabilities
from . import replay

SMOOTHING = 1.0  # pseudo-observations per category (Dirichlet(1, 1, 1) prior on group frequencies)


def units(spec: replay.ModelSpec) -> pd.DataFrame:
    """One row per transfer-level observation: pattern, outcome (0 kept-verified, 1 breach, 2 unknown)."""
    d = spec.design
    pat = np.repeat(np.arange(d.n_patterns), d.n)
    first = np.concatenate([[0], np.cumsum(d.n)[:-1]])
    k = np.arange(len(pat)) - first[pat]
    h, b = d.counts[pat, 0], d.counts[pat, 1]
    y = np.where(k < h, 0, np.where(k < h + b, 1, 2))
    court = (d.assurance[pat] * ~COURT_ITEM[None, :]).sum(axis=1) == 0
    level = np.where(court, 3, d.monitoring[pat])
    return pd.DataFrame({"pattern": pat, "y": y, "state": d.state_idx[pat], "hp": d.high_profile[pat].astype(int),
                         "court_only": court.astype(int), "level": level})


def transfers(spec: replay.ModelSpec) -> tuple[np.ndarray, np.ndarray]:
    """(pattern index, outcome) for every observation: outcome 1 = (reported) breach, else 0."""
    u = units(spec)
    return u["pattern"].to_numpy(), (u["y"].to_numpy() == 1).astype(int)


def unit_probabilities(draws, spec: replay.ModelSpec, pat: np.ndarray) -> np.ndarray:
    """(draws x units x 3) probabilities of the three outcomes."""
    pr = outcome_probabilities(draws, replay.design_cells(draws, spec.design))
    if spec.detection:
        p = np.stack([pr["verified_kept"], pr["breach_reported"],
                      np.clip(1 - pr["verified_kept"] - pr["breach_reported"], 0, 1)], axis=-1)
    else:
        p = np.stack([1 - pr["breach_reported"], pr["breach_reported"], np.zeros_like(pr["kept"])], axis=-1)
    return np.clip(p[:, pat], 1e-300, 1.0)


def loo(fit, spec: replay.ModelSpec) -> dict:
    """PSIS-LOO of the fitted model per observation, pointwise LOO probabilities, Pareto-k diagnostics."""
    import arviz_stats as azs
    import xarray as xr

    u = units(spec)
    y = u["y"].to_numpy()
    p = unit_probabilities(fit.draws, spec, u["pattern"].to_numpy())
    ll = np.log(np.take_along_axis(p, y[None, :, None], axis=2)[..., 0])
    chains = fit.meta["sampler"]["chains"]
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset({"intercept": (("chain", "draw"), fit.draws.intercept.reshape(chains, -1))}),
                                  "log_likelihood": xr.Dataset({"obs": (("chain", "draw", "unit"), ll.reshape(chains, -1, len(y)))})})
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = azs.loo(tree, pointwise=True)
    elpd_i = np.asarray(res.elpd_i).ravel()
    k = np.asarray(res.pareto_k).ravel()
    # LOO predictive distribution over the three outcomes, by importance weights from PSIS
    log_w = -ll - np.max(-ll, axis=0)
    w = np.exp(log_w)
    w /= w.sum(axis=0)
    p_loo = np.einsum("su,suk->uk", w, p)
    return {"elpd_loo": float(res.elpd), "se": float(res.se), "p_loo": float(res.p),
            "pareto_k_max": float(k.max()), "n_pareto_k_over_0.7": int((k > 0.7).sum()),
            "y": y, "p_loo_outcomes": p_loo, "elpd_i": elpd_i, "units": u}


def _group_loo(u: pd.DataFrame, keys: list[str], n_cat: int) -> np.ndarray:
    """Leave-one-out outcome probabilities from Dirichlet-smoothed frequencies within groups."""
    y = u["y"].to_numpy()
    onehot = np.eye(3)[y][:, :n_cat]
    if keys:
        g = u.groupby(keys).ngroup().to_numpy()
    else:
        g = np.zeros(len(u), dtype=int)
    totals = np.zeros((g.max() + 1, n_cat))
    np.add.at(totals, g, onehot)
    counts = totals[g] - onehot + SMOOTHING
    p = counts / counts.sum(axis=1, keepdims=True)
    return np.pad(p, ((0, 0), (0, 3 - n_cat)))


def baselines(spec: replay.ModelSpec, u: pd.DataFrame) -> dict[str, np.ndarray]:
    """Named simple rules, each predicting the three-way outcome without the observation it predicts."""
    n_cat = 3 if spec.detection else 2
    return {
        "global rate": _group_loo(u, [], n_cat),
        "per-state rate": _group_loo(u, ["state"], n_cat),
        "one-bit rule: every promised item shown by an open court?": _group_loo(u, ["court_only"], n_cat),
        "verification level x case type rates": _group_loo(u, ["level", "hp"], n_cat),
    }


def scores(p: np.ndarray, y: np.ndarray) -> dict:
    """Mean log score and multi-category Brier score of outcome probabilities ``p`` (units x 3)."""
    p = np.clip(p, 1e-12, 1.0)
    onehot = np.eye(3)[y]
    return {"log_score": float(np.mean(np.log(p[np.arange(len(y)), y]))),
            "brier": float(np.mean(np.sum((p - onehot) ** 2, axis=1))),
            "elpd": float(np.sum(np.log(p[np.arange(len(y)), y])))}


def compare(elpd_model: np.ndarray, p_base: np.ndarray, y: np.ndarray) -> dict:
    """Paired difference in elpd (model minus baseline) with its standard error."""
    diff = elpd_model - np.log(np.clip(p_base[np.arange(len(y)), y], 1e-12, 1.0))
    return {"elpd_diff": float(diff.sum()), "se": float(np.sqrt(len(diff)) * diff.std(ddof=1))}


def loo_pit(p_breach: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[np.ndarray, float]:
    """Randomised LOO-PIT for the binary 'breach reported' outcome, and the KS p-value against uniform."""
    u = np.random.default_rng(seed).random(len(y))
    p0 = 1 - p_breach
    pit = np.where(y == 1, p0 + u * p_breach, u * p0)
    return pit, float(stats.kstest(pit, "uniform").pvalue)


def reliability(p: np.ndarray, y: np.ndarray, bins: int = 5) -> list[dict]:
    edges = np.quantile(p, np.linspace(0, 1, bins + 1))
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    return [{"mean_predicted": float(p[which == b].mean()), "observed": float(y[which == b].mean()),
             "n": int((which == b).sum())} for b in range(bins) if (which == b).any()]


GROUPINGS = {"verification x case type": ["level", "hp"], "state": ["state"]}


def grouped_ppc(fit, spec: replay.ModelSpec, u: pd.DataFrame, seed: int = 0, n_rep: int = 1000) -> list[dict]:
    """Posterior predictive check of reported breaches and verified-kept counts per group.

    For each group, the observed count against replicated counts from posterior draws; p is the
    two-sided tail probability (min(2 * min(P(rep <= obs), P(rep >= obs)), 1)). A group fails at p < 0.05.
    """
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, fit.draws.n_draws, n_rep)
    p = unit_probabilities(fit.draws.subset(idx), spec, u["pattern"].to_numpy())  # (rep, units, 3)
    cum = np.cumsum(p, axis=2)
    draw = rng.random(p.shape[:2])[..., None]
    y_rep = (draw > cum).sum(axis=2)  # (rep, units)
    y = u["y"].to_numpy()
    out = []
    for gname, keys in GROUPINGS.items():
        for key, sub in u.groupby(keys):
            cols = sub.index.to_numpy()
            for outcome, label in ((1, "breaches reported"), (0, "verified kept")):
                obs = int((y[cols] == outcome).sum())
                rep = (y_rep[:, cols] == outcome).sum(axis=1)
                pval = float(min(1.0, 2 * min((rep <= obs).mean(), (rep >= obs).mean())))
                out.append({"grouping": gname, "group": _label(spec, keys, key), "n": int(len(cols)),
                            "statistic": label, "observed": obs, "predicted_mean": float(rep.mean()),
                            "p": pval, "passed": bool(pval >= 0.05)})
    return out


def _label(spec, keys, key) -> str:
    from ..contract import VERIFICATION_LEVELS

    key = key if isinstance(key, tuple) else (key,)
    parts = []
    for k, v in zip(keys, key):
        if k == "state":
            parts.append(spec.design.states[int(v)])
        elif k == "level":
            parts.append(VERIFICATION_LEVELS[int(v)])
        elif k == "hp":
            parts.append("high_profile" if v else "ordinary")
    return " / ".join(parts)


def predictive_checks(fit, spec: replay.ModelSpec, seed: int = 0) -> dict:
    res = loo(fit, spec)
    y, p, u = res["y"], res["p_loo_outcomes"], res["units"]
    table = {"model (PSIS-LOO)": scores(p, y)}
    versus = {}
    for name, pb in baselines(spec, u).items():
        table[name] = scores(pb, y)
        versus[name] = compare(res["elpd_i"], pb, y)
    pit, ks_p = loo_pit(p[:, 1], (y == 1).astype(int), seed)
    ppc = grouped_ppc(fit, spec, u, seed)
    return {
        "n_units": int(len(y)), "n_breaches_observed": int((y == 1).sum()), "n_verified_kept": int((y == 0).sum()),
        "elpd_loo": res["elpd_loo"], "elpd_se": res["se"], "p_loo": res["p_loo"],
        "pareto_k_max": res["pareto_k_max"], "n_pareto_k_over_0.7": res["n_pareto_k_over_0.7"],
        "scores": table, "model_minus_baseline": versus,
        "model_level_with_every_baseline": bool(all(v["elpd_diff"] + 2 * v["se"] >= 0 for v in versus.values())),
        "grouped_ppc": ppc, "grouped_ppc_failures": int(sum(not r["passed"] for r in ppc)),
        "loo_pit": pit.tolist(), "loo_pit_ks_p": ks_p,
        "reliability": reliability(p[:, 1], (y == 1).astype(int)),
    }


assert N_ITEMS == len(COURT_ITEM)
