"""Posterior draws as plain NumPy arrays: what the scorer needs, nothing heavier."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import ASSURANCE_PARAM, DETECTION_PARAM, SCALAR_PARAMS, STATE_PARAMS


@dataclass(frozen=True)
class PosteriorDraws:
    """Draws flattened over (chain, draw) to S samples; state arrays are (S, n_states)."""

    intercept: np.ndarray
    sigma_state: np.ndarray
    beta_high_profile: np.ndarray
    sigma_state_high_profile: np.ndarray
    beta_pts: np.ndarray  # zeros when the model has no covariate
    state_effect: np.ndarray
    state_high_profile_effect: np.ndarray
    assurance_effect: np.ndarray  # (S, 5), one column per promised item
    detection: np.ndarray | None  # (S, 4 verification levels, 2 case types); None for face-value fits
    states: tuple[str, ...]
    unseen_seed: int  # seeds the per-draw effects of states not in the data, so scores are repeatable

    @property
    def n_draws(self) -> int:
        return len(self.intercept)

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], states, unseen_seed: int) -> "PosteriorDraws":
        """Build from (chain, draw, ...) arrays keyed by parameter name; a missing beta_pts means no covariate."""
        flat = {}
        for name in SCALAR_PARAMS:
            if name == "beta_pts" and name not in arrays:
                continue
            a = np.asarray(arrays[name], dtype=float)
            flat[name] = a.reshape(-1)
        s = len(flat["intercept"])
        flat.setdefault("beta_pts", np.zeros(s))
        for name in STATE_PARAMS + (ASSURANCE_PARAM,):
            a = np.asarray(arrays[name], dtype=float)
            flat[name] = a.reshape(s, -1)
        det = arrays.get(DETECTION_PARAM)
        flat[DETECTION_PARAM] = None if det is None else np.asarray(det, dtype=float).reshape(s, 4, 2)
        return cls(**flat, states=tuple(str(x) for x in states), unseen_seed=int(unseen_seed))

    def unseen_effects(self) -> tuple[np.ndarray, np.ndarray]:
        """Effects for a state the model has not seen: one new draw from the population per posterior draw."""
        z = np.random.default_rng(self.unseen_seed).standard_normal((2, self.n_draws))
        return self.sigma_state * z[0], self.sigma_state_high_profile * z[1]
