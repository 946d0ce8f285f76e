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

from . import states
from .errors import InputError, Problem

CASE_TYPES = ("ordinary", "high_profile")
OUTCOMES = ("honored", "breached", "unknown")
YES_NO = ("yes", "no")
YEAR_RANGE = (1900, 2100)
# What verification existed after transfer. ``not_known`` (coders could not find out) is read by the
# model as ``none``: the level that least flatters a state.
MONITORING = ("none", "consular", "independent", "not_known")
MONITORING_LEVELS = ("none", "consular", "independent")  # what the model distinguishes
# How verifiable one promised item is: the monitoring that existed, or an open court record for the
# items a court's public record shows (a sentence, a trial, the charges). Verified item by item.
VERIFICATION_LEVELS = ("none", "consular", "independent", "public_record")
# What was promised, in the six groups the model gives effects to (codebook token -> group).
ASSURANCE_GROUPS = ("torture", "death_penalty", "fair_trial", "consular_access", "specialty", "other")
ASSURANCE_GROUP_OF = {"torture": "torture", "detention_conditions": "torture", "death_penalty": "death_penalty",
                      "fair_trial": "fair_trial", "consular_access": "consular_access", "specialty": "specialty",
                      "other": "other"}
COURT_VERIFIABLE = frozenset({"death_penalty", "fair_trial", "specialty"})  # groups an open court shows
ITEM_STATUSES = ("unknown", "kept", "broken")  # item_outcomes values; codes 0, 1, 2 (-1: not promised)
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
    n_honored: np.ndarray  # int; transfers whose whole promise was verified as kept
    n_breaches: np.ndarray  # int; transfers with a reported breach
    n_unknown: np.ndarray  # int; transfers with no known outcome
    n_face_honored: np.ndarray  # int; transfers the face-value model reads as honoured (see the README)
    assurance_mask: np.ndarray  # int bit mask over ASSURANCE_GROUPS
    monitoring: np.ndarray  # int index into MONITORING_LEVELS
    item_status: np.ndarray  # (rows x groups) int8: -1 no item-level outcome, else index into ITEM_STATUSES

    @property
    def state(self) -> np.ndarray:
        """ISO3 code per row, upper case."""
        return self.state_levels[self.state_code]

    @property
    def n_transfers(self) -> np.ndarray:
        """Transfers each row contributes to the monitoring-aware model (all outcomes)."""
        return self.n_honored + self.n_breaches + self.n_unknown

    @property
    def has_items(self) -> np.ndarray:
        """Rows whose outcome is coded item by item."""
        return (self.item_status >= 0).any(axis=1)

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

    state_code, state_levels, bad_state = states.categorical(df["receiving_state"])  # codes, names, sovereign only
    _report(problems, bad_state, "receiving_state", df["receiving_state"].to_numpy(dtype=object), states.EXPECTED)

    type_code, type_levels, bad_type = _categorical(df["case_type"], CASE_TYPES)
    _report(problems, bad_type, "case_type", df["case_type"].to_numpy(dtype=object), "'ordinary' or 'high_profile'")

    year = np.full(n, np.nan)
    if "year" in df.columns:
        year = _integers(df, "year", problems, YEAR_RANGE[0], YEAR_RANGE[1], required=require_year)

    zeros = np.zeros(n, dtype=np.int64)
    n_h, n_b, n_u, n_f = zeros, zeros, zeros, zeros
    if purpose == "fit":
        n_h, n_b, n_u, n_f = _fit_counts(df, problems)
    mask, monitoring = _assurance_and_monitoring(df, problems)
    items = np.full((n, len(ASSURANCE_GROUPS)), -1, dtype=np.int8)
    if purpose == "fit" and "item_outcomes" in df.columns:
        items = _item_outcomes(df, problems, n_h, n_b, n_u)

    if problems:
        return problems, None
    rows = CaseRows(
        state_code=state_code,
        state_levels=state_levels,
        high_profile=(type_levels == "high_profile")[type_code],
        year=year,
        n_honored=n_h,
        n_breaches=n_b,
        n_unknown=n_u,
        n_face_honored=n_f,
        assurance_mask=mask,
        monitoring=monitoring,
        item_status=items,
    )
    return problems, rows


def _assurance_and_monitoring(df: pd.DataFrame, problems: list[Problem]) -> tuple[np.ndarray, np.ndarray]:
    """Bit mask of promised groups and monitoring level per row (defaults: torture; monitoring none)."""
    n = len(df)
    mask = np.full(n, 1 << ASSURANCE_GROUPS.index(DEFAULT_ASSURANCE), dtype=np.int64)
    if "assurance_types" in df.columns:
        codes, uniques = pd.factorize(df["assurance_types"])
        u_mask = np.zeros(len(uniques), dtype=np.int64)
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
        valid = codes >= 0
        bad = np.zeros(n, dtype=bool)
        bad[valid] = u_bad[codes[valid]]
        _report(problems, bad, "assurance_types", df["assurance_types"].to_numpy(dtype=object),
                "a ';'-separated list from " + ", ".join(ASSURANCE_GROUP_OF))
        mask[valid] = np.where(u_bad, mask[0] if n else 0, u_mask)[codes[valid]]
    level = np.full(n, MONITORING_LEVELS.index(DEFAULT_MONITORING), dtype=np.int64)
    if "monitoring" in df.columns:
        codes, levels, bad = _categorical(df["monitoring"], MONITORING)
        blank = codes < 0
        _report(problems, bad & ~blank, "monitoring", df["monitoring"].to_numpy(dtype=object), " | ".join(MONITORING))
        lookup = np.array([MONITORING_LEVELS.index(v) if v in MONITORING_LEVELS else 0 for v in levels], dtype=np.int64)
        level[~blank & ~bad] = lookup[codes[~blank & ~bad]]
    return mask, level


def _item_outcomes(df: pd.DataFrame, problems: list[Problem], n_h, n_b, n_u) -> np.ndarray:
    """Per row and item group: -1 (no item-level outcome), else an index into ITEM_STATUSES.

    ``item_outcomes`` lists ``item=kept|broken|unknown`` for exactly the row's promised items; it must
    agree with the row's whole-promise outcome (honoured = every item kept; breached = some item broken).
    Two items of one group (torture and detention_conditions) combine: broken if either is broken,
    kept if both are kept, else unknown.
    """
    n = len(df)
    out = np.full((n, len(ASSURANCE_GROUPS)), -1, dtype=np.int8)
    raw = df["item_outcomes"].to_numpy(dtype=object)
    listed = (df["assurance_types"].to_numpy(dtype=object) if "assurance_types" in df.columns
              else np.full(n, DEFAULT_ASSURANCE, dtype=object))
    single = (n_h + n_b + n_u) == 1
    expected = "';'-list of item=kept|broken|unknown, one for each item in assurance_types"
    for r in np.flatnonzero(_present(df["item_outcomes"])):
        pairs = [t.strip().lower() for t in str(raw[r]).split(";") if t.strip()]
        want = [t.strip().lower() for t in str(listed[r] if not _isna(listed[r]) else DEFAULT_ASSURANCE).split(";") if t.strip()]
        try:
            parsed = [tuple(x.strip() for x in p.split("=")) for p in pairs]
            ok = all(len(p) == 2 and p[1] in ITEM_STATUSES for p in parsed) and [p[0] for p in parsed] == want
        except ValueError:
            ok = False
        if not ok or any(t not in ASSURANCE_GROUP_OF for t in want):
            problems.append(Problem(int(r), "item_outcomes", raw[r], expected))
            continue
        if not single[r]:
            problems.append(Problem(int(r), "item_outcomes", raw[r],
                                    "empty on a row that is not one transfer with an outcome (aggregate or not transferred)"))
            continue
        status = [ITEM_STATUSES.index(s) for _, s in parsed]
        whole = ("breached" if 2 in status else "honored" if all(s == 1 for s in status) else "unknown")
        got = "breached" if n_b[r] else "honored" if n_h[r] else "unknown"
        if whole != got:
            problems.append(Problem(int(r), "item_outcomes", raw[r],
                                    f"item outcomes that agree with outcome {got!r} (they imply {whole!r})"))
            continue
        for (item, _), st in zip(parsed, status):
            g = ASSURANCE_GROUPS.index(ASSURANCE_GROUP_OF[item])
            prev = out[r, g]
            out[r, g] = st if prev < 0 else (2 if 2 in (prev, st) else 1 if prev == st == 1 else 0)
    return out


def _fit_counts(df: pd.DataFrame, problems: list[Problem]):
    """Per row: transfers verified honoured, with a reported breach, with no known outcome, and the
    transfers the face-value model reads as honoured (aggregate rows: every one without a reported breach)."""
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
    n_v = np.zeros(n)
    if "n_honored_verified" in df.columns:
        n_v = _integers(df, "n_honored_verified", problems, 0, None, required=False)
        given = _present(df["n_honored_verified"])
        with np.errstate(invalid="ignore"):
            over = aggregate & given & (np.nan_to_num(n_v) + np.nan_to_num(n_b) > np.nan_to_num(n_t))
        _report(problems, over, "n_honored_verified", df["n_honored_verified"].to_numpy(dtype=object),
                "no more than n_transfers - n_breaches on the same row")
        _report(problems, ~aggregate & given, "n_honored_verified", df["n_honored_verified"].to_numpy(dtype=object),
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
    single = ~aggregate & transferred
    honored = single & (outcome == "honored").fillna(False).to_numpy()
    breached = single & (outcome == "breached").fillna(False).to_numpy()
    unknown = single & (outcome == "unknown").fillna(False).to_numpy()
    agg = aggregate & transferred
    t, b, v = (np.where(agg, np.nan_to_num(a), 0).astype(np.int64) for a in (n_t, n_b, n_v))
    n_h = v + honored
    n_br = b + breached
    n_u = np.maximum(t - b - v, 0) + unknown
    n_face = np.maximum(t - b, 0) + honored
    return n_h.astype(np.int64), n_br.astype(np.int64), n_u.astype(np.int64), n_face.astype(np.int64)


def parse(table, purpose: Purpose = "fit", *, require_year: bool = False) -> tuple[pd.DataFrame, CaseRows]:
    """Validate and normalise; raise :class:`InputError` listing every problem found."""
    df = to_frame(table)
    problems, rows = find_problems(df, purpose, require_year=require_year)
    if problems:
        raise InputError(problems)
    return df, rows
