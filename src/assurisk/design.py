"""Design arrays for the model: rows collapsed to unique (state, case type, covariate) patterns.

Pure functions on NumPy arrays; no PyMC here. Collapsing Bernoulli rows into Binomial patterns
gives the same posterior and a smaller, faster model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .contract import CaseRows


@dataclass(frozen=True)
class Design:
    states: tuple[str, ...]  # states with fitted transfers, sorted
    state_idx: np.ndarray  # int, per pattern, into ``states``
    high_profile: np.ndarray  # float 0/1, per pattern
    x: np.ndarray  # standardised covariate per pattern (zeros when the model has none)
    n: np.ndarray  # transfers per pattern
    y: np.ndarray  # honoured transfers per pattern

    @property
    def n_patterns(self) -> int:
        return len(self.n)

    def transfers_by_state(self) -> dict[str, int]:
        totals = np.bincount(self.state_idx, weights=self.n, minlength=len(self.states))
        return {s: int(t) for s, t in zip(self.states, totals)}

    def transfers_by_state_and_type(self) -> dict[str, list[int]]:
        """Per state: [ordinary transfers, high-profile transfers] the model used."""
        k = len(self.states)
        hp = self.high_profile.astype(bool)
        ordinary = np.bincount(self.state_idx[~hp], weights=self.n[~hp], minlength=k)
        high = np.bincount(self.state_idx[hp], weights=self.n[hp], minlength=k)
        return {s: [int(o), int(h)] for s, o, h in zip(self.states, ordinary, high)}


def build_design(rows: CaseRows, x: np.ndarray | None = None) -> Design:
    """Collapse the fitted rows of ``rows`` (those with transfers) into Binomial patterns."""
    use = rows.fitted
    if not use.any():
        raise ValueError("no row can be fitted: every row is not transferred, unknown, or has zero transfers")
    x_all = np.zeros(len(rows.state)) if x is None else np.asarray(x, dtype=float)
    frame = pd.DataFrame(
        {
            "state": rows.state[use],
            "hp": rows.high_profile[use].astype(float),
            "x": x_all[use],
            "n": rows.n_transfers[use],
            "y": rows.n_transfers[use] - rows.n_breaches[use],
        }
    )
    g = frame.groupby(["state", "hp", "x"], sort=True, as_index=False)[["n", "y"]].sum()
    states = tuple(sorted(g["state"].unique()))
    return Design(
        states=states,
        state_idx=np.searchsorted(np.array(states), g["state"].to_numpy(dtype=str)),
        high_profile=g["hp"].to_numpy(dtype=float),
        x=g["x"].to_numpy(dtype=float),
        n=g["n"].to_numpy(dtype=np.int64),
        y=g["y"].to_numpy(dtype=np.int64),
    )
