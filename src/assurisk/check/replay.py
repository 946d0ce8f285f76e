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
from ..contract import VERIFICATION_LEVELS
from ..design import Design
from ..draws import PosteriorDraws
from ..model import ASSURANCE_PARAM, DETECTION_PARAM, SCALAR_PARAMS, STATE_PARAMS
from ..priors import CASE_TYPES, Priors

KEPT = SCALAR_PARAMS + STATE_PARAMS + (ASSURANCE_PARAM, DETECTION_PARAM)


@dataclass(frozen=True)
class RefitSettings:
    draws: int = 250
    tune: int = 250
    chains: int = 2
    thin: int = 5  # keep every 5th draw: ranks should use roughly independent draws (Talts et al. 2018)


@dataclass(frozen=True)
class ModelSpec:
    """What is needed to rebuild a fit's model: design, priors and the two switches."""

    design: Design
    priors: Priors
    use_covariate: bool
    detection: bool

    def key(self) -> str:
        shape = (self.design.states, self.design.assurance.shape[1])
        blob = json.dumps([self.priors.to_dict(), self.use_covariate, self.detection, repr(shape)], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()


def spec_from_fit(fit) -> ModelSpec:
    """Rebuild the fitted design from the data the fit file carries (constant_data, observed_data)."""
    tree = fit.idata
    cd = tree["constant_data"].to_dataset()
    od = tree["observed_data"].to_dataset()
    design = Design(
        states=tuple(str(s) for s in tree.posterior.to_dataset()["state"].values),
        state_idx=cd["state_idx"].values.astype(np.int64),
        high_profile=cd["high_profile"].values.astype(float),
        x=cd["x"].values.astype(float),
        assurance=cd["promised"].values.astype(float),
        verification=cd["verification_idx"].values.astype(np.int64),
        n=cd["n_transfers"].values.astype(np.int64),
        breaches=od["breaches"].values.astype(np.int64),
    )
    return ModelSpec(design, Priors.from_dict(fit.meta["spec"]["priors"]), fit.uses_covariate, fit.uses_detection)


def design_for(spec: ModelSpec, table, covariate, *, detection: bool) -> Design | None:
    """Design of another case table (or another likelihood), indexed into the fitted model's states.

    Returns None when the table has a state the fitted model does not know (it cannot reuse the model).
    """
    from .. import contract
    from ..design import build_design

    _, rows = contract.parse(table, "fit", require_year=spec.use_covariate)
    x = covariate.standardized(rows.state, rows.year)[0] if spec.use_covariate else None
    d = build_design(rows, x, detection=detection)
    lookup = {s: i for i, s in enumerate(spec.design.states)}
    if not set(d.states) <= set(lookup):
        return None
    return replace(d, states=spec.design.states, state_idx=np.array([lookup[d.states[i]] for i in d.state_idx]))


def patterns_of(design: Design) -> scoring.Patterns:
    n = design.n_patterns
    return scoring.Patterns(state_idx=design.state_idx, high_profile=design.high_profile, x=design.x,
                            assurance=design.assurance, verification=design.verification,
                            covariate_found=np.ones(n, bool), row_pattern=np.arange(n))


def prob_honoured(draws: PosteriorDraws, design: Design) -> np.ndarray:
    """(draws x patterns) P(honoured)."""
    return scoring.probability_draws(draws, patterns_of(design))


def prob_observed_breach(draws: PosteriorDraws, design: Design) -> np.ndarray:
    """(draws x patterns) probability that a transfer shows a (reported) breach in the record."""
    q = 1.0 - prob_honoured(draws, design)
    if draws.detection is not None:
        q = q * draws.detection[:, design.verification, design.high_profile.astype(np.int64)]
    return q


def prior_draws(spec: ModelSpec, n: int, rng: np.random.Generator) -> PosteriorDraws:
    """``n`` parameter sets drawn from the priors (NumPy; state beliefs are not supported here)."""
    p, k = spec.priors, len(spec.design.states)
    if p.state_beliefs:
        raise ValueError("prior simulation does not support state_beliefs (they are not a generative prior)")
    sigma_s = np.abs(rng.normal(0, p.sigma_state, n))
    sigma_h = np.abs(rng.normal(0, p.sigma_state_high_profile, n))
    arrays = {
        "intercept": rng.normal(p.intercept_mu, p.intercept_sigma, n),
        "sigma_state": sigma_s,
        "beta_high_profile": rng.normal(p.high_profile_mu, p.high_profile_sigma, n),
        "sigma_state_high_profile": sigma_h,
        "state_effect": sigma_s[:, None] * rng.standard_normal((n, k)),
        "state_high_profile_effect": sigma_h[:, None] * rng.standard_normal((n, k)),
        ASSURANCE_PARAM: rng.normal(0, p.assurance_sigma, (n, spec.design.assurance.shape[1])),
    }
    if spec.use_covariate:
        arrays["beta_pts"] = rng.normal(p.pts_mu, p.pts_sigma, n)
    if spec.detection:
        ab = np.array([[p.detection[f"{lv}/{ct}"] for ct in CASE_TYPES] for lv in VERIFICATION_LEVELS])
        arrays[DETECTION_PARAM] = rng.beta(ab[..., 0], ab[..., 1], (n, 4, 2))
    return PosteriorDraws.from_arrays(arrays, spec.design.states, unseen_seed=0)


def simulate_breaches(draws: PosteriorDraws, design: Design, rng: np.random.Generator) -> np.ndarray:
    """One simulated record per parameter set: (reported) breaches per pattern, shape (sets x patterns)."""
    q = prob_observed_breach(draws, design)
    return rng.binomial(np.broadcast_to(design.n, q.shape), q)


def subset(draws: PosteriorDraws, i: int | np.ndarray) -> PosteriorDraws:
    """Parameter set(s) ``i`` of a batch, as a PosteriorDraws."""
    i = np.atleast_1d(i)
    return replace(draws, intercept=draws.intercept[i], sigma_state=draws.sigma_state[i],
                   beta_high_profile=draws.beta_high_profile[i],
                   sigma_state_high_profile=draws.sigma_state_high_profile[i], beta_pts=draws.beta_pts[i],
                   state_effect=draws.state_effect[i], state_high_profile_effect=draws.state_high_profile_effect[i],
                   assurance_effect=draws.assurance_effect[i],
                   detection=None if draws.detection is None else draws.detection[i])


# --- refitting ------------------------------------------------------------------------------------
_COMPILED: dict[str, object] = {}  # per-process cache: model key -> compiled nutpie model


def _compiled(spec: ModelSpec):
    key = spec.key()
    if key not in _COMPILED:
        from ..fitting import _import_pymc
        from ..model import build_model

        _import_pymc()
        import nutpie

        model = build_model(spec.design, spec.priors, use_covariate=spec.use_covariate, detection=spec.detection)
        _COMPILED[key] = nutpie.compile_pymc_model(model, backend="numba")
    return _COMPILED[key]


def _data_of(design: Design, breaches: np.ndarray) -> dict:
    return {"state_idx": design.state_idx, "high_profile": design.high_profile, "x": design.x,
            "promised": design.assurance, "verification_idx": design.verification,
            "n_transfers": design.n, "n_breaches": np.asarray(breaches, dtype=np.int64)}


def refit_chunk(spec: ModelSpec, jobs: list[tuple[Design | None, np.ndarray, int]], settings: RefitSettings) -> list[dict]:
    """Refit the compiled model on each (design or None for the spec's, breaches, seed); runs in workers."""
    import nutpie

    compiled = _compiled(spec)
    out = []
    for design, breaches, seed in jobs:
        data = _data_of(design if design is not None else spec.design, breaches)
        known = {v.name for v in compiled.shared_var_keys}  # a face-value model has no verification data
        tree = nutpie.sample(compiled.with_data(**{k: v for k, v in data.items() if k in known}), draws=settings.draws, tune=settings.tune,
                             chains=settings.chains, cores=min(settings.chains, 2), seed=int(seed),
                             progress_bar=False, save_warmup=False)
        post = tree.posterior.to_dataset()
        res = {n: post[n].values[:, ::settings.thin].reshape(-1, *post[n].shape[2:]) for n in KEPT if n in post}
        res["divergences"] = int(tree.sample_stats.to_dataset()["diverging"].sum())
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
    return PosteriorDraws.from_arrays({k: v for k, v in result.items() if k != "divergences"}, states, unseen_seed=0)
