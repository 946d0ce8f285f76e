"""Simulate-and-refit machinery shared by the calibration checks.

The model is compiled once per process (nutpie) and re-run on new data with ``with_data``; refits can
be spread over any ``concurrent.futures.Executor`` (a process pool, or a Dask cluster through
``distributed.Client.get_executor()``). Parameters travel as NumPy arrays; predictions reuse the
scorer's array algebra.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace

import numpy as np

from .. import scoring
from ..design import Design, item_levels
from ..draws import PosteriorDraws, outcome_probabilities
from ..model import (ASSURANCE_PARAM, DETECTION_PARAM, DETERRENCE_PARAM, LATENT_COVARIATE, SCALAR_PARAMS,
                     STATE_PARAMS, VERIFICATION_PARAM)
from ..priors import Priors

KEPT = SCALAR_PARAMS + STATE_PARAMS + (ASSURANCE_PARAM, DETERRENCE_PARAM, DETECTION_PARAM, VERIFICATION_PARAM,
                                       LATENT_COVARIATE)


@dataclass(frozen=True)
class RefitSettings:
    draws: int = 250
    tune: int = 250
    chains: int = 2
    thin: int = 5  # keep every 5th draw: ranks should use roughly independent draws (Talts et al. 2018)


@dataclass(frozen=True)
class ModelSpec:
    """What is needed to rebuild a fit's model exactly: design, priors, switches and the states' covariates."""

    design: Design
    priors: Priors
    use_covariate: bool
    detection: bool
    deterrence: bool = False
    state_x: tuple | None = None  # per state, the centred covariate used by priors.state_beliefs
    time_effect: bool = False
    covariate: str | None = None  # "pts", "fariss" or None
    x_center: float = 0.0
    time_center: float = 0.0
    default_year: float = 0.0

    def key(self) -> str:
        """Identity of the compiled model: its structure only. Prior values are data (swapped with
        ``with_data``) except state beliefs, which add terms to the model."""
        shape = (self.design.states, self.design.assurance.shape[1], self.design.latent_keys)
        blob = json.dumps([sorted(self.priors.state_beliefs.items()), self.use_covariate, self.detection,
                           self.deterrence, self.time_effect, self.state_x, repr(shape)], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def build(self):
        from ..model import build_model

        sx = None if self.state_x is None else np.asarray(self.state_x, dtype=float)
        return build_model(self.design, self.priors, use_covariate=self.use_covariate, detection=self.detection,
                           deterrence=self.deterrence, time_effect=self.time_effect, state_x=sx)


def spec_from_fit(fit) -> ModelSpec:
    """Rebuild the fitted design from the data the fit file carries (constant_data)."""
    tree = fit.idata
    cd = tree["constant_data"].to_dataset()
    if "counts" in cd:
        counts = cd["counts"].values.astype(np.int64)
    else:  # face value: known outcomes only
        b = cd["n_breaches"].values.astype(np.int64)
        counts = np.stack([cd["n_known"].values.astype(np.int64) - b, b, np.zeros_like(b)], axis=1)
    n = len(cd["state_idx"])
    keys = tuple(str(k) for k in cd["covariate_latent"].values) if "covariate_latent" in cd.coords else ()
    design = Design(
        states=tuple(str(s) for s in tree.posterior.to_dataset()["state"].values),
        state_idx=cd["state_idx"].values.astype(np.int64),
        high_profile=cd["high_profile"].values.astype(float),
        x=cd["x"].values.astype(float),
        assurance=cd["promised"].values.astype(float),
        monitoring=cd["monitoring_idx"].values.astype(np.int64),
        counts=counts,
        x_sd=cd["x_sd"].values.astype(float) if "x_sd" in cd else np.zeros(n),
        latent_idx=cd["latent_idx"].values.astype(np.int64) if "latent_idx" in cd else np.full(n, -1),
        latent_keys=keys,
        t=cd["t"].values.astype(float) if "t" in cd else np.zeros(n),
    )
    spec = fit.meta["spec"]
    priors = Priors.from_dict(spec["priors"])
    x_center = float(spec.get("x_center", 0.0))
    state_x = None
    if priors.state_beliefs and spec["covariates"]:
        from ..fitting import beliefs_covariate

        state_x = tuple(float(v) for v in beliefs_covariate(design.states, spec["covariates"], x_center))
    return ModelSpec(design, priors, bool(spec["covariates"]), bool(spec["detection"]),
                     bool(spec.get("deterrence", False)), state_x, bool(spec.get("time_effect", False)),
                     spec["covariates"] or None, x_center, float(spec.get("time_center", 0.0)),
                     float(spec.get("default_year", 0.0)))


def design_for(spec: ModelSpec, table, covariate=None, *, detection: bool, x_center: float | None = None) -> Design | None:
    """Design of another case table (or another likelihood), indexed into the fitted model's states
    and covariate values, so the compiled model can be reused.

    Returns None when the table has a state the fitted model does not know (it cannot reuse the model).
    """
    from .. import contract
    from ..design import build_design
    from ..fitting import row_covariates

    _, rows = contract.parse(table, "fit", require_year=spec.use_covariate or spec.time_effect)
    x, x_sd, _, t = row_covariates(rows, spec.covariate, spec.time_effect, time_center=spec.time_center,
                                   default_year=spec.default_year)
    d = build_design(rows, x, detection=detection, x_center=spec.x_center if x_center is None else x_center,
                     x_sd=x_sd, t=t, latent_keys=spec.design.latent_keys)
    lookup = {s: i for i, s in enumerate(spec.design.states)}
    if not set(d.states) <= set(lookup):
        return None
    return replace(d, states=spec.design.states, state_idx=np.array([lookup[d.states[i]] for i in d.state_idx]))


def design_cells(draws: PosteriorDraws, design: Design):
    """Cells of the fitted patterns, with the covariate's measurement error taken from the draws."""
    from ..draws import cells_for, design_noise

    return cells_for(draws, design.state_idx, design.high_profile, design.x, design.assurance, design.monitoring,
                     t=design.t, x_noise=design_noise(draws, design.x_sd, design.latent_idx))


def outcome_probs(draws: PosteriorDraws, design: Design) -> dict[str, np.ndarray]:
    """(draws x patterns) kept, verified_kept and breach_reported probabilities."""
    return outcome_probabilities(draws, design_cells(draws, design))


def prob_honoured(draws: PosteriorDraws, design: Design) -> np.ndarray:
    """(draws x patterns) P(whole promise honoured)."""
    return outcome_probs(draws, design)["kept"]


def prob_observed_breach(draws: PosteriorDraws, design: Design) -> np.ndarray:
    """(draws x patterns) probability that a transfer shows a (reported) breach in the record."""
    return outcome_probs(draws, design)["breach_reported"]


def prior_draws(spec: ModelSpec, n: int, rng: np.random.Generator) -> PosteriorDraws:
    """``n`` parameter sets drawn from the priors (NumPy; state beliefs are not supported here)."""
    p, k = spec.priors, len(spec.design.states)
    if p.state_beliefs:
        raise ValueError("prior simulation does not support state_beliefs (they are not a generative prior)")
    n_latent = len(spec.design.latent_keys)
    sigma_s = np.abs(rng.normal(0, p.sigma_state, n))
    sigma_h = np.abs(rng.normal(0, p.sigma_state_high_profile, n))
    n_items = spec.design.assurance.shape[1]
    arrays = {
        "intercept": rng.normal(p.intercept_mu, p.intercept_sigma, n),
        "sigma_state": sigma_s,
        "beta_high_profile": rng.normal(p.high_profile_mu, p.high_profile_sigma, n),
        "beta_high_profile_treatment": rng.normal(0, p.high_profile_treatment_sigma, n),
        "sigma_state_high_profile": sigma_h,
        "state_effect": sigma_s[:, None] * rng.standard_normal((n, k)),
        "state_high_profile_effect": sigma_h[:, None] * rng.standard_normal((n, k)),
        ASSURANCE_PARAM: np.concatenate([np.zeros((n, 1)), rng.normal(0, p.assurance_sigma, (n, n_items - 1))], axis=1),
    }
    if spec.use_covariate:
        arrays["beta_covariate"] = rng.normal(p.covariate_mu, p.covariate_sigma, n)
        if n_latent:
            arrays["covariate_error"] = rng.standard_normal((n, n_latent))
    if spec.time_effect:
        arrays["beta_time"] = rng.normal(0, p.time_sigma, n)
    if spec.deterrence:
        arrays[DETERRENCE_PARAM] = np.concatenate([np.zeros((n, 1)), rng.normal(0, p.deterrence_sigma, (n, 2))], axis=1)
    if spec.detection:
        for name in (DETECTION_PARAM, VERIFICATION_PARAM):
            ab = p.beta_table(name)
            arrays[name] = rng.beta(ab[..., 0], ab[..., 1], (n, 4, 2))
    return PosteriorDraws.from_arrays(arrays, spec.design.states, unseen_seed=0)


def simulate_counts(draws: PosteriorDraws, design: Design, rng: np.random.Generator, *, detection: bool = True) -> np.ndarray:
    """One simulated record per parameter set: (sets x patterns x 3) counts of verified kept, reported
    breach and unknown, on the design's own numbers of transfers (face value: known outcomes only)."""
    pr = outcome_probs(draws, design)
    n = design.n if detection else design.counts[:, 0] + design.counts[:, 1]
    if detection:
        p = np.stack([pr["verified_kept"], pr["breach_reported"],
                      np.clip(1 - pr["verified_kept"] - pr["breach_reported"], 0, 1)], axis=-1)
    else:
        p = np.stack([1 - pr["breach_reported"], pr["breach_reported"], np.zeros_like(pr["kept"])], axis=-1)
    p = p / p.sum(axis=-1, keepdims=True)
    return rng.multinomial(np.broadcast_to(n, p.shape[:2]), p)


def subset(draws: PosteriorDraws, i: int | np.ndarray) -> PosteriorDraws:
    """Parameter set(s) ``i`` of a batch, as a PosteriorDraws."""
    return draws.subset(i)


# --- refitting ------------------------------------------------------------------------------------
_COMPILED: dict[str, object] = {}  # per-process cache: model key -> compiled nutpie model


def _compiled(spec: ModelSpec):
    key = spec.key()
    if key not in _COMPILED:
        from ..fitting import _import_pymc

        _import_pymc()
        import nutpie

        _COMPILED[key] = nutpie.compile_pymc_model(spec.build(), backend="numba")
    return _COMPILED[key]


def _data_of(spec: ModelSpec, design: Design, counts: np.ndarray) -> dict:
    from ..model import design_data, prior_data

    return {**prior_data(spec.priors), **design_data(replace(design, counts=np.asarray(counts, dtype=np.int64)))}


def refit_chunk(spec: ModelSpec, jobs: list[tuple[Design | None, np.ndarray, int]], settings: RefitSettings) -> list[dict]:
    """Refit the compiled model on each (design or None for the spec's, counts, seed); runs in workers.

    Every result carries its divergences and whether its diagnostics pass, so no refit's number is
    shown without its convergence flag.
    """
    import nutpie

    from ..fitting import compute_diagnostics, convergence_problems

    compiled = _compiled(spec)
    out = []
    for design, counts, seed in jobs:
        data = _data_of(spec, design if design is not None else spec.design, counts)
        known = {v.name for v in compiled.shared_var_keys}
        tree = nutpie.sample(compiled.with_data(**{k: v for k, v in data.items() if k in known}), draws=settings.draws,
                             tune=settings.tune, chains=settings.chains, cores=min(settings.chains, 2), seed=int(seed),
                             progress_bar=False, save_warmup=False)
        post = tree.posterior.to_dataset()
        res = {n: post[n].values[:, ::settings.thin].reshape(-1, *post[n].shape[2:]) for n in KEPT if n in post}
        diag = compute_diagnostics(tree)
        problems = convergence_problems(diag, ess_min=min(400, settings.chains * settings.draws // 4))
        res.update(divergences=int(diag["divergences"]), converged=not problems, problems=list(problems),
                   r_hat_max=diag["r_hat_max"], ess_bulk_min=diag["ess_bulk_min"], ess_tail_min=diag["ess_tail_min"])
        out.append(res)
    return out


def run_refits(spec: ModelSpec, jobs: list[tuple[Design | None, np.ndarray, int]], settings: RefitSettings,
               executor=None) -> list[dict]:
    """Refit every job, inline or spread over ``executor`` in contiguous chunks (order is kept)."""
    if executor is None:
        return refit_chunk(spec, jobs, settings)
    workers = getattr(executor, "_max_workers", None) or 2
    size = max(1, -(-len(jobs) // (2 * workers)))
    futures = [executor.submit(refit_chunk, spec, jobs[i:i + size], settings) for i in range(0, len(jobs), size)]
    return [r for f in futures for r in f.result()]


def draws_of(result: dict, states) -> PosteriorDraws:
    return PosteriorDraws.from_arrays({k: v for k, v in result.items() if isinstance(v, np.ndarray) and k in KEPT},
                                      states, unseen_seed=0)


assert item_levels  # re-exported for the checks


# --- one compile for data and prior alternatives alike ------------------------------------------
def refit_alternatives(spec: ModelSpec, jobs: list[tuple[Design | None, np.ndarray, Priors | None, int]],
                       settings: RefitSettings, log=None) -> list[dict]:
    """Refit on each (design or None, counts, priors or None, seed). The model reads its priors as data,
    so every alternative without new state beliefs reuses the one compiled model. Results are as
    :func:`refit_chunk`'s, with the diagnostics and the time each refit took."""
    import time

    out = []
    for design, counts, priors, seed in jobs:
        t = time.perf_counter()
        alt = spec if priors is None else replace(spec, priors=priors)
        res = refit_chunk(alt, [(design, counts, seed)], settings)[0]
        res["seconds"] = time.perf_counter() - t
        out.append(res)
        if log is not None:
            log(f"refit {len(out)} of {len(jobs)}: {res['seconds']:.1f} s")
    return out
