"""NumPy scoring: posterior probability that an assurance is honoured, for many rows at once.

Rows are reduced to their distinct (state, case type, covariate, promise, monitoring) patterns; the
probabilities are computed as (draws x patterns x items) arrays, summarised, and broadcast back to the rows. No loop runs
over rows or draws (only over blocks of patterns, to bound memory), and nothing here imports
PyMC, PyTensor, ArviZ or xarray.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import contract
from .draws import Cells, PosteriorDraws, cells_for, log_p_kept, outcome_probabilities
from .errors import InputError

BLOCK_ELEMENTS = 500_000  # draws x patterns x items evaluated at once (~4 MB of float64: stays in cache; 4_000_000 was 2x slower)


PRIOR_SD_RATIO = 0.7  # prior_dominated: posterior sd of logit P(honoured) at least this share of the prior's ...
PRIOR_SHIFT = 0.5  # ... and the posterior mean within this many prior sds of the prior mean
SCORE_COLUMNS = ("p_honored", "p_honored_lower", "p_honored_upper", "p_breach", "p_breach_unreported",
                 "p_breach_given_unreported", "p_honored_prior", "prior_dominated", "state_seen", "n_state_cases",
                 "n_state_type_cases", "covariate_imputed", "covariate_year_outside", "receiving_state_code",
                 "converged")


@dataclass(frozen=True)
class Patterns:
    """Distinct case patterns and, for every input row, which pattern it is."""

    state_idx: np.ndarray  # index into draws.states, or -1 - j for unseen_codes[j]
    high_profile: np.ndarray  # float 0/1
    x: np.ndarray  # centred, standardised covariate
    assurance: np.ndarray  # (patterns x items) 0/1 promised items
    monitoring: np.ndarray  # int index into MONITORING_LEVELS
    covariate_found: np.ndarray  # bool
    row_pattern: np.ndarray  # int, per input row
    unseen_codes: tuple = ()  # codes of the states the fit has not seen, in the order state_idx refers to

    def cells(self, draws: PosteriorDraws, cols=slice(None)) -> Cells:
        return cells_for(draws, self.state_idx[cols], self.high_profile[cols], self.x[cols],
                         self.assurance[cols], self.monitoring[cols], self.unseen_codes)


def check_interval(interval) -> float:
    try:
        q = float(interval)
    except (TypeError, ValueError):
        q = float("nan")
    if not 0.0 < q < 1.0:
        raise InputError(f"interval must be a probability strictly between 0 and 1 (e.g. 0.9), got {interval!r}")
    return q


def probability_draws(draws: PosteriorDraws, pat: Patterns, cols: slice | np.ndarray = slice(None)) -> np.ndarray:
    """P(whole promise honoured) for each draw (rows) and pattern (columns)."""
    return np.exp(log_p_kept(draws, pat.cells(draws, cols)))


def _block(draws: PosteriorDraws, n_pat: int):
    step = max(1, BLOCK_ELEMENTS // (draws.n_draws * len(contract.ASSURANCE_GROUPS)))
    for start in range(0, n_pat, step):
        yield slice(start, min(start + step, n_pat))


SUMMARY_KEYS = ("mean", "lower", "upper", "unreported", "given_unreported", "prior_mean", "prior_dominated")
_ACTIVE_CACHES: list = []  # PatternCache objects in use (see pattern_cache); empty outside bulk scoring


class PatternCache:
    """:func:`summarize` results kept across calls for one fit's draws and one interval.

    Bulk scoring reads a table chunk by chunk; with a cache active, a pattern the model cannot tell
    apart from one of an earlier chunk (same state, case type, covariate value, promise and
    monitoring) is not computed again. Results are exactly those :func:`summarize` computes. At most
    ``limit`` patterns are kept (about 200 bytes each).
    """

    def __init__(self, draws: PosteriorDraws, prior: PosteriorDraws | None, interval: float, limit: int = 1 << 19):
        self.draws, self.prior, self.interval, self.limit = draws, prior, float(interval), limit
        self._results: dict[tuple, tuple] = {}
        self.computed = 0  # patterns computed (not found in the cache)

    def matches(self, draws, prior, interval) -> bool:
        return draws is self.draws and prior is self.prior and float(interval) == self.interval

    def _keys(self, pat: Patterns) -> list[tuple]:
        names = np.asarray(list(self.draws.states) + list(pat.unseen_codes), dtype=object)
        k = len(self.draws.states)
        code = names[np.where(pat.state_idx >= 0, pat.state_idx, k + (-1 - pat.state_idx))]
        items = map(tuple, pat.assurance.astype(np.int8).tolist())
        return list(zip(code.tolist(), pat.high_profile.tolist(), pat.x.tolist(), pat.monitoring.tolist(), items))

    def summarize(self, pat: Patterns) -> dict:
        keys = self._keys(pat)
        found = [self._results.get(key) for key in keys]
        miss = np.array([f is None for f in found], dtype=bool)
        if miss.any():
            first: dict[tuple, int] = {}
            for i in np.flatnonzero(miss):
                first.setdefault(keys[i], int(i))
            idx = np.fromiter(first.values(), dtype=np.int64, count=len(first))
            new = summarize(self.draws, _take(pat, idx), self.interval, self.prior, _cache=False)
            self.computed += len(idx)
            rows = dict(zip(first, zip(*(new[k].tolist() for k in SUMMARY_KEYS))))
            for i in np.flatnonzero(miss):
                found[i] = rows[keys[i]]
            for key, row in rows.items():
                if len(self._results) < self.limit:
                    self._results[key] = row
        cols = list(zip(*found)) if found else [()] * len(SUMMARY_KEYS)
        return {k: np.array(c, dtype=bool if k == "prior_dominated" else float)
                for k, c in zip(SUMMARY_KEYS, cols)}


class pattern_cache:
    """Context manager: while active, :func:`summarize` calls for ``cache``'s fit and interval use it."""

    def __init__(self, cache: PatternCache):
        self.cache = cache

    def __enter__(self) -> PatternCache:
        _ACTIVE_CACHES.append(self.cache)
        return self.cache

    def __exit__(self, *exc) -> None:
        _ACTIVE_CACHES.remove(self.cache)


def summarize(draws: PosteriorDraws, pat: Patterns, interval: float, prior: PosteriorDraws | None = None,
              *, _cache: bool = True) -> dict:
    """Per pattern: posterior mean and central interval of P(honoured), the detection quantities, and
    (with ``prior``) the prior mean and the prior-dominated flag. Computed in blocks to bound memory.

    The effects of unseen states are drawn once per call (not once per block), and the posterior's
    log P(honoured) for the prior-dominated flag is the log of the probabilities already computed.
    Patterns that are the same to the model (same state, case type, covariate value, promise and
    monitoring; e.g. two years with the same PTS score) are computed once, and, while a
    :class:`PatternCache` for these draws and this interval is active, once per cache.
    """
    if _cache:
        for cache in list(_ACTIVE_CACHES):
            if cache.matches(draws, prior, interval):
                return cache.summarize(pat)
    same = _model_patterns(pat)
    if same is not None:
        first, inverse = same
        sub = summarize(draws, _take(pat, first), interval, prior, _cache=False)
        return {k: v[inverse] for k, v in sub.items()}
    n_pat = len(pat.state_idx)
    out = {k: np.full(n_pat, np.nan) for k in ("mean", "lower", "upper", "unreported", "given_unreported", "prior_mean")}
    out["prior_dominated"] = np.zeros(n_pat, dtype=bool)
    tails = [(1.0 - interval) / 2.0, (1.0 + interval) / 2.0]
    post, pat_ext = _with_unseen(draws, pat)
    prior_ext = _with_unseen(prior, pat)[0] if prior is not None else None
    for sl in _block(draws, n_pat):
        probs = outcome_probabilities(*_block_cells(post, pat_ext, sl))
        p = probs["kept"]
        out["mean"][sl] = p.mean(axis=0)
        out["lower"][sl], out["upper"][sl] = np.quantile(p, tails, axis=0)
        if draws.detection is not None:
            breach = (1.0 - p).mean(axis=0)
            rep = probs["breach_reported"].mean(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                out["unreported"][sl] = np.where(breach > 0, 1.0 - rep / breach, 0.0)
                out["given_unreported"][sl] = np.where(rep < 1, (breach - rep) / (1.0 - rep), 0.0)
        if prior_ext is not None:
            with np.errstate(divide="ignore"):
                lp_post = np.log(p)
            lp_prior = log_p_kept(*_block_cells(prior_ext, pat_ext, sl))
            out["prior_mean"][sl] = np.exp(lp_prior).mean(axis=0)
            z_post, z_prior = _logit_from_log(lp_post), _logit_from_log(lp_prior)
            sd_prior = z_prior.std(axis=0)
            out["prior_dominated"][sl] = ((z_post.std(axis=0) >= PRIOR_SD_RATIO * sd_prior)
                                          & (np.abs(z_post.mean(axis=0) - z_prior.mean(axis=0)) <= PRIOR_SHIFT * sd_prior))
    return out


def _model_patterns(pat: Patterns):
    """(first index, inverse) of the distinct model inputs among the patterns; None when all differ."""
    if len(pat.state_idx) < 2:
        return None
    key = np.column_stack([pat.state_idx, pat.high_profile, pat.x, pat.monitoring, pat.assurance])
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    return None if len(first) == len(pat.state_idx) else (first, inverse.reshape(-1))


def _take(pat: Patterns, i: np.ndarray) -> Patterns:
    from dataclasses import replace

    return replace(pat, state_idx=pat.state_idx[i], high_profile=pat.high_profile[i], x=pat.x[i],
                   assurance=pat.assurance[i], monitoring=pat.monitoring[i], covariate_found=pat.covariate_found[i])


def _block_cells(draws: PosteriorDraws, pat: Patterns, sl: slice) -> tuple[PosteriorDraws, Cells]:
    """Draws holding only the states a block uses, and the block's cells (so that looking up the
    block's state effects copies a few columns, not every state's)."""
    from dataclasses import replace

    used, idx = np.unique(pat.state_idx[sl], return_inverse=True)
    d = replace(draws, state_effect=draws.state_effect[:, used],
                state_high_profile_effect=draws.state_high_profile_effect[:, used],
                states=tuple(draws.states[i] for i in used))
    return d, cells_for(d, idx, pat.high_profile[sl], pat.x[sl], pat.assurance[sl], pat.monitoring[sl])


def _with_unseen(draws: PosteriorDraws, pat: Patterns) -> tuple[PosteriorDraws, Patterns]:
    """The draws with the unseen states' effects appended as extra states (drawn once), and the
    patterns re-indexed into them, so that blocks need not redraw them."""
    if not pat.unseen_codes:
        return draws, pat
    from dataclasses import replace

    a_new, b_new = draws.unseen_effects(pat.unseen_codes)
    ext = replace(draws, state_effect=np.concatenate([draws.state_effect, a_new], axis=1),
                  state_high_profile_effect=np.concatenate([draws.state_high_profile_effect, b_new], axis=1),
                  states=draws.states + tuple(pat.unseen_codes))
    k = len(draws.states)
    idx = np.where(pat.state_idx >= 0, pat.state_idx, k + (-1 - pat.state_idx))
    return ext, replace(pat, state_idx=idx, unseen_codes=())


def _logit_from_log(log_p: np.ndarray) -> np.ndarray:
    """logit(p) from log(p), stable for p near 0 and 1."""
    return log_p - np.log(-np.expm1(np.minimum(log_p, -1e-300)))


def find_patterns(rows: contract.CaseRows, draws: PosteriorDraws, covariate, x_center: float = 0.0) -> Patterns:
    """Reduce rows to distinct patterns; ``covariate`` is a PTSTable or None (model without covariate)."""
    s_code, s_uniq = rows.state_code, rows.state_levels
    seen_lookup = {s: i for i, s in enumerate(draws.states)}
    unseen = tuple(sorted({str(s) for s in s_uniq if s not in seen_lookup}))
    unseen_lookup = {s: -1 - j for j, s in enumerate(unseen)}
    s_seen_idx = np.array([seen_lookup.get(s, unseen_lookup.get(s, 0)) for s in s_uniq], dtype=np.int64)

    if covariate is None:
        pair_code, pair_state, x_pair, found_pair = s_code, np.arange(len(s_uniq)), None, None
    else:
        y_code, y_uniq = pd.factorize(rows.year, use_na_sentinel=False)
        pair_code, pair_uniq = pd.factorize(s_code.astype(np.int64) * len(y_uniq) + y_code)
        pair_uniq = np.asarray(pair_uniq)
        pair_state = pair_uniq // len(y_uniq)
        x_pair, found_pair = covariate.standardized(s_uniq[pair_state], np.asarray(y_uniq, float)[pair_uniq % len(y_uniq)])
        x_pair = x_pair - x_center

    n_groups = len(contract.ASSURANCE_GROUPS)
    n_levels = len(contract.MONITORING_LEVELS)
    key = ((pair_code.astype(np.int64) * 2 + rows.high_profile.astype(np.int64)) * (1 << n_groups)
           + rows.assurance_mask) * n_levels + rows.monitoring
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
        monitoring=level.astype(np.int64),
        covariate_found=np.ones(n_pat, bool) if found_pair is None else found_pair[pat_pair],
        row_pattern=pat_code,
        unseen_codes=unseen,
    )


def score_rows(df: pd.DataFrame, rows: contract.CaseRows, draws: PosteriorDraws, *, covariate,
               state_counts: dict[str, int], state_type_counts: dict[str, list[int]], converged: bool,
               interval: float, prior: PosteriorDraws | None = None, x_center: float = 0.0) -> pd.DataFrame:
    """The input rows with the score columns appended (existing columns of the same name are replaced).

    The columns are the same for every model; a value a model cannot give (the detection quantities of
    the face-value model, the prior columns of a fit without prior draws) is missing (NaN / <NA>).
    """
    pat = find_patterns(rows, draws, covariate, x_center)
    s = summarize(draws, pat, interval, prior)
    seen = pat.state_idx >= 0
    idx = np.where(seen, pat.state_idx, 0)
    counts = np.array([state_counts.get(x, 0) for x in draws.states] or [0], dtype=np.int64)
    type_counts = np.array([state_type_counts.get(x, [0, 0]) for x in draws.states] or [[0, 0]], dtype=np.int64)
    r = pat.row_pattern
    out = df.copy()
    out["p_honored"] = s["mean"][r]
    out["p_honored_lower"] = s["lower"][r]
    out["p_honored_upper"] = s["upper"][r]
    out["p_breach"] = 1.0 - s["mean"][r]
    out["p_breach_unreported"] = s["unreported"][r]
    out["p_breach_given_unreported"] = s["given_unreported"][r]
    out["p_honored_prior"] = s["prior_mean"][r]
    flag = pd.array(s["prior_dominated"][r], dtype="boolean")
    if prior is None:
        flag[:] = pd.NA
    out["prior_dominated"] = flag
    out["state_seen"] = seen[r]
    out["n_state_cases"] = np.where(seen, counts[idx], 0)[r]
    out["n_state_type_cases"] = np.where(seen, type_counts[idx, pat.high_profile.astype(np.int64)], 0)[r]
    out["covariate_imputed"] = ~pat.covariate_found[r]
    out["covariate_year_outside"] = year_outside(rows, covariate)
    out["receiving_state_code"] = rows.state
    out["converged"] = bool(converged)
    return out


def year_outside(rows: contract.CaseRows, covariate) -> pd.arrays.BooleanArray:
    """Per row: True when the year given lies outside the years the state has a covariate score for
    (the nearest scored year is then used, so the score is an extrapolation); False when it lies
    inside, when no year is given (the latest scored year is used) or when the state has no score at
    all (flagged by ``covariate_imputed``); missing for a model without the covariate."""
    n = len(rows.year)
    if covariate is None:
        return pd.array(np.full(n, pd.NA), dtype="boolean")
    first = np.array([covariate.years[s][0] if s in covariate.years else -np.inf for s in rows.state_levels] or [0.0])
    last = np.array([covariate.years[s][-1] if s in covariate.years else np.inf for s in rows.state_levels] or [0.0])
    with np.errstate(invalid="ignore"):
        outside = (rows.year < first[rows.state_code]) | (rows.year > last[rows.state_code])
    return pd.array(outside & ~np.isnan(rows.year), dtype="boolean")
