"""Design arrays for the model: rows collapsed to unique case patterns.

A pattern is (state, case type, covariate, promised items, verification level). Pure functions on
NumPy arrays; no PyMC here. Collapsing Bernoulli rows into Binomial patterns gives the same
posterior and a smaller, faster model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .contract import ASSURANCE_GROUPS, CaseRows


@dataclass(frozen=True)
class Design:
    states: tuple[str, ...]  # states with fitted transfers, sorted
    state_idx: np.ndarray  # int, per pattern, into ``states``
    high_profile: np.ndarray  # float 0/1, per pattern
    x: np.ndarray  # standardised covariate per pattern (zeros when the model has none)
    assurance: np.ndarray  # (patterns x 5) 0/1 indicators of the promised items
    verification: np.ndarray  # int, per pattern, into VERIFICATION_LEVELS
    n: np.ndarray  # transfers per pattern
    breaches: np.ndarray  # (reported) breaches per pattern

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


def build_design(rows: CaseRows, x: np.ndarray | None = None, *, detection: bool = False) -> Design:
    """Collapse the rows the model uses into Binomial patterns.

    Face value (``detection=False``): transfers with a known outcome; breaches are breaches.
    Monitoring-aware: every transfer, including those with no known outcome; breaches are the
    reported ones, and the model itself accounts for those that were never reported.
    """
    n_all = rows.n_transfers + (rows.n_unknown if detection else 0)
    use = n_all > 0
    if not use.any():
        raise ValueError("no row can be fitted: every row is not transferred, unknown, or has zero transfers")
    x_all = np.zeros(len(rows.state_code)) if x is None else np.asarray(x, dtype=float)
    frame = pd.DataFrame({
        "state": rows.state[use],
        "hp": rows.high_profile[use].astype(float),
        "x": x_all[use],
        "mask": rows.assurance_mask[use],
        "level": rows.verification[use],
        "n": n_all[use],
        "r": rows.n_breaches[use],
    })
    g = frame.groupby(["state", "hp", "x", "mask", "level"], sort=True, as_index=False)[["n", "r"]].sum()
    states = tuple(sorted(g["state"].unique()))
    mask = g["mask"].to_numpy(dtype=np.int64)
    return Design(
        states=states,
        state_idx=np.searchsorted(np.array(states), g["state"].to_numpy(dtype=str)),
        high_profile=g["hp"].to_numpy(dtype=float),
        x=g["x"].to_numpy(dtype=float),
        assurance=((mask[:, None] >> np.arange(len(ASSURANCE_GROUPS))) & 1).astype(float),
        verification=g["level"].to_numpy(dtype=np.int64),
        n=g["n"].to_numpy(dtype=np.int64),
        breaches=g["r"].to_numpy(dtype=np.int64),
    )
