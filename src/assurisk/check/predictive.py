"""Predictive checks: PSIS-LOO, LOO-PIT, leave-one-out Brier and log scores against simple baselines.

The unit is one transfer the model used; the outcome is whether it shows a (reported) breach, which is
what both the model and the baselines predict. Aggregated patterns are expanded back to transfers.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from . import replay


def transfers(spec: replay.ModelSpec) -> tuple[np.ndarray, np.ndarray]:
    """(pattern index, outcome) for every transfer: outcome 1 = (reported) breach."""
    d = spec.design
    pat = np.repeat(np.arange(d.n_patterns), d.n)
    first = np.concatenate([[0], np.cumsum(d.n)[:-1]])
    y = (np.arange(len(pat)) - first[pat] < d.breaches[pat]).astype(int)
    return pat, y


def loo(fit, spec: replay.ModelSpec) -> dict:
    """PSIS-LOO of the fitted model, pointwise LOO probabilities, and Pareto-k diagnostics."""
    import arviz_stats as azs
    import xarray as xr

    pat, y = transfers(spec)
    q = replay.prob_observed_breach(fit.draws, spec.design)[:, pat]  # (draws x transfers)
    ll = np.where(y == 1, np.log(q), np.log1p(-q))
    chains = fit.meta["sampler"]["chains"]
    ll = ll.reshape(chains, -1, len(y))
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset({"intercept": (("chain", "draw"), fit.draws.intercept.reshape(chains, -1))}),
                                  "log_likelihood": xr.Dataset({"breach": (("chain", "draw", "obs"), ll)})})
    res = azs.loo(tree, pointwise=True)
    elpd_i = np.asarray(res.elpd_i).ravel()
    k = np.asarray(res.pareto_k).ravel()
    p_loo = np.where(y == 1, np.exp(elpd_i), 1 - np.exp(elpd_i))  # LOO P(breach)
    return {"elpd_loo": float(res.elpd), "se": float(res.se), "p_loo": float(res.p),
            "pareto_k_max": float(k.max()), "n_pareto_k_over_0.7": int((k > 0.7).sum()),
            "y": y, "p_breach_loo": p_loo, "pattern": pat}


def _logistic_loo(x: np.ndarray, y: np.ndarray, prior_sd: float = 2.5) -> np.ndarray:
    """Leave-one-out P(y=1) from a logistic regression on x alone (ridge = Normal(0, 2.5) prior, MAP)."""
    out = np.empty(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i

        def nll(w):
            eta = w[0] + w[1] * x[keep]
            return np.sum(np.logaddexp(0, eta) - y[keep] * eta) + (w @ w) / (2 * prior_sd**2)

        w = optimize.minimize(nll, np.zeros(2), method="BFGS").x
        out[i] = 1 / (1 + np.exp(-(w[0] + w[1] * x[i])))
    return out


def baselines(spec: replay.ModelSpec, pat: np.ndarray, y: np.ndarray, smoothing: float = 2.0) -> dict[str, np.ndarray]:
    """Leave-one-out P(breach) from three simple rules (each refitted without the case it predicts)."""
    d = spec.design
    n = len(y)
    total = y.sum()
    glob = (total - y + 0.5) / (n - 1 + 1.0)  # Jeffreys-smoothed rate of all other transfers
    state = d.state_idx[pat]
    k_s = np.bincount(state, weights=y, minlength=len(d.states))[state] - y
    n_s = np.bincount(state, minlength=len(d.states))[state] - 1
    per_state = (k_s + smoothing * glob) / (n_s + smoothing)
    out = {"global rate": glob, "per-state smoothed rate": per_state}
    if spec.use_covariate:
        out["logistic on PTS alone"] = _logistic_loo(d.x[pat], y)
    return out


def scores(p: np.ndarray, y: np.ndarray) -> dict:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return {"brier": float(np.mean((y - p) ** 2)), "log_score": float(np.mean(np.where(y == 1, np.log(p), np.log1p(-p))))}


def loo_pit(p_breach: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[np.ndarray, float]:
    """Randomised LOO-PIT for a binary outcome, and the KS test p-value against uniform."""
    u = np.random.default_rng(seed).random(len(y))
    p0 = 1 - p_breach
    pit = np.where(y == 1, p0 + u * p_breach, u * p0)
    return pit, float(stats.kstest(pit, "uniform").pvalue)


def reliability(p: np.ndarray, y: np.ndarray, bins: int = 5) -> list[dict]:
    edges = np.quantile(p, np.linspace(0, 1, bins + 1))
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    return [{"mean_predicted": float(p[which == b].mean()), "observed": float(y[which == b].mean()),
             "n": int((which == b).sum())} for b in range(bins) if (which == b).any()]


def predictive_checks(fit, spec: replay.ModelSpec, seed: int = 0) -> dict:
    res = loo(fit, spec)
    y, p = res["y"], res["p_breach_loo"]
    table = {"model (PSIS-LOO)": scores(p, y)}
    for name, pb in baselines(spec, res["pattern"], y).items():
        table[name] = scores(pb, y)
    pit, ks_p = loo_pit(p, y, seed)
    return {
        "n_transfers": int(len(y)), "n_breaches_observed": int(y.sum()),
        "elpd_loo": res["elpd_loo"], "elpd_se": res["se"], "p_loo": res["p_loo"],
        "pareto_k_max": res["pareto_k_max"], "n_pareto_k_over_0.7": res["n_pareto_k_over_0.7"],
        "scores": table, "loo_pit": pit.tolist(), "loo_pit_ks_p": ks_p,
        "reliability": reliability(p, y),
    }
