"""``fit``: validate the table, build the design, sample with PyMC, check convergence, return a Fit.

This is the only module that imports PyMC (inside functions), so importing assurisk stays light.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import sys
import warnings
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

from . import contract
from ._version import __version__
from .design import build_design
from .draws import PosteriorDraws
from .errors import ConvergenceWarning, InputError
from .fit import Fit, _fmt
from .model import (ASSURANCE_PARAM, DETECTION_PARAM, DETERRENCE_PARAM, LATENT_COVARIATE, LATENT_PARAMS, SCALAR_PARAMS,
                    STATE_PARAMS, VERIFICATION_PARAM, build_model)
from .priors import Priors
from .storage import (MAX_CHAINS, MAX_DRAWS, MAX_TUNE, check_fit_options, check_fit_size, model_id,
                      sha256_file)

PRIOR_DRAWS = 2000  # prior draws kept in every fit: the prior's P(honoured) to +-0.01 (MC error)
KEPT_PARAMS = SCALAR_PARAMS + STATE_PARAMS + (ASSURANCE_PARAM, DETERRENCE_PARAM, DETECTION_PARAM, VERIFICATION_PARAM,
                              LATENT_COVARIATE)
R_HAT_MAX = 1.01
ESS_MIN = 400
COVARIATES = ("pts", "fariss", None)


def _import_pymc():
    """Import PyMC with Numba fast-math off, so a seed gives the same draws on a cold or warm cache."""
    if "pytensor" not in sys.modules:
        flags = os.environ.get("PYTENSOR_FLAGS", "")
        if "numba__fastmath" not in flags:
            os.environ["PYTENSOR_FLAGS"] = ",".join(f for f in (flags, "numba__fastmath=False") if f)
    import pymc as pm

    logging.getLogger("pymc").setLevel(logging.ERROR)
    return pm


def _nutpie_available() -> bool:
    try:
        metadata.version("nutpie")
        return True
    except metadata.PackageNotFoundError:
        return False


def table_sha256(cases, df) -> tuple[str, str]:
    """SHA-256 of the case table: of the file's bytes when a path was given, else of a canonical CSV."""
    if isinstance(cases, (str, os.PathLike)):  # of the bytes parsed, not of a second read of the path
        digest = df.attrs.get(contract.SHA256_ATTR) or sha256_file(cases)
        return digest, f"file:{Path(cases).name}"
    canon = df.to_csv(index=False, lineterminator="\n").encode()
    return hashlib.sha256(canon).hexdigest(), f"{type(cases).__name__}"


def compute_diagnostics(idata) -> dict:
    import arviz_stats as azs

    post = idata.posterior.to_dataset()
    names = [n for n in KEPT_PARAMS + LATENT_PARAMS if n in post and n != ASSURANCE_PARAM and n != DETERRENCE_PARAM]
    post = post[names]

    def extreme(ds, fn):
        vals = np.concatenate([np.ravel(ds[v].values) for v in ds.data_vars])
        vals = vals[np.isfinite(vals)]
        return float(fn(vals)) if vals.size else None  # e.g. R-hat with a single chain

    diverging = idata.sample_stats.to_dataset()["diverging"].values
    return {
        "r_hat_max": extreme(azs.rhat(post), np.max),
        "ess_bulk_min": extreme(azs.ess(post, method="bulk"), np.min),
        "ess_tail_min": extreme(azs.ess(post, method="tail"), np.min),
        "divergences": int(np.sum(diverging)),
        "thresholds": {"r_hat_max": R_HAT_MAX, "ess_min": ESS_MIN, "divergences": 0},
    }


def convergence_problems(diag: dict, ess_min: int = ESS_MIN) -> list[str]:
    out = []
    if diag["r_hat_max"] is None:
        out.append("R-hat cannot be computed (it needs at least 2 chains)")
    elif not diag["r_hat_max"] <= R_HAT_MAX:
        out.append(f"max R-hat {diag['r_hat_max']:.3f} > {R_HAT_MAX}")
    for key, label in (("ess_bulk_min", "bulk"), ("ess_tail_min", "tail")):
        if diag[key] is None or not diag[key] >= ess_min:
            out.append(f"min {label} ESS {_fmt(diag[key], '.0f')} < {ess_min}")
    if diag["divergences"]:
        out.append(f"{diag['divergences']} divergent transitions")
    return out


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for pkg in ("numpy", "scipy", "pandas", "pymc", "pytensor", "numba", "llvmlite", "arviz", "arviz-base",
                "arviz-stats", "xarray", "nutpie", "h5netcdf", "h5py"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    out["assurisk"] = __version__
    return out


def row_covariates(rows, covariates: str | None, time_effect: bool, *, x_center: float = 0.0,
                   time_center: float = 0.0, default_year: float | None = None):
    """Per-row covariate mean (uncentred), measurement sd and found flag, and time in decades."""
    from .covariates import bundled_covariate

    n = len(rows.state_code)
    x, x_sd, found = None, None, np.ones(n, dtype=bool)
    if covariates:
        lk = bundled_covariate(covariates).lookup(rows.state, rows.year)
        x, x_sd, found = lk.mean, lk.sd, lk.found
    t = None
    if time_effect:
        year = np.where(np.isnan(rows.year), np.nan if default_year is None else default_year, rows.year)
        t = (year - time_center) / 10.0
    return x, x_sd, found, t


def fit(cases, *, covariates: str | None = "pts", time_effect: bool = False, detection: bool = True,
        deterrence: bool = False, priors: Priors | None = None, draws: int = 1000, tune: int = 1500,
        chains: int = 4, seed: int | None = None, target_accept: float = 0.95, sampler: str | None = None,
        progressbar: bool = False) -> Fit:
    """Fit the model of assurance compliance to a case table.

    ``detection=True`` (default) is the monitoring-aware model with three outcomes per transfer:
    verified as kept, breach reported, or nothing known. A breach enters the record, and a kept
    promise is shown to be kept, only with probabilities that depend on how verifiable each promised
    item was (monitoring, or a public court record) and on the case type, so "no breach reported" is
    not read as "honoured". ``detection=False`` is the face-value model, which drops transfers with
    no known outcome. ``deterrence=True`` lets monitoring change compliance itself (by default the
    model assumes it does not: monitoring changes only what is seen).
    ``covariates`` is ``"pts"`` (the standardised Political Terror Scale of the receiving state in the
    year of transfer), ``"fariss"`` (Fariss's latent human-rights scores, with their published
    uncertainty carried as measurement error) or ``None`` (states as exchangeable groups); states
    with no score carry the world distribution, not a point value. ``time_effect=True`` adds a
    linear trend per decade. ``seed=None`` draws a seed and records it, so every fit can be re-run
    exactly. ``sampler`` is ``"nutpie"`` (default when installed) or ``"pymc"``. Warns
    :class:`ConvergenceWarning` when diagnostics fail.
    """
    if covariates not in COVARIATES:
        raise InputError(f"covariates must be 'pts', 'fariss' or None, got {covariates!r}")
    priors = priors if priors is not None else Priors()
    if not isinstance(priors, Priors):
        raise InputError(f"priors must be an assurisk.Priors object, got {type(priors).__name__}")
    for name, v, lo, hi in (("draws", draws, 1, MAX_DRAWS), ("tune", tune, 0, MAX_TUNE), ("chains", chains, 1, MAX_CHAINS)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or not lo <= v <= hi:
            raise InputError(f"{name} must be a whole number from {lo} to {hi}, got {v!r}")
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**31))
    elif not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise InputError(f"seed must be a whole number in [0, 2**32), got {seed!r}")
    sampler = sampler or ("nutpie" if _nutpie_available() else "pymc")
    if not isinstance(sampler, str) or sampler not in ("nutpie", "pymc"):
        raise InputError(f"sampler must be 'nutpie' or 'pymc', got {sampler!r}")
    for name, v in (("detection", detection), ("deterrence", deterrence), ("time_effect", time_effect),
                    ("progressbar", progressbar)):
        if not isinstance(v, bool):
            raise InputError(f"{name} must be True or False, got {v!r}")
    if deterrence and not detection:
        raise InputError("deterrence=True needs the monitoring-aware model (detection=True)")
    if not isinstance(target_accept, (int, float, np.floating)) or isinstance(target_accept, bool) or not 0 < target_accept < 1:
        raise InputError(f"target_accept must be a number strictly between 0 and 1, got {target_accept!r}")
    # The same schema and caps the reader applies to a fit file: a fit that can be made can be loaded.
    check_fit_options({"name": sampler, "draws": int(draws), "tune": int(tune), "chains": int(chains),
                       "seed": int(seed), "target_accept": float(target_accept)}, priors.to_dict())

    df, rows = contract.parse(cases, "fit", require_year=bool(covariates) or time_effect)
    used = (rows.n_transfers if detection else rows.n_face_honored + rows.n_breaches) > 0
    likelihood = ("(verified kept, breach reported, unknown) ~ Multinomial(transfers; prod p*w, 1 - prod(1 - (1-p)*d), "
                  "rest); items of a promise independent given state and case type" if detection else
                  "breaches ~ Binomial(transfers with a known outcome, 1 - prod p); unknown outcomes excluded")
    spec: dict = {"covariates": covariates, "time_effect": time_effect, "detection": detection,
                  "deterrence": deterrence, "structure": "item_product_v2",
                  "unseen_policy": "population_predictive_per_state", "priors": priors.to_dict(),
                  "likelihood": likelihood,
                  "defaults": {"assurance_types": contract.DEFAULT_ASSURANCE, "monitoring": contract.DEFAULT_MONITORING}}
    weights = rows.n_transfers[used] if detection else (rows.n_face_honored + rows.n_breaches)[used]
    time_center = default_year = 0.0
    if time_effect:
        time_center = round(float(np.average(rows.year[used], weights=weights)), 3) if used.any() else 2000.0
        default_year = float(np.nanmax(rows.year[used])) if used.any() else 2000.0
        spec.update(time_center=time_center, default_year=default_year)
    x, x_sd, found, t = row_covariates(rows, covariates, time_effect, time_center=time_center, default_year=default_year)
    x_center = 0.0
    if covariates:
        from .covariates import bundled_covariate

        table = bundled_covariate(covariates)
        missing = sorted({str(s) for s in rows.state[used & ~found]})
        if missing:
            warnings.warn(f"no {covariates.upper()} score for {', '.join(missing)}: their covariate is drawn from the "
                          "world distribution (scores for them carry covariate_imputed=True)", stacklevel=2)
        x_center = round(float(np.average(x[used], weights=weights)), 6) if used.any() else 0.0
        spec.update(x_center=x_center, covariate_center=table.center, covariate_scale=table.scale,
                    covariate_source=COVARIATE_SOURCES[covariates])
    try:
        design = build_design(rows, x, detection=detection, x_center=x_center, x_sd=x_sd, t=t)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    check_fit_size(int(draws) * int(chains), len(design.states), design.n_patterns,
                   int(((rows.n_transfers if detection else rows.n_face_honored + rows.n_breaches) > 0).sum()))
    unknown_beliefs = sorted(set(priors.state_beliefs) - set(design.states))
    if unknown_beliefs:
        raise InputError(f"Priors.state_beliefs names {unknown_beliefs}, which have no fitted transfers in this table")
    state_x = beliefs_covariate(design.states, covariates, x_center) if priors.state_beliefs else None

    pm = _import_pymc()
    model = build_model(design, priors, use_covariate=bool(covariates), detection=detection,
                        deterrence=deterrence, time_effect=time_effect, state_x=state_x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        idata = pm.sample(draws=draws, tune=tune, chains=chains, cores=min(chains, os.cpu_count() or 1),
                          random_seed=int(seed), nuts_sampler=sampler, target_accept=target_accept,
                          progressbar=progressbar, model=model)
        prior_tree = pm.sample_prior_predictive(draws=PRIOR_DRAWS, model=model, random_seed=int(seed) + 1)
        if priors.state_beliefs:  # forward sampling ignores the beliefs' Potential terms: sample the prior by MCMC
            prior_tree = _prior_by_mcmc(pm, design, priors, bool(covariates), detection, deterrence, time_effect,
                                        state_x, sampler, int(seed) + 1, prior_tree)
        ppc = pm.sample_posterior_predictive(idata, model=model, random_seed=int(seed) + 2, progressbar=False)
    for name in ("prior", "prior_predictive"):
        idata[name] = prior_tree[name]
    idata["posterior_predictive"] = ppc["posterior_predictive"]
    diag = compute_diagnostics(idata)
    problems = convergence_problems(diag)
    if problems:
        warnings.warn("the sampler did not converge: " + "; ".join(problems) +
                      ". Scores from this fit carry converged=False.", ConvergenceWarning, stacklevel=2)

    import pytensor

    digest, source = table_sha256(cases, df)
    meta = {
        "assurisk_version": __version__,
        "model": "monitoring_aware" if detection else "face_value",
        "model_id": model_id(spec),
        "spec": spec,
        "sampler": {"name": sampler, "draws": int(draws), "tune": int(tune), "chains": int(chains), "seed": int(seed),
                    "target_accept": float(target_accept), "numba_fastmath": bool(pytensor.config.numba__fastmath)},
        "data": _data_summary(df, rows, design, detection, digest, source),
        "diagnostics": diag,
        "converged": not problems,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
    }
    draws_post = draws_of_group(idata.posterior.to_dataset(), design.states, seed)
    draws_prior = draws_of_group(idata.prior.to_dataset(), design.states, seed)
    from .loglik import RowCovariates

    cov = RowCovariates(x, x_sd, t, design.latent_keys)
    add_log_likelihood(idata, df, rows, draws_post, cov, x_center, detection, chains)
    return Fit(draws_post, meta, idata=idata, prior=draws_prior)


def _prior_by_mcmc(pm, design, priors, use_covariate, detection, deterrence, time_effect, state_x, sampler, seed,
                   forward):
    """Prior draws of a model with expert state beliefs: the same model with no outcomes observed
    (every count zero), sampled by NUTS, so the beliefs shape the prior as they shape the posterior."""
    from dataclasses import replace as _replace

    empty = _replace(design, counts=np.zeros_like(design.counts))
    model = build_model(empty, priors, use_covariate=use_covariate, detection=detection, deterrence=deterrence,
                        time_effect=time_effect, state_x=state_x)
    tree = pm.sample(draws=PRIOR_DRAWS // 4, tune=500, chains=4, cores=min(4, os.cpu_count() or 1), random_seed=seed,
                     nuts_sampler=sampler, target_accept=0.95, progressbar=False, model=model)
    post = tree.posterior.to_dataset()
    import xarray as xr

    stacked = post.stack(sample=("chain", "draw")).drop_vars(["chain", "draw", "sample"])
    prior = stacked.rename({"sample": "draw"}).expand_dims(chain=[0]).transpose("chain", "draw", ...)
    out = xr.DataTree()
    out["prior"] = xr.DataTree(prior)
    out["prior_predictive"] = forward["prior_predictive"]
    return out


COVARIATE_SOURCES = {"pts": "Political Terror Scale 2024 release (Gibney et al.)",
                     "fariss": "Fariss latent human rights protection scores v4.02 (sign flipped: higher is worse)"}


def beliefs_covariate(states, covariates: str | None, x_center: float) -> np.ndarray | None:
    """Each state's latest centred covariate: where an expert's state belief is anchored."""
    if not covariates:
        return None
    from .covariates import bundled_covariate

    lk = bundled_covariate(covariates).lookup(np.array(states), np.full(len(states), np.nan))
    return lk.mean - x_center


def draws_of_group(ds, states, seed) -> PosteriorDraws:
    """PosteriorDraws from an xarray Dataset (posterior or prior group)."""
    return PosteriorDraws.from_arrays({n: ds[n].values for n in KEPT_PARAMS if n in ds}, states, seed)


def case_labels(df) -> list[str]:
    """Coordinates for per-case arrays: ``case_id`` when the table has unique ones, else ``row N``."""
    if "case_id" in df.columns:
        ids = df["case_id"].astype(str).str.strip()
        if ids.is_unique and (ids != "").all():
            return ids.tolist()
    return [f"row {i + 1}" for i in range(len(df))]


def add_log_likelihood(idata, df, rows, draws: PosteriorDraws, cov, x_center, detection: bool, chains: int) -> None:
    """Pointwise log-likelihood per fitted case (summed over its items), labelled by case, in place.

    Computed with the scorer's NumPy algebra, so ``az.loo(fit.idata)`` leaves out whole cases.
    """
    import xarray as xr

    from .loglik import case_log_likelihood

    ll, used = case_log_likelihood(rows, draws, cov, x_center, detection)
    labels = np.asarray(case_labels(df), dtype=object)[used]
    ll = ll.reshape(chains, -1, ll.shape[-1])
    idata["log_likelihood"] = xr.DataTree(xr.Dataset({"outcomes": (("chain", "draw", "case"), ll)},
                                                     coords={"case": labels.astype(str)}))


def _data_summary(df, rows, design, detection: bool, digest: str, source: str) -> dict:
    """What the fit was made from, with counts by case type, verification and outcome (for reports)."""
    n_used = rows.n_transfers if detection else rows.n_face_honored + rows.n_breaches
    used = n_used > 0
    hp = rows.high_profile
    return {"sha256": digest, "source": source, "n_rows": len(df), "n_fitted_rows": int(used.sum()),
            "n_observations": int(design.n.sum()), "n_observed_breaches": int(design.breaches.sum()),
            "n_transfers": int(n_used.sum()),
            "n_breaches": int(rows.n_breaches[used].sum()), "n_honored_verified": int(rows.n_honored[used].sum()),
            "n_unknown": int(rows.n_unknown.sum()), "n_item_coded_rows": int((rows.has_items & used).sum()),
            "n_ordinary_transfers": int(rows.n_transfers[used & ~hp].sum()),
            "n_ordinary_known": int((rows.n_honored + rows.n_breaches)[used & ~hp].sum()),
            "state_transfers": {s: int(n_used[rows.state == s].sum()) for s in design.states},
            "state_type_transfers": {s: [int(n_used[(rows.state == s) & ~hp].sum()),
                                         int(n_used[(rows.state == s) & hp].sum())] for s in design.states},
            "item_type_known": item_type_known(rows, detection),
            "item_state_known": {st: item_type_known(rows, detection, state=st) for st in design.states}}


def item_type_known(rows, detection: bool, state: str | None = None) -> dict[str, list[int]]:
    """Per promised item group: [ordinary, high-profile] transfers in the record with a known outcome
    (verified kept or breach reported) whose promise included that item: the direct evidence a cell
    of that case type and item can draw on (``n_direct`` in scores; with ``state``, that state's own
    transfers only: ``n_direct_state``)."""
    from .design import observations

    obs = observations(rows, detection=detection)
    if state is not None:
        obs = obs[obs["state"] == state]
    known = (obs["h"] + obs["b"]).to_numpy()
    mask = obs["mask"].to_numpy()
    hp = obs["hp"].to_numpy().astype(bool)
    out = {}
    for k, g in enumerate(contract.ASSURANCE_GROUPS):
        has = (mask >> k) & 1 == 1
        out[g] = [int(known[has & ~hp].sum()), int(known[has & hp].sum())]
    return out

