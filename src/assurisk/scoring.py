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
from .errors import FitFileError, InputError, Problem

BLOCK_ELEMENTS = 500_000  # draws x patterns x items evaluated at once (~4 MB of float64: stays in cache; 4_000_000 was 2x slower)


# prior_dominated (documented in docs/model.md): a cell rests on the prior when the record holds fewer
# than N_DIRECT_MIN transfers with a known outcome of its case type for one of its promised items, or
# when the record removes less than CONTRACTION_MIN of the prior's variance of its log-odds.
N_DIRECT_MIN = 3
CONTRACTION_MIN = 0.5
SCORE_COLUMNS = ("p_honored", "p_honored_lower", "p_honored_upper", "p_breach", "p_breach_unreported",
                 "p_breach_given_unreported", "p_honored_prior", "prior_contraction", "n_direct", "n_direct_state",
                 "prior_dominated",
                 "state_seen", "n_state_cases",
                 "n_state_type_cases", "covariate_imputed", "covariate_year_outside", "receiving_state_code",
                 "converged")


@dataclass(frozen=True)
class Patterns:
    """Distinct case patterns and, for every input row, which pattern it is."""

    state_idx: np.ndarray  # index into draws.states, or -1 - j for unseen_codes[j]
    high_profile: np.ndarray  # float 0/1
    x: np.ndarray  # centred, standardised covariate (mean)
    assurance: np.ndarray  # (patterns x items) 0/1 promised items
    monitoring: np.ndarray  # int index into MONITORING_LEVELS
    covariate_found: np.ndarray  # bool
    row_pattern: np.ndarray  # int, per input row
    unseen_codes: tuple = ()  # codes of the states the fit has not seen, in the order state_idx refers to
    x_sd: np.ndarray | None = None  # measurement sd of the covariate (0: exact)
    t: np.ndarray | None = None  # decades from the record's centre (None: no time effect)
    keys: np.ndarray | None = None  # "STATE:year" per pattern, seeds the covariate's measurement error
    year_outside: np.ndarray | None = None  # bool: the year lies outside the covariate's scored years

    def cells(self, draws: PosteriorDraws, cols=slice(None)) -> Cells:
        noise = None
        if self.x_sd is not None and (self.x_sd[cols] > 0).any():
            noise = draws.covariate_noise(self.keys[cols], self.x_sd[cols])
        return cells_for(draws, self.state_idx[cols], self.high_profile[cols], self.x[cols],
                         self.assurance[cols], self.monitoring[cols], self.unseen_codes,
                         None if self.t is None else self.t[cols], noise)


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


SUMMARY_KEYS = ("mean", "lower", "upper", "unreported", "given_unreported", "prior_mean", "contraction")
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
        return list(zip(code.tolist(), pat.high_profile.tolist(), pat.x.tolist(), pat.monitoring.tolist(), items,
                        _noise_keys(pat).tolist(), _times(pat).tolist()))

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
        return {k: np.array(c, dtype=float) for k, c in zip(SUMMARY_KEYS, cols)}


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
    (with ``prior``) the prior mean and the prior-to-posterior contraction of the log-odds. Computed
    in blocks to bound memory.

    Patterns that are the same to the model (same state, case type, covariate value and error, time,
    promise and monitoring; e.g. two years with the same PTS score) are computed once, and, while a
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
    out = {k: np.full(n_pat, np.nan) for k in ("mean", "lower", "upper", "unreported", "given_unreported", "prior_mean",
                                                "contraction")}
    tails = [(1.0 - interval) / 2.0, (1.0 + interval) / 2.0]
    for sl in _block(draws, n_pat):
        c = pat.cells(draws, sl)
        probs = outcome_probabilities(draws, c)
        p = probs["kept"]
        out["mean"][sl] = p.mean(axis=0)
        out["lower"][sl], out["upper"][sl] = np.quantile(p, tails, axis=0)
        if draws.detection is not None:
            breach = (1.0 - p).mean(axis=0)
            rep = probs["breach_reported"].mean(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                out["unreported"][sl] = np.where(breach > 0, 1.0 - rep / breach, 0.0)
                out["given_unreported"][sl] = np.where(rep < 1, (breach - rep) / (1.0 - rep), 0.0)
        if prior is not None:
            lp_post = log_p_kept(draws, c)
            lp_prior = log_p_kept(prior, pat.cells(prior, sl))
            out["prior_mean"][sl] = np.exp(lp_prior).mean(axis=0)
            z_post, z_prior = _logit_from_log(lp_post), _logit_from_log(lp_prior)
            var_prior = z_prior.var(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                out["contraction"][sl] = np.where(var_prior > 0, 1.0 - z_post.var(axis=0) / var_prior, np.nan)
    return out


def direct_evidence(pat: Patterns, item_known: dict | None) -> np.ndarray | None:
    """Per pattern: the fewest transfers with a known outcome in the record, of the pattern's case
    type, among the items it promises (None when the fit does not record them)."""
    if not item_known:
        return None
    known = np.array([item_known[g] for g in contract.ASSURANCE_GROUPS], dtype=float)  # (items, 2)
    per_item = known[:, pat.high_profile.astype(np.int64)].T  # (patterns, items)
    promised = pat.assurance > 0
    return np.where(promised, per_item, np.inf).min(axis=1).astype(np.int64)


def direct_state_evidence(pat: Patterns, states, item_state_known: dict | None) -> np.ndarray | None:
    """Per pattern: the same count as :func:`direct_evidence`, from the pattern's own state only
    (0 for a state the record does not hold)."""
    if not item_state_known:
        return None
    groups = contract.ASSURANCE_GROUPS
    table = np.zeros((len(states) + 1, len(groups), 2))
    for i, s in enumerate(states):
        if s in item_state_known:
            table[i] = [item_state_known[s][g] for g in groups]
    idx = np.where(pat.state_idx >= 0, pat.state_idx, len(states))
    per_item = table[idx[:, None], np.arange(len(groups))[None, :], pat.high_profile.astype(np.int64)[:, None]]
    return np.where(pat.assurance > 0, per_item, np.inf).min(axis=1).astype(np.int64)


def prior_dominated(n_direct: np.ndarray, contraction: np.ndarray) -> np.ndarray:
    """The documented rule: too little direct evidence, or too little prior-to-posterior contraction."""
    return (n_direct < N_DIRECT_MIN) | ~(np.nan_to_num(contraction, nan=0.0) >= CONTRACTION_MIN)


def check_finite(s: dict, pat: Patterns, *, detection: bool, prior: bool) -> None:
    """Refuse scores that are not probabilities: finite values in [0, 1] for every pattern (detection and
    prior columns where the model gives them). A fit whose draws are finite but absurd ends here."""
    checks = [s["mean"], s["lower"], s["upper"]]
    checks += [s[k] for k in ("unreported", "given_unreported") if detection]
    checks += [s["prior_mean"]] if prior else []
    for a in checks:
        bad = ~(np.isfinite(a) & (a >= 0.0) & (a <= 1.0))
        if bad.any():
            row = int(np.flatnonzero(np.isin(pat.row_pattern, np.flatnonzero(bad)))[0])
            raise FitFileError(f"the fit gives a score that is not a probability (row {row + 1}: {a[bad][0]!r}): its "
                               "posterior draws are damaged or not from an assurisk model; refit or use another fit")


def _noise_keys(pat: Patterns) -> np.ndarray:
    """Per pattern, what seeds its covariate's measurement error: its "STATE:year" key when the
    covariate is uncertain, else "" (so exact patterns with equal values are the same to the model)."""
    n = len(pat.state_idx)
    if pat.x_sd is None or pat.keys is None:
        return np.full(n, "", dtype=object)
    return np.where(pat.x_sd > 0, pat.keys, "").astype(object)


def _times(pat: Patterns) -> np.ndarray:
    return np.zeros(len(pat.state_idx)) if pat.t is None else pat.t


def _model_patterns(pat: Patterns):
    """(first index, inverse) of the distinct model inputs among the patterns; None when all differ."""
    if len(pat.state_idx) < 2:
        return None
    sd = np.zeros(len(pat.state_idx)) if pat.x_sd is None else pat.x_sd
    _, noise = np.unique(_noise_keys(pat).astype(str), return_inverse=True)
    key = np.column_stack([pat.state_idx, pat.high_profile, pat.x, sd, _times(pat), noise.reshape(-1),
                           pat.monitoring, pat.assurance])
    _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
    return None if len(first) == len(pat.state_idx) else (first, inverse.reshape(-1))


def _take(pat: Patterns, i: np.ndarray) -> Patterns:
    from dataclasses import replace

    opt = {k: (None if getattr(pat, k) is None else getattr(pat, k)[i]) for k in ("x_sd", "t", "keys", "year_outside")}
    return replace(pat, state_idx=pat.state_idx[i], high_profile=pat.high_profile[i], x=pat.x[i],
                   assurance=pat.assurance[i], monitoring=pat.monitoring[i], covariate_found=pat.covariate_found[i],
                   row_pattern=np.arange(len(i)), **opt)


def _logit_from_log(log_p: np.ndarray) -> np.ndarray:
    """logit(p) from log(p), stable for p near 0 and 1."""
    return log_p - np.log(-np.expm1(np.minimum(log_p, -1e-300)))


def find_patterns(rows: contract.CaseRows, draws: PosteriorDraws, covariate, x_center: float = 0.0,
                  time: tuple[float, float] | None = None) -> Patterns:
    """Reduce rows to distinct patterns.

    ``covariate`` is a CovariateTable or None (model without covariate); ``time`` is (centre year,
    year used when a row gives none) for a model with a time effect, else None.
    """
    s_code, s_uniq = rows.state_code, rows.state_levels
    seen_lookup = {s: i for i, s in enumerate(draws.states)}
    unseen = tuple(sorted({str(s) for s in s_uniq if s not in seen_lookup}))
    unseen_lookup = {s: -1 - j for j, s in enumerate(unseen)}
    s_seen_idx = np.array([seen_lookup.get(s, unseen_lookup.get(s, 0)) for s in s_uniq], dtype=np.int64)

    by_year = covariate is not None or time is not None
    if not by_year:
        pair_code, pair_state = s_code, np.arange(len(s_uniq))
        n_pair = len(s_uniq)
        x_pair, sd_pair, found_pair, out_pair = np.zeros(n_pair), np.zeros(n_pair), np.ones(n_pair, bool), np.zeros(n_pair, bool)
        t_pair, key_pair = None, np.array(s_uniq, dtype=object)
    else:
        y_code, y_uniq = pd.factorize(rows.year, use_na_sentinel=False)
        pair_code, pair_uniq = pd.factorize(s_code.astype(np.int64) * len(y_uniq) + y_code)
        pair_uniq = np.asarray(pair_uniq)
        pair_state = pair_uniq // len(y_uniq)
        pair_year = np.asarray(y_uniq, float)[pair_uniq % len(y_uniq)]
        n_pair = len(pair_uniq)
        if covariate is None:
            x_pair, sd_pair, found_pair, out_pair = np.zeros(n_pair), np.zeros(n_pair), np.ones(n_pair, bool), np.zeros(n_pair, bool)
        else:
            lk = covariate.lookup(s_uniq[pair_state], pair_year)
            x_pair, sd_pair, found_pair, out_pair = lk.mean - x_center, lk.sd, lk.found, lk.outside
        t_pair = None
        if time is not None:
            center, default_year = time
            t_pair = (np.where(np.isnan(pair_year), default_year, pair_year) - center) / 10.0
        key_pair = np.array([f"{s}:{'' if np.isnan(y) else int(y)}" for s, y in zip(s_uniq[pair_state], pair_year)],
                            dtype=object)

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
    return Patterns(
        state_idx=s_seen_idx[pair_state[pat_pair]],
        high_profile=hp.astype(float),
        x=x_pair[pat_pair],
        assurance=((mask[:, None] >> np.arange(n_groups)) & 1).astype(float),
        monitoring=level.astype(np.int64),
        covariate_found=found_pair[pat_pair],
        row_pattern=pat_code,
        unseen_codes=unseen,
        x_sd=sd_pair[pat_pair],
        t=None if t_pair is None else t_pair[pat_pair],
        keys=key_pair[pat_pair],
        year_outside=out_pair[pat_pair],
    )


def score_rows(df: pd.DataFrame, rows: contract.CaseRows, draws: PosteriorDraws, *, covariate,
               state_counts: dict[str, int], state_type_counts: dict[str, list[int]], converged: bool,
               interval: float, prior: PosteriorDraws | None = None, x_center: float = 0.0,
               time: tuple[float, float] | None = None, item_known: dict | None = None,
               item_state_known: dict | None = None) -> pd.DataFrame:
    """The input rows with the score columns appended .

    An input column with the name of a score column is refused (it would be overwritten), and so is a
    score that is not a finite probability (a damaged fit). The columns are the same for every model;
    a value a model cannot give (the detection quantities of the face-value model, the prior columns of
    a fit without prior draws) is missing (NaN / <NA>).
    """
    clash = [c for c in SCORE_COLUMNS if c in df.columns]
    if clash:
        raise InputError([Problem(None, c, None, "the table already has this score column, and scoring would "
                                                 "overwrite it; rename or drop it (e.g. df.drop(columns="
                                                 "assurisk.scoring.SCORE_COLUMNS, errors='ignore'))")
                          for c in clash])
    pat = find_patterns(rows, draws, covariate, x_center, time)
    s = summarize(draws, pat, interval, prior)
    check_finite(s, pat, detection=draws.detection is not None, prior=prior is not None)
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
    out["prior_contraction"] = s["contraction"][r]
    direct = direct_evidence(pat, item_known)
    out["n_direct"] = pd.array(direct[r] if direct is not None else np.full(len(r), pd.NA), dtype="Int64")
    own = direct_state_evidence(pat, draws.states, item_state_known)
    out["n_direct_state"] = pd.array(own[r] if own is not None else np.full(len(r), pd.NA), dtype="Int64")
    flag = pd.array(np.full(len(r), pd.NA), dtype="boolean")
    if prior is not None and direct is not None:
        flag = pd.array(prior_dominated(direct, s["contraction"])[r], dtype="boolean")
    out["prior_dominated"] = flag
    out["state_seen"] = seen[r]
    out["n_state_cases"] = np.where(seen, counts[idx], 0)[r]
    out["n_state_type_cases"] = np.where(seen, type_counts[idx, pat.high_profile.astype(np.int64)], 0)[r]
    out["covariate_imputed"] = ~pat.covariate_found[r]
    outside = pd.array(pat.year_outside[r], dtype="boolean")
    if covariate is None:  # a model without the covariate has no scored years to be outside of
        outside[:] = pd.NA
    out["covariate_year_outside"] = outside
    out["receiving_state_code"] = rows.state
    out["converged"] = bool(converged)
    return out
