"""Design arrays for the model: rows collapsed to unique observation patterns.

A pattern is (state, case type, covariate, time, promised items, monitoring) with three counts: transfers
whose promise was verified as kept, transfers with a reported breach, and transfers with no known
outcome. A row coded item by item (``item_outcomes``) becomes one single-item observation per
promised item: under the model, items of one promise are independent given the state and case type,
so this is the same likelihood and it says more than the whole-promise outcome. Pure functions on
NumPy arrays; no PyMC here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .contract import ASSURANCE_GROUPS, COURT_VERIFIABLE, MONITORING_LEVELS, VERIFICATION_LEVELS, CaseRows

N_ITEMS = len(ASSURANCE_GROUPS)
COURT_ITEM = np.array([g in COURT_VERIFIABLE for g in ASSURANCE_GROUPS])
OUTCOMES3 = ("honored_verified", "breach_reported", "unknown")


def item_levels(monitoring: np.ndarray) -> np.ndarray:
    """(patterns x items) verification level of each item: public record for court-verifiable items,
    otherwise the monitoring that existed."""
    lv = np.asarray(monitoring, dtype=np.int64)[:, None] + np.zeros(N_ITEMS, dtype=np.int64)
    return np.where(COURT_ITEM[None, :], VERIFICATION_LEVELS.index("public_record"), lv)


@dataclass(frozen=True)
class Design:
    states: tuple[str, ...]  # states with fitted transfers, sorted
    state_idx: np.ndarray  # int, per pattern, into ``states``
    high_profile: np.ndarray  # float 0/1, per pattern
    x: np.ndarray  # centred, standardised covariate per pattern (zeros when the model has none)
    assurance: np.ndarray  # (patterns x items) 0/1 indicators of the promised items
    monitoring: np.ndarray  # int, per pattern, into MONITORING_LEVELS
    counts: np.ndarray  # (patterns x 3): verified honoured, reported breach, unknown
    # Measurement error of the covariate: pattern i's covariate is x[i] + x_sd[i] * z[latent_idx[i]],
    # z ~ N(0, 1), one z per distinct (state, year) with x_sd > 0 (latent_idx -1: exact).
    x_sd: np.ndarray | None = None
    latent_idx: np.ndarray | None = None
    latent_keys: tuple = ()  # "STATE:year" of each latent z
    t: np.ndarray | None = None  # (year - centre) / 10 per pattern (zeros without a time effect)

    def __post_init__(self):
        n = len(self.state_idx)
        if self.x_sd is None:
            object.__setattr__(self, "x_sd", np.zeros(n))
        if self.latent_idx is None:
            object.__setattr__(self, "latent_idx", np.full(n, -1, dtype=np.int64))
        if self.t is None:
            object.__setattr__(self, "t", np.zeros(n))

    @property
    def n_patterns(self) -> int:
        return len(self.state_idx)

    @property
    def n(self) -> np.ndarray:
        return self.counts.sum(axis=1)

    @property
    def breaches(self) -> np.ndarray:
        return self.counts[:, 1]

    @property
    def item_level(self) -> np.ndarray:
        return item_levels(self.monitoring)

    def transfers_by_state(self, weights: np.ndarray | None = None) -> dict[str, int]:
        w = self.n if weights is None else weights
        totals = np.bincount(self.state_idx, weights=w, minlength=len(self.states))
        return {s: int(t) for s, t in zip(self.states, totals)}

    def transfers_by_state_and_type(self) -> dict[str, list[int]]:
        """Per state: [ordinary, high-profile] observations the model used."""
        k = len(self.states)
        hp = self.high_profile.astype(bool)
        ordinary = np.bincount(self.state_idx[~hp], weights=self.n[~hp], minlength=k)
        high = np.bincount(self.state_idx[hp], weights=self.n[hp], minlength=k)
        return {s: [int(o), int(h)] for s, o, h in zip(self.states, ordinary, high)}


def observations(rows: CaseRows, x: np.ndarray | None = None, *, detection: bool = True,
                 x_sd: np.ndarray | None = None, t: np.ndarray | None = None) -> pd.DataFrame:
    """One record per (row, observation): whole-promise rows once, item-coded rows once per item.

    Columns: row (input position), state, year, hp, x, x_sd, t, mask, mon, h, b, u. Face value
    (``detection=False``): unknown outcomes are dropped, and aggregate rows count every transfer
    without a reported breach as honoured (the face-value reading).
    """
    n = len(rows.state_code)
    x_all = np.zeros(n) if x is None else np.asarray(x, dtype=float)
    sd_all = np.zeros(n) if x_sd is None else np.asarray(x_sd, dtype=float)
    t_all = np.zeros(n) if t is None else np.asarray(t, dtype=float)
    items = rows.has_items
    h = rows.n_honored if detection else rows.n_face_honored
    u = rows.n_unknown if detection else np.zeros(n, dtype=np.int64)
    year = np.nan_to_num(rows.year, nan=-1).astype(np.int64)
    base = {"row": np.arange(n), "state": rows.state, "year": year, "hp": rows.high_profile.astype(float),
            "x": x_all, "x_sd": sd_all, "t": t_all, "mon": rows.monitoring}
    whole = pd.DataFrame({**base, "mask": rows.assurance_mask, "h": h, "b": rows.n_breaches, "u": u})[~items]
    r, g = np.nonzero(rows.item_status >= 0)
    st = rows.item_status[r, g]
    per_item = pd.DataFrame({**{k: v[r] for k, v in base.items()}, "mask": (1 << g).astype(np.int64),
                             "h": (st == 1).astype(np.int64), "b": (st == 2).astype(np.int64),
                             "u": (st == 0).astype(np.int64) * int(detection)})
    obs = pd.concat([whole, per_item], ignore_index=True)
    return obs[(obs["h"] + obs["b"] + obs["u"]) > 0].sort_values(["row", "mask"], kind="stable").reset_index(drop=True)


def latent_keys_of(obs: pd.DataFrame) -> tuple[str, ...]:
    """Keys of the covariate values measured with error, in a fixed (sorted) order."""
    noisy = obs[obs["x_sd"] > 0]
    return tuple(sorted({f"{s}:{y}" for s, y in zip(noisy["state"], noisy["year"])}))


def build_design(rows: CaseRows, x: np.ndarray | None = None, *, detection: bool = True,
                 x_center: float = 0.0, x_sd: np.ndarray | None = None, t: np.ndarray | None = None,
                 latent_keys: tuple | None = None) -> Design:
    """Collapse the observations the model uses into patterns (``x`` is centred on ``x_center``).

    ``latent_keys`` fixes the list of covariate values measured with error (to map another table
    onto a fitted model); by default it is this table's own.
    """
    obs = observations(rows, x, detection=detection, x_sd=x_sd, t=t)
    if obs.empty:
        raise ValueError("no row can be fitted: every row is not transferred, has zero transfers"
                         + ("" if detection else ", or has no known outcome"))
    obs["x"] = obs["x"] - x_center
    keys = latent_keys_of(obs) if latent_keys is None else tuple(latent_keys)
    lookup = {k: i for i, k in enumerate(keys)}
    obs["latent"] = [lookup.get(f"{s}:{y}", -1) if sd > 0 else -1
                     for s, y, sd in zip(obs["state"], obs["year"], obs["x_sd"])]
    if ((obs["latent"] < 0) & (obs["x_sd"] > 0)).any():
        raise ValueError("a covariate measured with error has no latent value in the fitted model")
    g = obs.groupby(["state", "hp", "x", "x_sd", "latent", "t", "mask", "mon"], sort=True,
                    as_index=False)[["h", "b", "u"]].sum()
    states = tuple(sorted(g["state"].unique()))
    mask = g["mask"].to_numpy(dtype=np.int64)
    return Design(
        states=states,
        state_idx=np.searchsorted(np.array(states), g["state"].to_numpy(dtype=str)),
        high_profile=g["hp"].to_numpy(dtype=float),
        x=g["x"].to_numpy(dtype=float),
        assurance=((mask[:, None] >> np.arange(N_ITEMS)) & 1).astype(float),
        monitoring=g["mon"].to_numpy(dtype=np.int64),
        counts=g[["h", "b", "u"]].to_numpy(dtype=np.int64),
        x_sd=g["x_sd"].to_numpy(dtype=float),
        latent_idx=g["latent"].to_numpy(dtype=np.int64),
        latent_keys=keys,
        t=g["t"].to_numpy(dtype=float),
    )


assert len(MONITORING_LEVELS) == 3 and VERIFICATION_LEVELS[:3] == MONITORING_LEVELS
