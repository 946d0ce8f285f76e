"""State covariate: the Political Terror Scale (PTS), built from the official file and looked up by state and year.

The derived table (``data/state_covariates.csv``) ships with the package; the raw PTS file does
not (see ``data/README.md`` for provenance and terms). Lookups use the nearest year with a score
(earlier year on ties) and report when a state has no score at all, so the caller can flag it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from .codes import iso3166_alpha3

PTS_COLUMNS = ("PTS_A", "PTS_H", "PTS_S")
COVARIATE_COLUMNS = ("iso3", "year", "pts_a", "pts_h", "pts_s", "pts_mean", "n_scores")


PTS_REQUIRED = ("WordBank_Code_A", "Year") + PTS_COLUMNS
PTS_SCORES = ("1", "2", "3", "4", "5")


def build_state_covariates(pts_csv: str | Path) -> list[dict]:
    """Derive one row per (ISO3 state, year) with at least one PTS score from the official PTS CSV.

    The PTS file is Windows-1252 with CRLF endings and ``NA`` for missing scores; its
    ``WordBank_Code_A`` is not unique for historical entities (USSR, both Yugoslavias, ...), so
    only codes that are current ISO 3166-1 alpha-3 codes are kept, and uniqueness is checked.
    A file that is not a PTS file (wrong columns, undecodable bytes, a score outside 1-5, a year
    that is not a whole number) raises :class:`InputError` naming the line and column.
    """
    from .errors import InputError

    label = str(pts_csv)
    try:
        raw = Path(pts_csv).read_bytes().decode("cp1252")
    except UnicodeDecodeError as exc:
        raise InputError(f"{label!r} is not a PTS file: byte {exc.start} is not Windows-1252 text") from None
    except OSError as exc:
        raise InputError(f"cannot read PTS file {label!r}: {exc.strerror or exc}") from None
    codes = iso3166_alpha3()
    out: dict[tuple[str, int], dict] = {}
    reader = csv.DictReader(io.StringIO(raw, newline=""))
    try:
        missing = [c for c in PTS_REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{label!r} is not a PTS file: it lacks the column(s) {missing}")
        for r in reader:
            line = reader.line_num
            if None in r or any(r[c] is None for c in PTS_REQUIRED):
                raise InputError(f"{label!r}, line {line}: the record has a different number of fields from the header")
            iso = r["WordBank_Code_A"].strip()
            if iso not in codes:
                continue
            for c in PTS_COLUMNS:
                if r[c] not in ("NA", "") + PTS_SCORES:
                    raise InputError(f"{label!r}, line {line}, column {c!r}: got {r[c]!r}, expected a score 1-5 or NA")
            scores = {c: (None if r[c] in ("NA", "") else int(r[c])) for c in PTS_COLUMNS}
            have = [v for v in scores.values() if v is not None]
            if not have:
                continue
            year = r["Year"].strip()
            if not (year.isascii() and year.isdigit() and 1900 <= int(year) <= 2100):
                raise InputError(f"{label!r}, line {line}, column 'Year': got {r['Year']!r}, expected a year 1900-2100")
            key = (iso, int(year))
            if key in out:
                raise InputError(f"{label!r}, line {line}: a second scored row for {key}; check the ISO3 crosswalk")
            out[key] = {
                "iso3": iso,
                "year": key[1],
                "pts_a": scores["PTS_A"],
                "pts_h": scores["PTS_H"],
                "pts_s": scores["PTS_S"],
                "pts_mean": round(sum(have) / len(have), 4),
                "n_scores": len(have),
            }
    except csv.Error as exc:
        raise InputError(f"{label!r} is not a readable CSV (line {reader.line_num}): {exc}") from None
    if not out:
        raise InputError(f"{label!r} holds no scored state-year with a current ISO 3166-1 alpha-3 code: is it the PTS file?")
    return [out[k] for k in sorted(out)]


def write_state_covariates(rows: list[dict], path: str | Path) -> None:
    """Write the derived table atomically (see :mod:`assurisk.safe_write`)."""
    from .safe_write import atomic_write

    def write(p):
        with open(p, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=COVARIATE_COLUMNS, lineterminator="\n")
            w.writeheader()
            for r in rows:
                w.writerow({k: ("" if r[k] is None else r[k]) for k in COVARIATE_COLUMNS})

    atomic_write(path, write)


@dataclass(frozen=True)
class PTSTable:
    """PTS mean by state and year, with the world-wide centre and scale used to standardise it."""

    years: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    center: float
    scale: float

    def raw(self, state: np.ndarray, year: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """PTS mean for each (state, year); NaN year means the latest year. Returns (values, found).

        The nearest year with a score is used (the earlier one on ties); looked up once per distinct pair.
        """
        import pandas as pd

        grp = pd.DataFrame({"s": np.asarray(state, dtype=str), "y": np.asarray(year, dtype=float)}).groupby(
            ["s", "y"], dropna=False, sort=False)
        firsts = grp.head(1)
        uniq = np.full(len(firsts), np.nan)
        for i, (s, y) in enumerate(zip(firsts["s"], firsts["y"])):
            ys = self.years.get(s)
            if ys is None:
                continue
            j = len(ys) - 1 if np.isnan(y) else int(np.argmin(np.abs(ys - y) + 1e-6 * (ys > y)))
            uniq[i] = self.values[s][j]
        out = uniq[grp.ngroup().to_numpy()]
        return out, ~np.isnan(out)

    def standardized(self, state: np.ndarray, year: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Standardised PTS (0 = world average country-year); states without any score get 0 and found=False."""
        raw, found = self.raw(state, year)
        z = (raw - self.center) / self.scale
        return np.where(found, z, 0.0), found


def read_pts_table(path: str | Path) -> PTSTable:
    data = np.genfromtxt(path, delimiter=",", names=True, dtype=None, encoding="utf-8", usecols=(0, 1, 5))
    iso = data["iso3"].astype(str)
    years: dict[str, np.ndarray] = {}
    values: dict[str, np.ndarray] = {}
    for s in np.unique(iso):
        m = iso == s
        order = np.argsort(data["year"][m])
        years[s] = data["year"][m][order].astype(float)
        values[s] = data["pts_mean"][m][order].astype(float)
    allv = data["pts_mean"].astype(float)
    return PTSTable(years, values, float(allv.mean()), float(allv.std()))


@cache
def bundled_pts() -> PTSTable:
    from .resources import data_path

    return read_pts_table(data_path("state_covariates.csv"))
