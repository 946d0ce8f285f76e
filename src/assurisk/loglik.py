"""Pointwise log-likelihood of each case under posterior draws, with the scorer's NumPy algebra.

One value per fitted case (input row), summed over the observations it contributes (one per promised
item when the row is coded item by item). Used for the fit's ``log_likelihood`` group (so
``az.loo(fit.idata)`` leaves out whole cases) and by ``assurisk check``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from .design import observations
from .draws import PosteriorDraws, cells_for, design_noise, outcome_probabilities

TINY = 1e-300


@dataclass(frozen=True)
class RowCovariates:
    """Per input row: centred covariate mean and measurement sd, and time in decades (all optional)."""

    x: np.ndarray | None = None
    x_sd: np.ndarray | None = None
    t: np.ndarray | None = None
    latent_keys: tuple = ()  # the fitted model's covariate values measured with error


def record_log_likelihood(draws: PosteriorDraws, obs, detection: bool) -> np.ndarray:
    """(S, records) log-likelihood of observation records (columns of ``design.observations``).

    The state index must already be into ``draws.states`` (column ``state_idx``), and the latent
    covariate index into ``draws.covariate_error`` (column ``latent``).
    """
    noise = design_noise(draws, obs["x_sd"].to_numpy(), obs["latent"].to_numpy())
    c = cells_for(draws, obs["state_idx"].to_numpy(), obs["hp"].to_numpy(), obs["x"].to_numpy(),
                  ((obs["mask"].to_numpy()[:, None] >> np.arange(draws.assurance_effect.shape[1])) & 1).astype(float),
                  obs["mon"].to_numpy(), t=obs["t"].to_numpy(), x_noise=noise)
    pr = outcome_probabilities(draws, c)
    h, b, u = (obs[k].to_numpy(dtype=float)[None, :] for k in ("h", "b", "u"))
    p_h = np.clip(pr["verified_kept"], TINY, 1.0)
    p_b = np.clip(pr["breach_reported"], TINY, 1.0)
    if detection:
        p_u = np.clip(1.0 - pr["verified_kept"] - pr["breach_reported"], TINY, 1.0)
        n = h + b + u
        coef = gammaln(n + 1) - gammaln(h + 1) - gammaln(b + 1) - gammaln(u + 1)
        return coef + h * np.log(p_h) + b * np.log(p_b) + u * np.log(p_u)
    n = h + b
    coef = gammaln(n + 1) - gammaln(h + 1) - gammaln(b + 1)
    return coef + h * np.log(np.clip(1.0 - pr["breach_reported"], TINY, 1.0)) + b * np.log(p_b)


def case_log_likelihood(rows, draws: PosteriorDraws, cov: RowCovariates, x_center: float, detection: bool):
    """(S, fitted cases) log-likelihood and the boolean mask of the input rows that are fitted."""
    obs = observations(rows, cov.x, detection=detection, x_sd=cov.x_sd, t=cov.t)
    obs["x"] = obs["x"] - x_center
    lookup = {s: i for i, s in enumerate(draws.states)}
    obs["state_idx"] = obs["state"].map(lookup).astype(np.int64)
    latent = {k: i for i, k in enumerate(cov.latent_keys)}
    obs["latent"] = [latent.get(f"{s}:{y}", -1) if sd > 0 else -1
                     for s, y, sd in zip(obs["state"], obs["year"], obs["x_sd"])]
    ll = record_log_likelihood(draws, obs, detection)
    used_rows = np.unique(obs["row"].to_numpy())
    pos = np.searchsorted(used_rows, obs["row"].to_numpy())
    out = np.zeros((ll.shape[0], len(used_rows)))
    np.add.at(out.T, pos, ll.T)
    used = np.zeros(len(rows.state_code), dtype=bool)
    used[used_rows] = True
    return out, used
