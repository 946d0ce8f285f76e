"""NumPy scoring: posterior probability that an assurance is honoured, for many rows at once.

Rows are reduced to their distinct (state, case type, covariate) patterns; the linear predictor is
computed as a (draws x patterns) array, summarised, and broadcast back to the rows. No loop runs
over rows or draws (only over blocks of patterns, to bound memory), and nothing here imports
PyMC, PyTensor, ArviZ or xarray.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import contract
from .draws import PosteriorDraws
from .errors import InputError

BLOCK_ELEMENTS = 4_000_000  # draws x patterns evaluated at once (~32 MB of float64)


@dataclass(frozen=True)
class Patterns:
    """Distinct case patterns and, for every input row, which pattern it is."""

    state_idx: np.ndarray  # index into draws.states, or -1 for an unseen state
    high_profile: np.ndarray  # float 0/1
    x: np.ndarray  # standardised covariate
    assurance: np.ndarray  # (patterns x 5) 0/1 promised items
    verification: np.ndarray  # int index into VERIFICATION_LEVELS
    covariate_found: np.ndarray  # bool
    row_pattern: np.ndarray  # int, per input row


def check_interval(interval) -> float:
    try:
        q = float(interval)
    except (TypeError, ValueError):
        q = float("nan")
    if not 0.0 < q < 1.0:
        raise InputError(f"interval must be a probability strictly between 0 and 1 (e.g. 0.9), got {interval!r}")
    return q


def _expit(eta: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-eta))


def probability_draws(draws: PosteriorDraws, pat: Patterns, cols: slice | np.ndarray = slice(None)) -> np.ndarray:
    """P(honoured) for each posterior draw (rows) and pattern (columns)."""
    a_new, b_new = draws.unseen_effects()
    a_ext = np.concatenate([draws.state_effect, a_new[:, None]], axis=1)
    b_ext = np.concatenate([draws.state_high_profile_effect, b_new[:, None]], axis=1)
    idx = pat.state_idx[cols]
    idx = np.where(idx < 0, a_ext.shape[1] - 1, idx)
    hp = pat.high_profile[cols][None, :]
    eta = (
        draws.intercept[:, None]
        + a_ext[:, idx]
        + (draws.beta_high_profile[:, None] + b_ext[:, idx]) * hp
        + draws.beta_pts[:, None] * pat.x[cols][None, :]
        + draws.assurance_effect @ pat.assurance[cols].T
    )
    return _expit(eta)


def unreported_share(draws: PosteriorDraws, pat: Patterns) -> np.ndarray:
    """Posterior mean chance that a breach goes unreported under each pattern's verification (NaN: face value)."""
    if draws.detection is None:
        return np.full(len(pat.state_idx), np.nan)
    d_mean = draws.detection.mean(axis=0)  # (levels, case types)
    return 1.0 - d_mean[pat.verification, pat.high_profile.astype(np.int64)]


def summarize(draws: PosteriorDraws, pat: Patterns, interval: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Posterior mean and central interval per pattern, computed in blocks to bound memory."""
    n_pat = len(pat.state_idx)
    mean = np.empty(n_pat)
    lower = np.empty(n_pat)
    upper = np.empty(n_pat)
    tails = [(1.0 - interval) / 2.0, (1.0 + interval) / 2.0]
    step = max(1, BLOCK_ELEMENTS // draws.n_draws)
    for start in range(0, n_pat, step):
        sl = slice(start, min(start + step, n_pat))
        p = probability_draws(draws, pat, sl)
        mean[sl] = p.mean(axis=0)
        lower[sl], upper[sl] = np.quantile(p, tails, axis=0)
    return mean, lower, upper


def find_patterns(rows: contract.CaseRows, draws: PosteriorDraws, covariate) -> Patterns:
    """Reduce rows to distinct patterns; ``covariate`` is a PTSTable or None (model without covariate)."""
    s_code, s_uniq = rows.state_code, rows.state_levels
    seen_lookup = {s: i for i, s in enumerate(draws.states)}
    s_seen_idx = np.array([seen_lookup.get(s, -1) for s in s_uniq], dtype=np.int64)

    if covariate is None:
        pair_code, pair_state, x_pair, found_pair = s_code, np.arange(len(s_uniq)), None, None
    else:
        y_code, y_uniq = pd.factorize(rows.year, use_na_sentinel=False)
        pair_code, pair_uniq = pd.factorize(s_code.astype(np.int64) * len(y_uniq) + y_code)
        pair_uniq = np.asarray(pair_uniq)
        pair_state = pair_uniq // len(y_uniq)
        x_pair, found_pair = covariate.standardized(s_uniq[pair_state], np.asarray(y_uniq, float)[pair_uniq % len(y_uniq)])

    n_groups = len(contract.ASSURANCE_GROUPS)
    n_levels = len(contract.VERIFICATION_LEVELS)
    key = ((pair_code.astype(np.int64) * 2 + rows.high_profile.astype(np.int64)) * (1 << n_groups)
           + rows.assurance_mask) * n_levels + rows.verification
    pat_code, pat_uniq = pd.factorize(key)
    pat_uniq = np.asarray(pat_uniq)
    level = pat_uniq % n_levels
    mask = (pat_uniq // n_levels) % (1 << n_groups)
    hp = (pat_uniq // (n_levels << n_groups)) % 2
    pat_pair = pat_uniq // (2 * n_levels << n_groups)
    n_pat = len(pat_uniq)
    return Patterns(
        state_idx=s_seen_idx[pair_state[pat_pair]],
        high_profile=hp.astype(float),
        x=np.zeros(n_pat) if x_pair is None else x_pair[pat_pair],
        assurance=((mask[:, None] >> np.arange(n_groups)) & 1).astype(float),
        verification=level.astype(np.int64),
        covariate_found=np.ones(n_pat, bool) if found_pair is None else found_pair[pat_pair],
        row_pattern=pat_code,
    )


def score_rows(df: pd.DataFrame, rows: contract.CaseRows, draws: PosteriorDraws, *, covariate,
               state_counts: dict[str, int], state_type_counts: dict[str, list[int]], converged: bool,
               interval: float) -> pd.DataFrame:
    """The input rows with the score columns appended (existing columns of the same name are replaced)."""
    pat = find_patterns(rows, draws, covariate)
    mean, lower, upper = summarize(draws, pat, interval)
    counts = np.array([state_counts.get(s, 0) for s in draws.states] + [0], dtype=np.int64)
    type_counts = np.array([state_type_counts.get(s, [0, 0]) for s in draws.states] + [[0, 0]], dtype=np.int64)
    r = pat.row_pattern
    out = df.copy()
    out["p_honored"] = mean[r]
    out["p_honored_lower"] = lower[r]
    out["p_honored_upper"] = upper[r]
    out["p_breach"] = 1.0 - mean[r]
    if draws.detection is not None:
        out["p_breach_unreported"] = unreported_share(draws, pat)[r]
    out["state_seen"] = pat.state_idx[r] >= 0
    out["n_state_cases"] = counts[pat.state_idx[r]]
    out["n_state_type_cases"] = type_counts[pat.state_idx, pat.high_profile.astype(np.int64)][r]
    out["covariate_imputed"] = ~pat.covariate_found[r]
    out["converged"] = bool(converged)
    return out
