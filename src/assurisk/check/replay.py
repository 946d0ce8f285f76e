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
from ..model import (ASSURANCE_PARAM, DETECTION_PARAM, DETERRENCE_PARAM, SCALAR_PARAMS, STATE_PARAMS,
                     VERIFICATION_PARAM)
from ..priors import Priors

KEPT = SCALAR_PARAMS + STATE_PARAMS + (ASSURANCE_PARAM, DETERRENCE_PARAM, DETECTION_PARAM, VERIFICATION_PARAM)


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

    def key(self) -> str:
        shape = (self.design.states, self.design.assurance.shape[1])
        blob = json.dumps([self.priors.to_dict(), self.use_covariate, self.detection, self.deterrence,
                           self.state_x, repr(shape)], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def build(self):
        from ..model import build_model

        sx = None if self.state_x is None else np.asarray(self.state_x, dtype=float)
        return build_model(self.design, self.priors, use_covariate=self.use_covariate, detection=self.detection,
                           deterrence=self.deterrence, state_x=sx)


def spec_from_fit(fit) -> ModelSpec:
    """Rebuild the fitted design from the data the fit file carries (constant_data)."""
    tree = fit.idata
    cd = tree["constant_data"].to_dataset()
    if "counts" in cd:
        counts = cd["counts"].values.astype(np.int64)
    else:  # face value: known outcomes only
        b = cd["n_breaches"].values.astype(np.int64)
        counts = np.stack([cd["n_known"].values.astype(np.int64) - b, b, np.zeros_like(b)], axis=1)
    design = Design(
        states=tuple(str(s) for s in tree.posterior.to_dataset()["state"].values),
        state_idx=cd["state_idx"].values.astype(np.int64),
        high_profile=cd["high_profile"].values.astype(float),
        x=cd["x"].values.astype(float),
        assurance=cd["promised"].values.astype(float),
        monitoring=cd["monitoring_idx"].values.astype(np.int64),
        counts=counts,
    )
    spec = fit.meta["spec"]
    state_x = None
    priors = Priors.from_dict(spec["priors"])
    if priors.state_beliefs and fit.uses_covariate:
        from ..covariates import bundled_pts

        x = bundled_pts().standardized(np.array(design.states), np.full(len(design.states), np.nan))[0]
        state_x = tuple(float(v) for v in x - float(spec.get("x_center", 0.0)))
    return ModelSpec(design, priors, fit.uses_covariate, fit.uses_detection, bool(spec.get("deterrence", False)), state_x)


def design_for(spec: ModelSpec, table, covariate, *, detection: bool, x_center: float = 0.0) -> Design | None:
    """Design of another case table (or another likelihood), indexed into the fitted model's states.

    Returns None when the table has a state the fitted model does not know (it cannot reuse the model).
    """
    from .. import contract
    from ..design import build_design

    _, rows = contract.parse(table, "fit", require_year=spec.use_covariate)
    x = covariate.standardized(rows.state, rows.year)[0] if spec.use_covariate else None
    d = build_design(rows, x, detection=detection, x_center=x_center)
    lookup = {s: i for i, s in enumerate(spec.design.states)}
    if not set(d.states) <= set(lookup):
        return None
    return replace(d, states=spec.design.states, state_idx=np.array([lookup[d.states[i]] for i in d.state_idx]))


def patterns_of(design: Design) -> scoring.Patterns:
    n = design.n_patterns
    return scoring.Patterns(state_idx=design.state_idx, high_profile=design.high_profile, x=design.x,
                            assurance=design.assurance, monitoring=design.monitoring,
                            covariate_found=np.ones(n, bool), row_pattern=np.arange(n))


def outcome_probs(draws: PosteriorDraws, design: Design) -> dict[str, np.ndarray]:
    """(draws x patterns) kept, verified_kept and breach_reported probabilities."""
    pat = patterns_of(design)
    return outcome_probabilities(draws, pat.cells(draws))


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
        arrays["beta_pts"] = rng.normal(p.pts_mu, p.pts_sigma, n)
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


def _data_of(design: Design, counts: np.ndarray) -> dict:
    counts = np.asarray(counts, dtype=np.int64)
    return {"state_idx": design.state_idx, "high_profile": design.high_profile, "x": design.x,
            "promised": design.assurance, "monitoring_idx": design.monitoring, "counts": counts,
            "n_known": counts[:, 0] + counts[:, 1], "n_breaches": counts[:, 1]}


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
        data = _data_of(design if design is not None else spec.design, counts)
        known = {v.name for v in compiled.shared_var_keys}
        tree = nutpie.sample(compiled.with_data(**{k: v for k, v in data.items() if k in known}), draws=settings.draws,
                             tune=settings.tune, chains=settings.chains, cores=min(settings.chains, 2), seed=int(seed),
                             progress_bar=False, save_warmup=False)
        post = tree.posterior.to_dataset()
        res = {n: post[n].values[:, ::settings.thin].reshape(-1, *post[n].shape[2:]) for n in KEPT if n in post}
        diag = compute_diagnostics(tree)
        res["divergences"] = int(diag["divergences"])
        res["converged"] = not convergence_problems(diag, ess_min=min(400, settings.chains * settings.draws // 4))
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


# --- one compile for many priors -----------------------------------------------------------------
# A model whose prior settings are shared variables (data) rather than constants: nutpie compiles it
# once and every prior alternative is run with ``with_data``, like a new data set. The numbers are the
# same as a model built with those priors as constants (tests/test_report.py compares the two log
# densities); only the compile is shared.
PRIOR_PREFIX = "prior__"


class _PriorData:
    """Stands in for :class:`Priors` inside ``build_model``: every number is a named shared variable."""

    def __init__(self, priors: Priors):
        import pytensor

        from dataclasses import fields

        self.shared = {}
        for f in fields(priors):
            v = getattr(priors, f.name)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                sv = pytensor.shared(np.float64(v), name=PRIOR_PREFIX + f.name)
                self.shared[sv.name] = sv
                setattr(self, f.name, sv)
            else:
                setattr(self, f.name, v)
        self._tables = {}
        for name in ("detection", "verification"):
            sv = pytensor.shared(priors.beta_table(name), name=PRIOR_PREFIX + name)
            self.shared[sv.name] = sv
            self._tables[name] = sv

    def beta_table(self, name: str):
        return self._tables[name]


def prior_values(priors: Priors) -> dict[str, np.ndarray]:
    """The data a prior-as-data model needs for ``priors``."""
    from dataclasses import fields

    out = {PRIOR_PREFIX + f.name: np.float64(getattr(priors, f.name)) for f in fields(priors)
           if isinstance(getattr(priors, f.name), (int, float)) and not isinstance(getattr(priors, f.name), bool)}
    for name in ("detection", "verification"):
        out[PRIOR_PREFIX + name] = priors.beta_table(name)
    return out


def prior_structure_key(spec: ModelSpec) -> str:
    """What must match for two specs to share a prior-as-data compile: everything but the prior numbers."""
    shape = (spec.design.states, spec.design.assurance.shape[1])
    blob = json.dumps(["prior-data", sorted(spec.priors.state_beliefs.items()), spec.use_covariate, spec.detection,
                       spec.deterrence, spec.state_x, repr(shape)], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def build_prior_data_model(spec: ModelSpec):
    from ..model import build_model

    sx = None if spec.state_x is None else np.asarray(spec.state_x, dtype=float)
    return build_model(spec.design, _PriorData(spec.priors), use_covariate=spec.use_covariate,
                       detection=spec.detection, deterrence=spec.deterrence, state_x=sx)


def _compiled_prior_data(spec: ModelSpec):
    key = prior_structure_key(spec)
    if key not in _COMPILED:
        from ..fitting import _import_pymc

        _import_pymc()
        import nutpie

        _COMPILED[key] = nutpie.compile_pymc_model(build_prior_data_model(spec), backend="numba")
    return _COMPILED[key]


def refit_alternatives(spec: ModelSpec, jobs: list[tuple[Design | None, np.ndarray, Priors | None, int]],
                       settings: RefitSettings, log=None) -> list[dict]:
    """Refit one compiled model on each (design or None, counts, priors or None, seed): data and prior
    alternatives alike, compiled once. Results are as :func:`refit_chunk`'s, with the diagnostics."""
    import time

    import nutpie

    from ..fitting import compute_diagnostics, convergence_problems

    compiled = _compiled_prior_data(spec)
    known = {v.name for v in compiled.shared_var_keys}
    out = []
    for design, counts, priors, seed in jobs:
        t = time.perf_counter()
        data = _data_of(design if design is not None else spec.design, counts)
        data.update(prior_values(priors or spec.priors))
        tree = nutpie.sample(compiled.with_data(**{k: v for k, v in data.items() if k in known}), draws=settings.draws,
                             tune=settings.tune, chains=settings.chains, cores=min(settings.chains, 2), seed=int(seed),
                             progress_bar=False, save_warmup=False)
        post = tree.posterior.to_dataset()
        res = {n: post[n].values[:, ::settings.thin].reshape(-1, *post[n].shape[2:]) for n in KEPT if n in post}
        diag = compute_diagnostics(tree)
        problems = convergence_problems(diag, ess_min=min(400, settings.chains * settings.draws // 4))
        res.update(divergences=int(diag["divergences"]), converged=not problems, problems=list(problems),
                   r_hat_max=diag["r_hat_max"], ess_bulk_min=diag["ess_bulk_min"], ess_tail_min=diag["ess_tail_min"],
                   seconds=time.perf_counter() - t)
        out.append(res)
    return out
