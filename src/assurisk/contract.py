"""The case-table contract: every check on user input lives here, vectorised, with exact messages.

A table is a pandas DataFrame, a CSV path, a dict (one row, or columns of equal length) or a list
of dicts. ``find_problems`` lists every breach of the contract; ``parse`` returns clean arrays or
raises :class:`InputError` naming row, column, value and what was expected. Rows are numbered from
1 (row N of a CSV file is on line N+1, after the header).
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from .codes import iso3166_alpha3
from .errors import InputError, Problem

CASE_TYPES = ("ordinary", "high_profile")
OUTCOMES = ("honored", "breached", "unknown")
YES_NO = ("yes", "no")
YEAR_RANGE = (1900, 2100)
MONITORING = ("none", "consular", "independent")
# How verifiable compliance was: the monitoring that existed, or an open court record when every
# promised item is one a court's public record shows (a sentence, a trial, the charges).
VERIFICATION_LEVELS = ("none", "consular", "independent", "public_record")
COURT_VERIFIABLE = frozenset({"death_penalty", "fair_trial", "specialty"})
# What was promised, in the five groups the model gives effects to (codebook token -> group).
ASSURANCE_GROUPS = ("torture", "death_penalty", "fair_trial", "consular_access", "other")
ASSURANCE_GROUP_OF = {"torture": "torture", "detention_conditions": "torture", "death_penalty": "death_penalty",
                      "fair_trial": "fair_trial", "consular_access": "consular_access", "specialty": "other",
                      "other": "other"}
DEFAULT_ASSURANCE = "torture"  # when a table gives no assurance_types (documented in the README)
DEFAULT_MONITORING = "none"  # when a table gives no monitoring: the level that least flatters a state
MAX_LISTED = 20  # problems listed per check before the rest are summarised in one line

Purpose = Literal["fit", "score"]


@dataclass(frozen=True)
class CaseRows:
    """Normalised arrays, one entry per input row, in input order."""

    state_code: np.ndarray  # int per row, into ``state_levels``
    state_levels: np.ndarray  # normalised ISO3 codes (str); may repeat if inputs differed only in case/space
    high_profile: np.ndarray  # bool
    year: np.ndarray  # float; NaN where no year was given
    n_transfers: np.ndarray  # int; transfers this row contributes to the fit (0 if not fitted)
    n_breaches: np.ndarray  # int; breaches among them
    n_unknown: np.ndarray  # int; transfers with no known outcome (used by the monitoring-aware model)
    assurance_mask: np.ndarray  # int bit mask over ASSURANCE_GROUPS
    verification: np.ndarray  # int index into VERIFICATION_LEVELS

    @property
    def state(self) -> np.ndarray:
        """ISO3 code per row, upper case."""
        return self.state_levels[self.state_code]

    @property
    def fitted(self) -> np.ndarray:
        return self.n_transfers > 0

    @property
    def assurance_matrix(self) -> np.ndarray:
        """(rows x 5) 0/1 indicators of the promised groups."""
        return (self.assurance_mask[:, None] >> np.arange(len(ASSURANCE_GROUPS))) & 1


def to_frame(table) -> pd.DataFrame:
    """Accept the table forms the API promises and return a DataFrame (the input is never modified)."""
    if isinstance(table, pd.DataFrame):
        return table
    if isinstance(table, (str, PathLike)):
        path = Path(table)
        if not path.is_file():
            raise InputError(f"cannot read case table {str(path)!r}: no such file")
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise InputError(f"cannot read case table {str(path)!r} as CSV: {exc}") from None
    if isinstance(table, dict):
        if table and all(np.ndim(v) == 0 for v in table.values()):
            return pd.DataFrame([table])
        try:
            return pd.DataFrame(table)
        except ValueError as exc:
            raise InputError(f"cannot make a table from the dict given: {exc}") from None
    if isinstance(table, (list, tuple)):
        if not all(isinstance(r, dict) for r in table):
            raise InputError("a list input must be a list of dicts, one per row")
        return pd.DataFrame(list(table))
    raise InputError(
        f"unsupported table type {type(table).__name__}; expected a DataFrame, CSV path, dict or list of dicts"
    )


def _text(series: pd.Series, upper: bool = False) -> pd.Series:
    """Strip strings and fold case; keep missing values missing."""
    s = series.astype("string").str.strip()
    s = s.str.upper() if upper else s.str.lower()
    return s.mask(s == "")


def _categorical(series: pd.Series, allowed, upper: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalise a code column through its distinct values (fast on millions of rows).

    Returns (codes per row, -1 for blanks; normalised distinct values as str; mask of rows not in ``allowed``).
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    norm = _text(pd.Series(uniques, dtype=object), upper=upper)
    ok = norm.isin(list(allowed)).fillna(False).to_numpy()
    bad = np.ones(len(series), dtype=bool)
    valid = codes >= 0
    bad[valid] = ~ok[codes[valid]]
    return codes, norm.fillna("").to_numpy(dtype=str), bad


def _report(problems: list[Problem], mask: np.ndarray, column: str, values, expected: str) -> None:
    rows = np.flatnonzero(mask)
    for r in rows[:MAX_LISTED]:
        v = values[r]
        problems.append(Problem(int(r), column, None if _isna(v) else v, expected))
    if len(rows) > MAX_LISTED:
        problems.append(
            Problem(None, column, None, f"{len(rows) - MAX_LISTED} more rows break the same rule ({expected})")
        )


def _present(series: pd.Series) -> np.ndarray:
    """Rows where a cell holds something other than a blank."""
    text = series.astype("string").str.strip()
    return (text.notna() & (text != "")).to_numpy(dtype=bool, na_value=False)


def _isna(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))


def _integers(df: pd.DataFrame, column: str, problems: list[Problem], lo: int, hi: int | None, required):
    """Parse an integer column; report non-numbers, fractions, out-of-range and (where required) blanks."""
    raw = df[column]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        num = raw.to_numpy(dtype=float, na_value=np.nan, copy=True)
        blank = np.isnan(num)
    else:
        text = raw.astype("string").str.strip()
        num = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan, copy=True)
        blank = (text.isna() | (text == "")).to_numpy(dtype=bool, na_value=True)
    bad_text = np.isnan(num) & ~blank
    values = raw.to_numpy(dtype=object)
    expected = f"a whole number >= {lo}" + (f" and <= {hi}" if hi is not None else "")
    _report(problems, bad_text, column, values, expected)
    with np.errstate(invalid="ignore"):
        out_of_range = ~np.isnan(num) & ((num != np.round(num)) | (num < lo) | ((num > hi) if hi else False))
    _report(problems, out_of_range, column, values, expected)
    missing = blank & required
    _report(problems, missing, column, values, expected)
    num[bad_text | out_of_range] = np.nan
    return num


def find_problems(table, purpose: Purpose = "fit", *, require_year: bool = False) -> tuple[list[Problem], CaseRows | None]:
    """Check a table against the contract. Returns (problems, rows); rows is None when problems exist."""
    df = to_frame(table)
    n = len(df)
    problems: list[Problem] = []
    if n == 0:
        return [Problem(None, None, None, "the table has no rows")], None
    required = ["receiving_state", "case_type"] + (["year"] if require_year else [])
    missing = [c for c in required if c not in df.columns]
    if purpose == "fit" and "outcome" not in df.columns and "n_transfers" not in df.columns:
        missing.append("outcome (or n_transfers and n_breaches)")
    if "n_transfers" in df.columns and "n_breaches" not in df.columns:
        missing.append("n_breaches")
    if missing:
        have = ", ".join(map(str, df.columns)) or "none"
        return [Problem(None, c, None, f"missing required column {c!r} (columns present: {have})") for c in missing], None

    state_code, state_levels, bad_state = _categorical(df["receiving_state"], iso3166_alpha3(), upper=True)
    _report(problems, bad_state, "receiving_state", df["receiving_state"].to_numpy(dtype=object),
            "an ISO 3166-1 alpha-3 state code such as 'CHN'")

    type_code, type_levels, bad_type = _categorical(df["case_type"], CASE_TYPES)
    _report(problems, bad_type, "case_type", df["case_type"].to_numpy(dtype=object), "'ordinary' or 'high_profile'")

    year = np.full(n, np.nan)
    if "year" in df.columns:
        year = _integers(df, "year", problems, YEAR_RANGE[0], YEAR_RANGE[1], required=require_year)

    n_t = np.zeros(n, dtype=np.int64)
    n_b = np.zeros(n, dtype=np.int64)
    n_u = np.zeros(n, dtype=np.int64)
    if purpose == "fit":
        n_t, n_b, n_u = _fit_counts(df, problems)
    mask, verification = _assurance_and_verification(df, problems)

    if problems:
        return problems, None
    rows = CaseRows(
        state_code=state_code,
        state_levels=state_levels,
        high_profile=(type_levels == "high_profile")[type_code],
        year=year,
        n_transfers=n_t,
        n_breaches=n_b,
        n_unknown=n_u,
        assurance_mask=mask,
        verification=verification,
    )
    return problems, rows


def _assurance_and_verification(df: pd.DataFrame, problems: list[Problem]) -> tuple[np.ndarray, np.ndarray]:
    """Bit mask of promised groups and verification level per row (defaults: torture; monitoring none)."""
    n = len(df)
    mask = np.full(n, 1 << ASSURANCE_GROUPS.index(DEFAULT_ASSURANCE), dtype=np.int64)
    court = np.zeros(n, dtype=bool)
    if "assurance_types" in df.columns:
        codes, uniques = pd.factorize(df["assurance_types"])
        u_mask = np.zeros(len(uniques), dtype=np.int64)
        u_court = np.zeros(len(uniques), dtype=bool)
        u_bad = np.zeros(len(uniques), dtype=bool)
        for i, raw in enumerate(uniques):
            tokens = [t.strip().lower() for t in str(raw).split(";") if t.strip()]
            if not tokens:
                u_mask[i] = mask[0] if n else 0
                continue
            if any(t not in ASSURANCE_GROUP_OF for t in tokens):
                u_bad[i] = True
                continue
            for t in tokens:
                u_mask[i] |= 1 << ASSURANCE_GROUPS.index(ASSURANCE_GROUP_OF[t])
            u_court[i] = all(t in COURT_VERIFIABLE for t in tokens)
        valid = codes >= 0
        bad = np.zeros(n, dtype=bool)
        bad[valid] = u_bad[codes[valid]]
        _report(problems, bad, "assurance_types", df["assurance_types"].to_numpy(dtype=object),
                "a ';'-separated list from " + ", ".join(ASSURANCE_GROUP_OF))
        mask[valid] = np.where(u_bad, mask[0] if n else 0, u_mask)[codes[valid]]
        court[valid] = u_court[codes[valid]]
    level = np.full(n, VERIFICATION_LEVELS.index(DEFAULT_MONITORING), dtype=np.int64)
    if "monitoring" in df.columns:
        codes, levels, bad = _categorical(df["monitoring"], MONITORING)
        blank = codes < 0
        _report(problems, bad & ~blank, "monitoring", df["monitoring"].to_numpy(dtype=object), " | ".join(MONITORING))
        lookup = np.array([VERIFICATION_LEVELS.index(v) if v in MONITORING else 0 for v in levels], dtype=np.int64)
        level[~blank & ~bad] = lookup[codes[~blank & ~bad]]
    level[court] = VERIFICATION_LEVELS.index("public_record")
    return mask, level


def _fit_counts(df: pd.DataFrame, problems: list[Problem]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Transfers and breaches each row gives the face-value model (0, 0 for rows it does not use)."""
    n = len(df)
    transferred = np.ones(n, dtype=bool)
    if "transferred" in df.columns:
        t = _text(df["transferred"])
        bad = ~t.isin(YES_NO).fillna(False).to_numpy()
        _report(problems, bad, "transferred", df["transferred"].to_numpy(dtype=object), "'yes' or 'no'")
        transferred = (t == "yes").fillna(False).to_numpy()

    aggregate = np.zeros(n, dtype=bool)
    n_t = np.zeros(n)
    n_b = np.zeros(n)
    if "n_transfers" in df.columns:
        aggregate = _present(df["n_transfers"])
        n_t = _integers(df, "n_transfers", problems, 0, None, required=False)
        n_b = _integers(df, "n_breaches", problems, 0, None, required=aggregate)
        with np.errstate(invalid="ignore"):
            over = aggregate & (n_b > n_t)
        _report(problems, over, "n_breaches", df["n_breaches"].to_numpy(dtype=object),
                "no more than n_transfers on the same row")
        stray = ~aggregate & _present(df["n_breaches"])
        _report(problems, stray, "n_breaches", df["n_breaches"].to_numpy(dtype=object),
                "empty when n_transfers is empty")

    outcome = pd.Series(pd.NA, index=df.index, dtype="string")
    if "outcome" in df.columns:
        outcome = _text(df["outcome"])
        values = df["outcome"].to_numpy(dtype=object)
        has = outcome.notna().to_numpy()
        bad = has & ~outcome.isin(OUTCOMES).fillna(False).to_numpy()
        _report(problems, bad, "outcome", values, "'honored', 'breached' or 'unknown'")
        both = has & aggregate
        _report(problems, both, "outcome", values, "empty on an aggregate row (one with n_transfers)")
        need = ~has & ~aggregate & transferred
        _report(problems, need, "outcome", values,
                "'honored', 'breached' or 'unknown' for a transferred row (or n_transfers and n_breaches)")
    single = ~aggregate & transferred & outcome.isin(("honored", "breached")).fillna(False).to_numpy()
    breached = (outcome == "breached").fillna(False).to_numpy()
    unknown = ~aggregate & transferred & (outcome == "unknown").fillna(False).to_numpy()
    counts_t = np.where(aggregate & transferred, np.nan_to_num(n_t), 0) + single
    counts_b = np.where(aggregate & transferred, np.nan_to_num(n_b), 0) + (single & breached)
    return counts_t.astype(np.int64), counts_b.astype(np.int64), unknown.astype(np.int64)


def parse(table, purpose: Purpose = "fit", *, require_year: bool = False) -> tuple[pd.DataFrame, CaseRows]:
    """Validate and normalise; raise :class:`InputError` listing every problem found."""
    df = to_frame(table)
    problems, rows = find_problems(df, purpose, require_year=require_year)
    if problems:
        raise InputError(problems)
    return df, rows
