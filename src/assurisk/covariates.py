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
# The PTS file's WordBank_Code_A uses old World Bank codes for a few states; their ISO 3166-1 alpha-3 codes.
WORLD_BANK_TO_ISO = {"ADO": "AND", "ROM": "ROU", "TMP": "TLS", "ZAR": "COD", "WBG": "PSE", "KSV": "XKX"}
COVARIATE_COLUMNS = ("iso3", "year", "pts_a", "pts_h", "pts_s", "pts_mean", "n_scores")


PTS_REQUIRED = ("WordBank_Code_A", "Year") + PTS_COLUMNS
PTS_SCORES = ("1", "2", "3", "4", "5")


def build_state_covariates(pts_csv: str | Path) -> list[dict]:
    """Derive one row per (ISO3 state, year) with at least one PTS score from the official PTS CSV.

    The PTS file is Windows-1252 with CRLF endings and ``NA`` for missing scores; its
    ``WordBank_Code_A`` is not unique for historical entities (USSR, both Yugoslavias, ...), so
    only codes that are current ISO 3166-1 alpha-3 codes are kept (after mapping the few old World
    Bank codes, e.g. ROM for Romania, to ISO), and uniqueness is checked.
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
            iso = WORLD_BANK_TO_ISO.get(iso, iso)
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


def _write_rows(rows: list[dict], path: str | Path, columns) -> None:
    """Write a derived covariate table atomically (see :mod:`assurisk.safe_write`); None is written blank."""
    from .safe_write import atomic_write

    def write(p):
        with open(p, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
            w.writeheader()
            for r in rows:
                w.writerow({k: ("" if r[k] is None else r[k]) for k in columns})

    atomic_write(path, write)


def write_state_covariates(rows: list[dict], path: str | Path) -> None:
    """Write the derived PTS table atomically."""
    _write_rows(rows, path, COVARIATE_COLUMNS)


FARISS_COLUMNS = ("iso3", "year", "theta_mean", "theta_sd")


def build_fariss_covariates(lhrs_csv: str | Path, pts_csv: str | Path) -> list[dict]:
    """One row per (ISO3 state, year) of Fariss's latent human-rights protection scores (v4.02).

    The LHRS file identifies states by Correlates of War number only; the crosswalk to ISO3 is the
    PTS file's (``COW_Code_N`` -> ``WordBank_Code_A``), taking for each COW number its most recent
    current ISO3 code. COW 365 covers the USSR years too, which therefore map to RUS (documented in
    data/README.md). Higher ``theta`` means more respect for physical integrity.
    """
    raw = Path(pts_csv).read_bytes().decode("cp1252")
    codes = iso3166_alpha3()
    cow_iso: dict[str, tuple[int, str]] = {}
    for r in csv.DictReader(io.StringIO(raw, newline="")):
        iso, cow, year = r["WordBank_Code_A"].strip(), r["COW_Code_N"].strip(), int(r["Year"])
        iso = WORLD_BANK_TO_ISO.get(iso, iso)
        if iso in codes and cow not in ("", "NA") and year >= cow_iso.get(cow, (-1, ""))[0]:
            cow_iso[cow] = (year, iso)
    out: dict[tuple[str, int], dict] = {}
    with open(lhrs_csv, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            hit = cow_iso.get(r["COW"].strip())
            if hit is None or r["theta_mean"] in ("", "NA"):
                continue
            key = (hit[1], int(r["YEAR"]))
            if key in out:
                raise ValueError(f"two LHRS rows map to {key}: check the COW -> ISO3 crosswalk")
            out[key] = {"iso3": key[0], "year": key[1], "theta_mean": round(float(r["theta_mean"]), 4),
                        "theta_sd": round(float(r["theta_sd"]), 4)}
    return [out[k] for k in sorted(out)]


def write_fariss_covariates(rows: list[dict], path: str | Path) -> None:
    """Write the derived Fariss table atomically."""
    _write_rows(rows, path, FARISS_COLUMNS)


@dataclass(frozen=True)
class CovariateLookup:
    """Standardised covariate per (state, year): mean and measurement sd, whether the state has a
    score at all, and whether the year lies outside the years scored for that state."""

    mean: np.ndarray
    sd: np.ndarray
    found: np.ndarray
    outside: np.ndarray


@dataclass(frozen=True)
class CovariateTable:
    """A state-year covariate on a "higher is worse" scale, with its measurement sd, and the
    world-wide centre and scale used to standardise it.

    States without any score get the world distribution itself (mean 0, sd 1 in standardised
    units), so their uncertainty is carried, not hidden by a point imputation.
    """

    years: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    center: float
    scale: float
    sds: dict[str, np.ndarray] | None = None  # raw-scale measurement sd per state-year (None: exact)
    name: str = "pts"

    @property
    def last_year(self) -> int:
        return int(max(y[-1] for y in self.years.values()))

    def lookup(self, state: np.ndarray, year: np.ndarray) -> CovariateLookup:
        """Look up each (state, year), once per distinct pair; NaN year means the state's latest year.

        The nearest scored year is used (the earlier one on ties) and flagged when it differs.
        """
        import pandas as pd

        grp = pd.DataFrame({"s": np.asarray(state, dtype=str), "y": np.asarray(year, dtype=float)}).groupby(
            ["s", "y"], dropna=False, sort=False)
        firsts = grp.head(1)
        n = len(firsts)
        mean, sd, outside = np.full(n, np.nan), np.zeros(n), np.zeros(n, dtype=bool)
        for i, (s, y) in enumerate(zip(firsts["s"], firsts["y"])):
            ys = self.years.get(s)
            if ys is None:
                continue
            j = len(ys) - 1 if np.isnan(y) else int(np.argmin(np.abs(ys - y) + 1e-6 * (ys > y)))
            outside[i] = not np.isnan(y) and (y < ys[0] or y > ys[-1])
            mean[i] = self.values[s][j]
            sd[i] = 0.0 if self.sds is None else self.sds[s][j]
        g = grp.ngroup().to_numpy()
        found = ~np.isnan(mean)
        z = np.where(found, (mean - self.center) / self.scale, 0.0)
        z_sd = np.where(found, sd / self.scale, 1.0)
        return CovariateLookup(z[g], z_sd[g], found[g], outside[g])

    def standardized(self, state: np.ndarray, year: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Standardised mean (0 = world average country-year; 0 for states without a score) and found."""
        lk = self.lookup(state, year)
        return lk.mean, lk.found

    def raw(self, state: np.ndarray, year: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lk = self.lookup(state, year)
        return np.where(lk.found, lk.mean * self.scale + self.center, np.nan), lk.found


PTSTable = CovariateTable  # the name used before there were two covariates


def _read_table(path, value_col: int, sd_col: int | None, sign: float, name: str) -> CovariateTable:
    cols = (0, 1, value_col) + ((sd_col,) if sd_col is not None else ())
    data = np.genfromtxt(path, delimiter=",", names=True, dtype=None, encoding="utf-8", usecols=cols)
    names = data.dtype.names
    iso = data["iso3"].astype(str)
    vals = sign * data[names[2]].astype(float)
    sdv = data[names[3]].astype(float) if sd_col is not None else None
    years: dict[str, np.ndarray] = {}
    values: dict[str, np.ndarray] = {}
    sds: dict[str, np.ndarray] | None = {} if sdv is not None else None
    for s in np.unique(iso):
        m = iso == s
        order = np.argsort(data["year"][m])
        years[s] = data["year"][m][order].astype(float)
        values[s] = vals[m][order]
        if sds is not None:
            sds[s] = sdv[m][order]
    return CovariateTable(years, values, float(vals.mean()), float(vals.std()), sds, name)


def read_pts_table(path: str | Path) -> CovariateTable:
    """The PTS mean (1 best to 5 worst) by state-year; scored values are exact (sd 0)."""
    return _read_table(path, 5, None, 1.0, "pts")


def read_fariss_table(path: str | Path) -> CovariateTable:
    """Fariss's latent protection score with its posterior sd, sign-flipped so that higher is worse."""
    return _read_table(path, 2, 3, -1.0, "fariss")


@cache
def bundled_pts() -> CovariateTable:
    from .resources import data_path

    return read_pts_table(data_path("state_covariates.csv"))


@cache
def bundled_fariss() -> CovariateTable:
    from .resources import data_path

    return read_fariss_table(data_path("state_covariates_fariss.csv"))


def bundled_covariate(name: str | None) -> CovariateTable | None:
    """The bundled table for a model's covariate name ("pts", "fariss") or None."""
    return {"pts": bundled_pts, "fariss": bundled_fariss}[name]() if name else None
