"""Simulation-based calibration (Talts et al. 2018) and interval coverage, on the fit's own design."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import stats

from ..priors import Priors
from . import replay

SBC_PARAMS = ("intercept", "sigma_state", "beta_high_profile", "beta_high_profile_treatment",
              "sigma_state_high_profile", "beta_covariate", "beta_time")
# Derived quantities a court reads: P(whole promise kept) for a typical state (state effects zero, mean
# covariate, no monitoring) and the ordinary-minus-high-profile contrast for a torture promise.
DERIVED = ("p[ordinary,torture]", "p[high_profile,torture]", "p[ordinary,death_penalty]", "contrast[torture]")
ALPHA = 0.05  # family-wise level; each parameter is tested at ALPHA / (number of parameters)


def _typical(draws, case_type: str, item: str) -> np.ndarray:
    from ..contract import ASSURANCE_GROUPS
    from ..draws import Cells, log_p_kept

    s = draws.n_draws
    mask = np.zeros((1, len(ASSURANCE_GROUPS)))
    mask[0, ASSURANCE_GROUPS.index(item)] = 1
    c = Cells(np.zeros((s, 1)), np.zeros((s, 1)), np.array([float(case_type == "high_profile")]), np.zeros(1),
              mask, np.zeros(1, dtype=np.int64))
    return np.exp(log_p_kept(draws, c))[:, 0]


def _scalar(draws, name: str) -> np.ndarray:
    for prefix, table in (("detection[", "detection"), ("verification[", "verification")):
        if name.startswith(prefix):
            lv, ct = (int(v) for v in name[len(prefix):-1].split(","))
            return getattr(draws, table)[:, lv, ct]
    if name.startswith("p["):
        ct, item = name[2:-1].split(",")
        return _typical(draws, ct, item)
    if name.startswith("contrast["):
        item = name[len("contrast["):-1]
        return _typical(draws, "ordinary", item) - _typical(draws, "high_profile", item)
    if name.startswith("state_effect["):
        return draws.state_effect[:, int(name[len("state_effect["):-1])]
    return getattr(draws, name)


def equal_count_draws(n_draws: int, bins: int) -> int:
    """Largest L <= n_draws with (L + 1) divisible by ``bins``: ranks 0..L then fill every bin equally."""
    return n_draws - ((n_draws + 1) % bins)



def refit_health(results: list[dict]) -> dict:
    """How the short refits behind a calibration fared: divergences and the fit-level thresholds.

    Calibration refits are deliberately short, so many miss the thresholds a published fit must meet;
    the counts and the typical worst R-hat travel with every calibration number so that none is shown
    without them.
    """
    rhat = np.array([r.get("r_hat_max", np.nan) for r in results], dtype=float)
    ess = np.array([r.get("ess_bulk_min", np.nan) for r in results], dtype=float)
    return {"divergent_fits": int(sum(r["divergences"] > 0 for r in results)),
            "unconverged_fits": int(sum(not r["converged"] for r in results)),
            "r_hat_max_median": float(np.nanmedian(rhat)) if np.isfinite(rhat).any() else None,
            "ess_bulk_min_median": float(np.nanmedian(ess)) if np.isfinite(ess).any() else None}

def sbc(spec: replay.ModelSpec, n_sims: int = 200, *, settings: replay.RefitSettings = replay.RefitSettings(),
        seed: int = 0, executor=None, simulate_priors: Priors | None = None) -> dict:
    """Rank statistics of each main parameter's true value among its posterior draws, over ``n_sims`` datasets.

    Datasets are simulated from the prior on the fit's own design (states, case types, promised items,
    verification levels and case counts). ``simulate_priors`` draws the truth from a different prior
    than the model fits, which should fail: the test of the test.
    """
    rng = np.random.default_rng(seed)
    sim_spec = spec if simulate_priors is None else replace(spec, priors=simulate_priors)
    truth = replay.prior_draws(sim_spec, n_sims, rng)
    counts_sim = replay.simulate_counts(truth, spec.design, rng, detection=spec.detection)
    jobs = [(None, counts_sim[i], seed * 100_003 + i) for i in range(n_sims)]
    results = replay.run_refits(spec, jobs, settings, executor)
    params = [p for p in SBC_PARAMS if (p != "beta_covariate" or spec.use_covariate) and (p != "beta_time" or spec.time_effect)]
    params += list(DERIVED) + ["state_effect[0]"]
    if spec.detection:  # unmonitored ordinary and high-profile cases
        params += ["detection[0,0]", "detection[0,1]", "verification[0,0]", "verification[0,1]"]
    bins = max(4, min(20, n_sims // 10))
    n_draws = equal_count_draws(len(results[0]["intercept"]), bins)
    ranks = {p: [] for p in params}
    for i, res in enumerate(results):
        post = replay.draws_of(res, spec.design.states).subset(np.arange(n_draws))
        for p in params:
            ranks[p].append(int(np.sum(_scalar(post, p) < _scalar(replay.subset(truth, i), p)[0])))
    out = {"n_sims": n_sims, "n_posterior_draws": n_draws, "bins": bins, "alpha": ALPHA,
           **refit_health(results), "params": {}}
    for p, r in ranks.items():
        r = np.asarray(r)
        counts = np.bincount(r * bins // (n_draws + 1), minlength=bins)
        chi2 = stats.chisquare(counts)
        out["params"][p] = {"ranks": r.tolist(), "chi2_p": float(chi2.pvalue),
                            "passed": bool(chi2.pvalue >= ALPHA / len(ranks))}
    out["passed"] = all(v["passed"] for v in out["params"].values())
    return out


def ecdf_band(n_sims: int, n_draws: int, prob: float = 0.95, reps: int = 2000, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Simultaneous band for the ECDF difference of uniform ranks (by simulation, as in Säilynoja et al. 2022)."""
    rng = np.random.default_rng(seed)
    grid = np.linspace(0, 1, 101)
    sims = rng.integers(0, n_draws + 1, (reps, n_sims)) / (n_draws + 1)
    diff = (sims[:, :, None] <= grid).mean(axis=1) - grid
    width = np.quantile(np.abs(diff).max(axis=1), prob)
    return grid, np.full_like(grid, width)


def coverage(fit, spec: replay.ModelSpec, n_sims: int = 100, *, settings: replay.RefitSettings = replay.RefitSettings(),
             seed: int = 0, executor=None, levels=(0.5, 0.9), truth_from: str = "prior") -> dict:
    """How often central intervals for each pattern's P(honoured) contain the truth.

    Truths are drawn from the prior (``truth_from="prior"``: the calibrated case, where nominal
    coverage is guaranteed on average) or from the fit's posterior; datasets repeat the real design;
    each is refitted.
    """
    rng = np.random.default_rng(seed)
    if truth_from == "prior":
        truth = replay.prior_draws(spec, n_sims, rng)
    else:
        truth = replay.subset(fit.draws, rng.integers(0, fit.draws.n_draws, n_sims))
    p_true = replay.prob_honoured(truth, spec.design)  # (sims x patterns)
    counts_sim = replay.simulate_counts(truth, spec.design, rng, detection=spec.detection)
    jobs = [(None, counts_sim[i], seed * 100_003 + i) for i in range(n_sims)]
    results = replay.run_refits(spec, jobs, settings, executor)
    hits = {lv: [] for lv in levels}
    for i, res in enumerate(results):
        p = replay.prob_honoured(replay.draws_of(res, spec.design.states), spec.design)
        for lv in levels:
            lo, hi = np.quantile(p, [(1 - lv) / 2, (1 + lv) / 2], axis=0)
            hits[lv].append((p_true[i] >= lo) & (p_true[i] <= hi))
    out = {"n_sims": n_sims, "n_patterns": spec.design.n_patterns, "truth_from": truth_from,
           **refit_health(results), "levels": {}}
    for lv, h in hits.items():
        h = np.asarray(h, dtype=float)
        rate = float(h.mean())
        out["levels"][f"{lv:.2f}"] = {
            "coverage": rate,
            "mc_se": float(h.mean(axis=1).std(ddof=1) / np.sqrt(n_sims)),  # datasets are independent
            "within_3_points": bool(abs(rate - lv) <= 0.03),
            "by_pattern": h.mean(axis=0).round(3).tolist(),
        }
    return out
