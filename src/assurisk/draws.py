"""Posterior (or prior) draws as plain NumPy arrays, and the model's probabilities computed from them.

Everything the scorer, the checks and the log-likelihood need, with array algebra over
(draws x patterns x items); nothing heavier than NumPy is imported.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, fields, replace

import numpy as np

from .contract import ASSURANCE_GROUPS, MONITORING_LEVELS
from .design import item_levels
from .model import (ASSURANCE_PARAM, DETECTION_PARAM, DETERRENCE_PARAM, LATENT_COVARIATE, SCALAR_PARAMS,
                    STATE_PARAMS, TREATMENT_ITEM, VERIFICATION_PARAM)

OPTIONAL_SCALARS = ("beta_covariate", "beta_time")  # absent when the model has no covariate / time effect (zeros)


@dataclass(frozen=True)
class PosteriorDraws:
    """Draws flattened over (chain, draw) to S samples; state arrays are (S, n_states)."""

    intercept: np.ndarray
    sigma_state: np.ndarray
    beta_high_profile: np.ndarray
    beta_high_profile_treatment: np.ndarray
    sigma_state_high_profile: np.ndarray
    beta_covariate: np.ndarray  # zeros when the model has no covariate
    beta_time: np.ndarray  # zeros when the model has no time effect
    state_effect: np.ndarray
    state_high_profile_effect: np.ndarray
    assurance_effect: np.ndarray  # (S, items); torture is the reference (0)
    deterrence: np.ndarray  # (S, monitoring levels); zeros without the deterrence effect
    detection: np.ndarray | None  # (S, 4 verification levels, 2 case types); None for face-value fits
    verification: np.ndarray | None  # same shape; P(kept item verified as kept)
    states: tuple[str, ...]
    unseen_seed: int  # seeds the per-draw effects of states not in the data, so scores are repeatable
    covariate_error: np.ndarray | None = None  # (S, latent) standard-normal errors of the fitted covariate values

    @property
    def n_draws(self) -> int:
        return len(self.intercept)

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], states, unseen_seed: int) -> "PosteriorDraws":
        """Build from (chain, draw, ...) arrays keyed by parameter name; optional parameters may be missing."""
        flat = {}
        for name in SCALAR_PARAMS:
            if name in OPTIONAL_SCALARS and name not in arrays:
                continue
            flat[name] = np.asarray(arrays[name], dtype=float).reshape(-1)
        s = len(flat["intercept"])
        for name in OPTIONAL_SCALARS:
            flat.setdefault(name, np.zeros(s))
        for name in STATE_PARAMS + (ASSURANCE_PARAM,):
            flat[name] = np.asarray(arrays[name], dtype=float).reshape(s, -1)
        det = arrays.get(DETERRENCE_PARAM)
        flat["deterrence"] = (np.zeros((s, len(MONITORING_LEVELS))) if det is None
                              else np.asarray(det, dtype=float).reshape(s, len(MONITORING_LEVELS)))
        for name in (DETECTION_PARAM, VERIFICATION_PARAM):
            a = arrays.get(name)
            flat[name] = None if a is None else np.asarray(a, dtype=float).reshape(s, 4, 2)
        u = arrays.get(LATENT_COVARIATE)
        flat["covariate_error"] = None if u is None else np.asarray(u, dtype=float).reshape(s, -1)
        return cls(**flat, states=tuple(str(x) for x in states), unseen_seed=int(unseen_seed))

    def subset(self, i) -> "PosteriorDraws":
        """Draw(s) ``i`` as a PosteriorDraws."""
        i = np.atleast_1d(i)
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v[i] if isinstance(v, np.ndarray) else v
        return replace(self, **out)

    def unseen_effects(self, codes) -> tuple[np.ndarray, np.ndarray]:
        """Effects of states the model has not seen: (S, len(codes)) each.

        Every unseen state draws its own effect from the population (independent given the scales),
        seeded by the fit's seed and the state's code, so the same code gets the same draws in every call.
        """
        a = np.empty((self.n_draws, len(codes)))
        b = np.empty((self.n_draws, len(codes)))
        for j, code in enumerate(codes):
            z = np.random.default_rng([self.unseen_seed, zlib.crc32(str(code).encode())]).standard_normal((2, self.n_draws))
            a[:, j] = self.sigma_state * z[0]
            b[:, j] = self.sigma_state_high_profile * z[1]
        return a, b


    def covariate_noise(self, keys, sds) -> np.ndarray:
        """(S, len(keys)) measurement error of covariate values for scoring: sd * N(0, 1), drawn per
        "STATE:year" key with the same seeding as unseen states (independent of the record)."""
        out = np.zeros((self.n_draws, len(keys)))
        for j, (key, sd) in enumerate(zip(keys, sds)):
            if sd > 0:
                rng = np.random.default_rng([self.unseen_seed, 1, zlib.crc32(str(key).encode())])
                out[:, j] = sd * rng.standard_normal(self.n_draws)
        return out


def _log_expit(eta: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -eta)


@dataclass(frozen=True)
class Cells:
    """What a probability needs per pattern: state effects (already looked up), case type, covariate
    (mean, plus per-draw measurement error), time, promised items and monitoring level."""

    a: np.ndarray  # (S, P) state effect
    b: np.ndarray  # (S, P) state-specific case-type effect
    high_profile: np.ndarray  # (P,) 0/1
    x: np.ndarray  # (P,) covariate mean
    assurance: np.ndarray  # (P, items) 0/1
    monitoring: np.ndarray  # (P,) int into MONITORING_LEVELS
    t: np.ndarray | None = None  # (P,) time in decades from the record's centre
    x_noise: np.ndarray | None = None  # (S, P) measurement error of the covariate, or None (exact)

    def covariate(self) -> np.ndarray:
        """(1 or S, P) covariate values per draw."""
        return self.x[None, :] if self.x_noise is None else self.x[None, :] + self.x_noise


def cells_for(draws: PosteriorDraws, state_idx, high_profile, x, assurance, monitoring, unseen_codes=(),
              t=None, x_noise=None) -> Cells:
    """Look up state effects: ``state_idx`` >= 0 indexes ``draws.states``; -1 - j is ``unseen_codes[j]``."""
    state_idx = np.asarray(state_idx, dtype=np.int64)
    a_new, b_new = draws.unseen_effects(unseen_codes)
    a_ext = np.concatenate([draws.state_effect, a_new], axis=1)
    b_ext = np.concatenate([draws.state_high_profile_effect, b_new], axis=1)
    k = len(draws.states)
    idx = np.where(state_idx >= 0, state_idx, k + (-1 - state_idx))
    return Cells(a_ext[:, idx], b_ext[:, idx], np.asarray(high_profile, float), np.asarray(x, float),
                 np.asarray(assurance, float), np.asarray(monitoring, np.int64),
                 None if t is None else np.asarray(t, float), x_noise)


def design_noise(draws: PosteriorDraws, x_sd, latent_idx) -> np.ndarray | None:
    """(S, P) covariate error of fitted patterns from the posterior's own latent errors (None if exact)."""
    x_sd = np.asarray(x_sd, dtype=float)
    if draws.covariate_error is None or not (x_sd > 0).any():
        return None
    u = np.concatenate([draws.covariate_error, np.zeros((draws.n_draws, 1))], axis=1)
    return x_sd[None, :] * u[:, np.asarray(latent_idx, dtype=np.int64)]


def item_logit(draws: PosteriorDraws, c: Cells) -> np.ndarray:
    """(S, P, items) log-odds that each item would be kept."""
    treat = TREATMENT_ITEM[None, None, :]
    hp = c.high_profile[None, :, None]
    return (draws.intercept[:, None, None] + draws.assurance_effect[:, None, :] + c.a[:, :, None]
            + (draws.beta_high_profile[:, None, None] + c.b[:, :, None]
               + draws.beta_high_profile_treatment[:, None, None] * treat) * hp
            + draws.beta_covariate[:, None, None] * c.covariate()[:, :, None]
            + (0.0 if c.t is None else draws.beta_time[:, None, None] * c.t[None, :, None])
            + draws.deterrence[:, c.monitoring][:, :, None] * treat)


def log_p_kept(draws: PosteriorDraws, c: Cells) -> np.ndarray:
    """(S, P) log P(every promised item kept)."""
    return np.sum(c.assurance[None] * _log_expit(item_logit(draws, c)), axis=2)


def outcome_probabilities(draws: PosteriorDraws, c: Cells) -> dict[str, np.ndarray]:
    """(S, P) arrays: kept (whole promise), verified_kept, breach_reported (monitoring-aware model).

    Face-value fits have no detection layer: every breach is reported and every kept promise verified.
    """
    eta = item_logit(draws, c)
    m = c.assurance[None]
    log_p = _log_expit(eta)
    kept = np.exp(np.sum(m * log_p, axis=2))
    if draws.detection is None:
        return {"kept": kept, "verified_kept": kept, "breach_reported": 1.0 - kept}
    lv = item_levels(c.monitoring)  # (P, items)
    ct = c.high_profile.astype(np.int64)[:, None]
    d = draws.detection[:, lv, ct]
    w = draws.verification[:, lv, ct]
    q = np.exp(_log_expit(-eta))
    verified = np.exp(np.sum(m * (log_p + np.log(w)), axis=2))
    reported = -np.expm1(np.sum(m * np.log1p(-q * d), axis=2))
    return {"kept": kept, "verified_kept": verified, "breach_reported": reported}


assert len(TREATMENT_ITEM) == len(ASSURANCE_GROUPS)
