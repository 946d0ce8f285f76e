"""The bundled case dataset: codebook rules (``data/CODEBOOK.md``) as code, and a typed loader.

The core contract (``contract.py``) is what any user table must meet. A table that also carries
codebook columns (``profile``, ``outcome_detail``, ``sources``, ...) is checked against the
codebook's value lists and derivation rules too, so ``validate-data`` checks the bundled file fully.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .codes import NON_STATE_SENDERS, iso3166_alpha3
from .contract import _report, find_problems, frame_problems, to_frame
from .errors import Problem

CODEBOOK_COLUMNS = (
    "case_id", "person", "n_persons", "sending_state", "receiving_state", "year", "transfer_type",
    "transferred", "case_type", "profile", "assurance_kind", "assurance_types", "monitoring", "outcome",
    "outcome_detail", "breach_detected_by", "evidence_strength", "sources", "notes", "second_check",
)
ALLOWED = {
    "transfer_type": ("extradition", "deportation", "rendition", "military_transfer",
                      "detention_of_foreign_national", "other"),
    "profile": ("political_or_security", "high_profile_criminal", "ordinary_criminal"),
    "assurance_kind": ("case_specific", "treaty", "informal"),
    "monitoring": ("none", "consular", "independent"),
    "outcome_detail": ("honored", "breached", "partly_breached", "unknown", "not_transferred"),
    "breach_detected_by": ("court", "un_body", "ngo", "consular", "media", "family_or_lawyer", "government"),
    "evidence_strength": ("strong", "moderate", "weak"),
    "second_check": ("yes", "no"),
}
CONTRACT_CHECKED = {"monitoring"}  # value lists the contract already checks for every table
# Derivation rules of the codebook.
CASE_TYPE_OF_PROFILE = {"political_or_security": "high_profile", "high_profile_criminal": "high_profile",
                        "ordinary_criminal": "ordinary"}
OUTCOME_OF_DETAIL = {"honored": "honored", "breached": "breached", "partly_breached": "breached",
                     "unknown": "unknown", "not_transferred": ""}


def _col(df, name) -> pd.Series:
    return df[name].astype("string").str.strip().fillna("")


def codebook_problems(df: pd.DataFrame) -> list[Problem]:
    """Problems against the codebook, for whichever codebook columns the table has."""
    problems: list[Problem] = []
    cols = set(df.columns)
    for name, allowed in ALLOWED.items():
        if name in cols and name not in CONTRACT_CHECKED:
            v = _col(df, name)
            optional = name == "breach_detected_by"
            bad = ~(v.isin(allowed) | ((v == "") & optional)).to_numpy()
            _report(problems, bad, name, df[name].to_numpy(dtype=object), " | ".join(allowed))
    if "case_id" in cols:
        ids = _col(df, "case_id")
        dup = ids.duplicated(keep="first").to_numpy() | (ids == "").to_numpy()
        _report(problems, dup, "case_id", df["case_id"].to_numpy(dtype=object), "a unique, non-empty slug")
    if "sources" in cols:
        src = _col(df, "sources")
        empty = src.map(lambda s: not any(p.strip() for p in s.split(";"))).to_numpy(dtype=bool)
        _report(problems, empty, "sources", df["sources"].to_numpy(dtype=object), "at least one source")
    if "notes" in cols:
        _report(problems, (_col(df, "notes") == "").to_numpy(), "notes", df["notes"].to_numpy(dtype=object),
                "a note in the coder's own words")
    if "assurance_types" in cols:  # the contract checks the tokens; the codebook also forbids blanks
        blank = (_col(df, "assurance_types").str.replace(";", "").str.strip() == "").to_numpy()
        _report(problems, blank, "assurance_types", df["assurance_types"].to_numpy(dtype=object),
                "at least one promised item (the codebook allows no blank here)")
    if "sending_state" in cols:
        ok = set(iso3166_alpha3()) | set(NON_STATE_SENDERS)
        bad = ~_col(df, "sending_state").isin(ok).to_numpy()
        _report(problems, bad, "sending_state", df["sending_state"].to_numpy(dtype=object),
                "an ISO 3166-1 alpha-3 code or one of " + ", ".join(NON_STATE_SENDERS))
    if "n_persons" in cols:
        n = pd.to_numeric(_col(df, "n_persons"), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad = ~(n >= 1) | (n != np.round(n))
        _report(problems, bad, "n_persons", df["n_persons"].to_numpy(dtype=object), "a whole number >= 1")
    if {"profile", "case_type"} <= cols:
        want = _col(df, "profile").map(CASE_TYPE_OF_PROFILE)
        bad = (want.notna() & (want != _col(df, "case_type").str.lower())).to_numpy(dtype=bool)
        _report(problems, bad, "case_type", df["case_type"].to_numpy(dtype=object),
                "the case type that follows from profile (political_or_security and high_profile_criminal "
                "-> high_profile; ordinary_criminal -> ordinary)")
    if {"outcome_detail", "outcome"} <= cols:
        want = _col(df, "outcome_detail").map(OUTCOME_OF_DETAIL)
        bad = (want.notna() & (want != _col(df, "outcome").str.lower())).to_numpy(dtype=bool)
        _report(problems, bad, "outcome", df["outcome"].to_numpy(dtype=object),
                "the outcome that follows from outcome_detail (partly_breached -> breached; not_transferred -> empty)")
    if {"outcome_detail", "transferred"} <= cols:
        detail, moved = _col(df, "outcome_detail"), _col(df, "transferred").str.lower()
        bad = ((detail == "not_transferred") != (moved == "no")).to_numpy()
        _report(problems, bad, "transferred", df["transferred"].to_numpy(dtype=object),
                "'no' exactly when outcome_detail is not_transferred")
    if {"breach_detected_by", "outcome_detail"} <= cols:
        detail, by = _col(df, "outcome_detail"), _col(df, "breach_detected_by")
        breach = detail.isin(("breached", "partly_breached"))
        bad = ((by != "") != breach).to_numpy()
        _report(problems, bad, "breach_detected_by", df["breach_detected_by"].to_numpy(dtype=object),
                "filled exactly when outcome_detail is breached or partly_breached")
    return problems


def table_problems(table, purpose: str = "fit") -> list[Problem]:
    """Every contract and codebook problem in a table, sorted by row."""
    df = to_frame(table)
    shape = frame_problems(df, CODEBOOK_COLUMNS)
    if shape:  # repeated names or containers in cells: no value can be read reliably
        return shape
    problems, _ = find_problems(df, purpose)
    if len(df) and not any(p.row is None and "missing required column" in p.expected for p in problems):
        problems += codebook_problems(df)
    return sorted(problems, key=lambda p: (p.row is None, p.row or 0, p.column or ""))


def load_cases() -> pd.DataFrame:
    """The bundled ``cases.csv`` with proper dtypes (categoricals for coded columns, Int64 counts)."""
    from .resources import data_path

    df = pd.read_csv(data_path("cases.csv"), dtype=str, keep_default_na=False, na_values=[""])
    df["n_persons"] = df["n_persons"].astype("Int64")
    df["year"] = df["year"].astype("Int64")
    for name, allowed in ALLOWED.items():
        df[name] = pd.Categorical(df[name], categories=allowed)
    df["case_type"] = pd.Categorical(df["case_type"], categories=("ordinary", "high_profile"))
    df["outcome"] = pd.Categorical(df["outcome"], categories=("honored", "breached", "unknown"))
    return df
