"""The case-table contract: every check on user input lives here, vectorised, with exact messages.

A table is a pandas DataFrame, a CSV path, a dict (one row, or columns of equal length) or a list
of dicts. ``find_problems`` lists every breach of the contract; ``parse`` returns clean arrays or
raises :class:`InputError` naming row, column, value and what was expected. Rows are numbered from
1 (row N of a CSV file is on line N+1, after the header).
"""

from __future__ import annotations

import io
import re
import stat
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
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
MAX_COUNT = 10**6  # most transfers (or breaches) one row may count; larger counts are refused, never overflowed
MAX_COLUMNS = 10_000  # most columns a CSV may have
CSV_BLOCK_BYTES = 1 << 24  # the longest CSV record (a quoted field may hold newlines) is 16 MiB
COUNT_COLUMNS = ("n_transfers", "n_breaches", "n_honored_verified")
SHA256_ATTR = "assurisk_sha256"  # DataFrame.attrs key: sha256 of the CSV bytes a table was read from
# Every column the contract reads (anything else is carried through untouched).
READ_COLUMNS = ("receiving_state", "case_type", "year", "outcome", "transferred", "monitoring", "assurance_types",
                "item_outcomes") + COUNT_COLUMNS

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
    """Accept the table forms the API promises and return a DataFrame (the input is never modified).

    A CSV path is read with :func:`read_csv_table` (strictly: see there).
    """
    if isinstance(table, pd.DataFrame):
        return table
    if isinstance(table, (str, PathLike)):
        return read_csv_table(table)
    if isinstance(table, dict):
        try:
            if table and all(_is_cell(v) for v in table.values()):
                return pd.DataFrame([table])
            return pd.DataFrame(table)
        except (ValueError, TypeError) as exc:
            raise InputError(f"cannot make a table from the dict given: {exc}") from None
    if isinstance(table, (list, tuple)):
        if not all(isinstance(r, dict) for r in table):
            raise InputError("a list input must be a list of dicts, one per row")
        try:
            return pd.DataFrame(list(table))
        except (ValueError, TypeError) as exc:
            raise InputError(f"cannot make a table from the list given: {exc}") from None
    raise InputError(
        f"unsupported table type {type(table).__name__}; expected a DataFrame, CSV path, dict or list of dicts"
    )


def _is_cell(v) -> bool:
    """A dict value that is one cell (a one-row dict), not a column."""
    try:
        return np.ndim(v) == 0
    except ValueError:  # a ragged list: a column of lists
        return False


class _QuoteCounter(io.RawIOBase):
    """A read-through wrapper that counts double quotes (so an unclosed quote is seen in the same pass)
    and hashes the bytes (so a fit records the sha256 of exactly what it was made from)."""

    def __init__(self, raw):
        import hashlib

        self.raw = raw
        self.quotes = 0
        self.eof = False  # the underlying stream has been read to its end
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        n = self.raw.readinto(buf)
        if not n:
            self.eof = True
        if n:
            chunk = memoryview(buf)[:n].tobytes()
            self.quotes += chunk.count(b'"')
            self.sha256.update(chunk)
        return n


_CELL_ERROR = re.compile(r"In CSV column #(\d+): Row #(\d+): (.*)", re.S)


def read_csv_table(source, *, name: str | None = None) -> pd.DataFrame:
    """Read a CSV table strictly: every cell as text (blank cells missing), nothing repaired in silence.

    ``source`` is a path or a binary file object (e.g. ``sys.stdin.buffer``; ``name`` labels it in
    messages). Refused with :class:`InputError`, naming the row (data rows count from 1; blank lines
    are skipped and not counted) and the column:

    - a record with more or fewer fields than the header (a value added or lost shifts every value
      after it; pandas would move an extra leading field into the index, or pad a short row);
    - a blank or repeated column name (pandas would invent ``Unnamed: 2`` or ``receiving_state.1``);
    - an odd number of double quotes (a quoted field left open swallows every line after it);
    - text that is not UTF-8, a record longer than 16 MiB, more than 10,000 columns.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    label = name or str(source)
    if isinstance(source, (str, PathLike)):
        path = Path(source)
        try:
            mode = path.stat().st_mode
            if stat.S_ISDIR(mode):
                raise InputError(f"cannot read case table {label!r}: it is a folder, not a CSV file")
            if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)):
                raise InputError(f"cannot read case table {label!r}: it is not a regular file")
            raw = open(path, "rb", buffering=0)
        except FileNotFoundError:
            raise InputError(f"cannot read case table {label!r}: no such file") from None
        except OSError as exc:
            raise InputError(f"cannot read case table {label!r}: {exc.strerror or exc}") from None
    elif hasattr(source, "readinto") or hasattr(source, "read"):
        raw = source if hasattr(source, "readinto") else io.BytesIO(source.read())
        path = None
    else:
        raise InputError(f"cannot read a CSV from a {type(source).__name__}; give a path or a binary file")

    bad = BadRecords()
    counter = _QuoteCounter(raw)
    try:
        with quiet_unraisable():
            table = pacsv.read_csv(io.BufferedReader(counter, 1 << 20), **strict_csv_options(CSV_BLOCK_BYTES, bad))
    except pa.ArrowInvalid as exc:
        raise InputError(_csv_error(label, str(exc))) from None
    except OSError as exc:
        raise InputError(f"cannot read case table {label!r}: {exc.strerror or exc}") from None
    finally:
        if path is not None:
            raw.close()

    bad.check()
    if counter.quotes % 2:
        raise InputError(f"cannot read case table {label!r} as CSV: {ODD_QUOTES}")
    if table.num_columns > MAX_COLUMNS or any(t != pa.string() for t in table.schema.types):
        raise InputError(f"cannot read case table {label!r}: more than {MAX_COLUMNS} columns")
    header = [table.column(i)[0].as_py() for i in range(table.num_columns)]
    check_header(header)
    df = table.slice(1).to_pandas(types_mapper=_string_dtype)
    df.columns = header
    df.attrs[SHA256_ATTR] = counter.sha256.hexdigest()
    return df


def check_header(header: list) -> None:
    """Refuse a CSV header with a blank or repeated column name (pandas would rename them in silence)."""
    problems = []
    for i, h in enumerate(header):
        if h is None or not str(h).strip():
            problems.append(Problem(None, None, None, f"the header's column {i + 1} has no name (got {h or ''!r}); "
                                                      "every column needs one"))
    seen: dict[str, list[int]] = {}
    for i, h in enumerate(header):
        if h is not None and str(h).strip():
            seen.setdefault(h, []).append(i + 1)
    for h, where in seen.items():
        if len(where) > 1:
            problems.append(Problem(None, h, None, "one column name, used once; the header repeats it (columns "
                                                   + ", ".join(map(str, where)) + ")"))
    if problems:
        raise InputError(problems)


class BadRecords:
    """pyarrow's ``invalid_row_handler`` for both CSV readers: skip records with the wrong number of
    fields while keeping the first few for the message; ``check`` refuses the table if there were any."""

    def __init__(self):
        self.rows: list = []
        self.n = 0

    def __call__(self, row):
        self.n += 1
        if len(self.rows) < MAX_LISTED:
            self.rows.append(row)
        return "skip"

    def check(self) -> None:
        if self.n:
            raise InputError(bad_record_problems(self.rows, self.n))


def strict_csv_options(block_size: int, on_bad) -> dict:
    """pyarrow CSV options shared by the whole-table and the chunked reader: every cell as text, the
    header read as the first record (checked by :func:`check_header`), blank cells missing."""
    import pyarrow.csv as pacsv

    return {"read_options": pacsv.ReadOptions(use_threads=False, autogenerate_column_names=True, block_size=block_size),
            "parse_options": pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_bad),
            "convert_options": pacsv.ConvertOptions(column_types=_csv_types()[0], strings_can_be_null=True,
                                                    null_values=[""], quoted_strings_can_be_null=True)}


@contextmanager
def quiet_unraisable():
    """pyarrow reports a record it cannot decode for the invalid-row handler as "Exception ignored" on
    stderr; the record is refused with its row instead, so that report is silenced while reading."""
    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        yield
    finally:
        sys.unraisablehook = hook


def bad_record_problems(bad_rows: list, n_bad: int) -> list[Problem]:
    """Problems for CSV records with the wrong number of fields (pyarrow's invalid rows)."""
    width = bad_rows[0].expected_columns
    problems = [Problem(None if r.number is None else r.number - 2, None, r.text,
                        f"{width} fields, as many as the header has (this record has {r.actual_columns}: a "
                        "value was added or lost, which would shift every value after it)") for r in bad_rows]
    if n_bad > len(bad_rows):
        problems.append(Problem(None, None, None, f"{n_bad - len(bad_rows)} more records have the wrong number of fields"))
    return problems


ODD_QUOTES = ("it holds an odd number of double quotes, so a quoted field is left open (it would swallow the "
              "lines after it) or a bare quote stands inside an unquoted field (quote the field and double the "
              'quote: "5\'11""")')


@cache
def _csv_types():
    """(column types forcing every CSV column to text, the pandas dtype read_csv(dtype=str) gives)."""
    import pyarrow as pa

    return ({f"f{i}": pa.string() for i in range(MAX_COLUMNS + 1)}, pd.StringDtype("pyarrow", na_value=np.nan))


def _string_dtype(t):
    import pyarrow as pa

    return _csv_types()[1] if t == pa.string() else None


_ROW_ERROR = re.compile(r"CSV parse error: Row #(\d+): Expected (\d+) columns, got (\d+): (.*)", re.S)


def _csv_error(label: str, msg: str) -> str:
    m = _ROW_ERROR.match(msg)
    if m:  # a record with the wrong number of fields that is not UTF-8 text either
        rec, want, got, text = int(m.group(1)), m.group(2), m.group(3), m.group(4)
        return str(Problem(rec - 2, None, text, f"{want} fields, as many as the header has (this record has {got}: a "
                                                "value was added or lost, which would shift every value after it)"))
    m = _CELL_ERROR.match(msg)
    if m:
        col, rec, what = int(m.group(1)), int(m.group(2)), m.group(3)
        what = "text that is not UTF-8" if "UTF8" in what else what
        return f"cannot read case table {label!r} as CSV: row {rec - 1}, column {col + 1}: {what}"
    if "Empty CSV file" in msg:
        return f"cannot read case table {label!r}: the file is empty (expected a header line and rows)"
    if "straddling" in msg or "straddles" in msg:
        return (f"cannot read case table {label!r} as CSV: a record is longer than {CSV_BLOCK_BYTES >> 20} MiB "
                "(or a quoted field is never closed)")
    return f"cannot read case table {label!r} as CSV: {msg}"


def frame_problems(df: pd.DataFrame, columns=READ_COLUMNS) -> list[Problem]:
    """Problems with the table's shape before any value is read: repeated or multi-level column names,
    and cells of the ``columns`` that are read (default: the contract's) holding bytes, a list, a dict
    or another container."""
    if isinstance(df.columns, pd.MultiIndex):
        return [Problem(None, None, None, "the table has multi-level column names; give one name per column")]
    problems: list[Problem] = []
    names = pd.Index(df.columns)
    dup = set(names[names.duplicated()])
    for c in names.unique():
        if c in dup:
            problems.append(Problem(None, c, None, f"one column of that name; the table has {int((names == c).sum())} "
                                                   "(duplicate column names)"))
    for c in columns:
        if c not in names or c in dup:
            continue
        s = df[c]
        dtype = s.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            values = pd.Series(dtype.categories, dtype=object)
            if pd.api.types.infer_dtype(values, skipna=True) not in _SCALAR_KINDS:
                problems.append(Problem(None, c, None, "text or numbers (its categories include other things)"))
        elif dtype == object:
            if pd.api.types.infer_dtype(s, skipna=True) not in _SCALAR_KINDS:
                bad = ~s.map(_plain_cell).to_numpy(dtype=bool)
                _report(problems, bad, c, s.to_numpy(dtype=object),
                        "one value (text or a number) per cell, not bytes, a list, dict or other container")
        elif not (isinstance(dtype, pd.StringDtype) or dtype.kind in "biuf"):
            problems.append(Problem(None, c, None, f"text or numbers (the column holds {dtype})"))
    return problems


def _plain_cell(v) -> bool:
    return pd.api.types.is_scalar(v) and not isinstance(v, (bytes, bytearray, memoryview))


_SCALAR_KINDS = frozenset({"string", "empty", "integer", "floating", "mixed-integer-float", "boolean", "decimal"})


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
    else:  # through the distinct values: a million rows hold a few dozen years
        codes, uniques = pd.factorize(raw.astype("string"), use_na_sentinel=True)
        text = pd.Series(uniques, dtype="string").str.strip()
        u_num = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan, copy=True)
        u_blank = (text.isna() | (text == "")).to_numpy(dtype=bool, na_value=True)
        valid = codes >= 0
        num = np.full(len(raw), np.nan)
        num[valid] = u_num[codes[valid]]
        blank = np.ones(len(raw), dtype=bool)
        blank[valid] = u_blank[codes[valid]]
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
    """Check a table against the contract. Returns (problems, rows); rows is None when problems exist.

    Count columns (``n_transfers``, ``n_breaches``, ``n_honored_verified``) are checked whenever they
    are present, for scoring too: a table with impossible counts is refused, not scored.
    """
    df = to_frame(table)
    if purpose not in ("fit", "score"):
        raise InputError(f"purpose must be 'fit' or 'score', got {purpose!r}")
    n = len(df)
    problems: list[Problem] = frame_problems(df)
    if problems:
        return problems, None
    if n == 0:
        return [Problem(None, None, None, "the table has no rows")], None
    required = ["receiving_state", "case_type"] + (["year"] if require_year else [])
    missing = [c for c in required if c not in df.columns]
    if purpose == "fit" and "outcome" not in df.columns and "n_transfers" not in df.columns:
        missing.append("outcome (or n_transfers and n_breaches)")
    if "n_transfers" in df.columns and "n_breaches" not in df.columns:
        missing.append("n_breaches")
    if "n_transfers" not in df.columns and any(c in df.columns for c in COUNT_COLUMNS[1:]):
        missing.append("n_transfers")
    if missing:
        have = ", ".join(map(repr, df.columns[:30])) + (f" and {len(df.columns) - 30} more" if len(df.columns) > 30 else "")
        return [Problem(None, c, None, f"missing required column {c!r} (columns present: {have or 'none'})")
                for c in missing], None

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
    elif "n_transfers" in df.columns:
        _aggregate_counts(df, problems)  # checked, not used: a table with impossible counts is not scored
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


def _aggregate_counts(df: pd.DataFrame, problems: list[Problem]):
    """Check the count columns: whole numbers in [0, MAX_COUNT], n_breaches + n_honored_verified <=
    n_transfers, and no count on a row without n_transfers. Returns (aggregate rows, n_t, n_b, n_v)."""
    n = len(df)
    aggregate = np.zeros(n, dtype=bool)
    n_t = np.zeros(n)
    n_b = np.zeros(n)
    n_v = np.zeros(n)
    if "n_transfers" in df.columns:
        aggregate = _present(df["n_transfers"])
        n_t = _integers(df, "n_transfers", problems, 0, MAX_COUNT, required=False)
        n_b = _integers(df, "n_breaches", problems, 0, MAX_COUNT, required=aggregate)
        with np.errstate(invalid="ignore"):
            over = aggregate & (n_b > n_t)
        _report(problems, over, "n_breaches", df["n_breaches"].to_numpy(dtype=object),
                "no more than n_transfers on the same row")
        stray = ~aggregate & _present(df["n_breaches"])
        _report(problems, stray, "n_breaches", df["n_breaches"].to_numpy(dtype=object),
                "empty when n_transfers is empty")
    if "n_honored_verified" in df.columns:
        n_v = _integers(df, "n_honored_verified", problems, 0, MAX_COUNT, required=False)
        given = _present(df["n_honored_verified"])
        with np.errstate(invalid="ignore"):
            over = aggregate & given & (np.nan_to_num(n_v) + np.nan_to_num(n_b) > np.nan_to_num(n_t))
        _report(problems, over, "n_honored_verified", df["n_honored_verified"].to_numpy(dtype=object),
                "no more than n_transfers - n_breaches on the same row")
        _report(problems, ~aggregate & given, "n_honored_verified", df["n_honored_verified"].to_numpy(dtype=object),
                "empty when n_transfers is empty")

    return aggregate, n_t, n_b, n_v


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

    aggregate, n_t, n_b, n_v = _aggregate_counts(df, problems)

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
