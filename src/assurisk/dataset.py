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
    "transferred", "case_type", "profile", "case_type_criteria", "promise_context", "formality", "assurance_kind",
    "assurance_types", "item_outcomes", "monitoring", "outcome", "outcome_detail", "breach_gravity",
    "breach_detected_by", "evidence_strength", "sources", "citations", "accessed", "judgement_call", "notes",
    "second_check",
)
ALLOWED = {
    "transfer_type": ("extradition", "deportation", "rendition", "military_transfer",
                      "detention_of_foreign_national", "other"),
    "profile": ("political_or_security", "high_profile_criminal", "ordinary_criminal"),
    "promise_context": ("transfer_condition", "standing_obligation", "after_transfer"),
    "formality": ("treaty", "memorandum", "diplomatic_note", "case_letter", "oral"),
    "assurance_kind": ("case_specific", "treaty", "informal"),
    "monitoring": ("none", "consular", "independent", "not_known"),
    "outcome_detail": ("honored", "breached", "partly_breached", "unknown", "not_transferred"),
    "breach_gravity": ("grave", "minor"),
    "breach_detected_by": ("court", "un_body", "ngo", "consular", "media", "family_or_lawyer", "government"),
    "evidence_strength": ("strong", "moderate", "weak"),
    "second_check": ("yes", "no"),
}
OPTIONAL = {"breach_gravity", "breach_detected_by"}  # empty unless the outcome is a breach
CONTRACT_CHECKED = {"monitoring"}  # value lists the contract already checks for every table
CASE_TYPE_CRITERIA = ("political", "security", "prominence", "state_interest", "media")
# Derivation rules of the codebook.
CASE_TYPE_OF_PROFILE = {"political_or_security": "high_profile", "high_profile_criminal": "high_profile",
                        "ordinary_criminal": "ordinary"}
OUTCOME_OF_DETAIL = {"honored": "honored", "breached": "breached", "partly_breached": "breached",
                     "unknown": "unknown", "not_transferred": ""}
KIND_OF_FORMALITY = {"treaty": "treaty", "memorandum": "treaty", "diplomatic_note": "case_specific",
                     "case_letter": "case_specific", "oral": "informal"}


def profile_of_criteria(criteria: str) -> str:
    """The written case-type test: political or security -> political_or_security; prominence or state
    interest -> high_profile_criminal; otherwise (media attention alone included) ordinary_criminal."""
    c = {t.strip() for t in str(criteria).split(";") if t.strip()}
    if c & {"political", "security"}:
        return "political_or_security"
    if c & {"prominence", "state_interest"}:
        return "high_profile_criminal"
    return "ordinary_criminal"


def whole_promise(item_outcomes: str) -> str | None:
    """The whole-promise outcome that item outcomes imply (the codebook's mixed-outcome rule)."""
    st = [p.split("=", 1)[1].strip() for p in str(item_outcomes).split(";") if "=" in p]
    if not st:
        return None
    if "broken" in st:
        return "partly_breached" if "kept" in st else "breached"
    return "honored" if all(x == "kept" for x in st) else "unknown"


def _col(df, name) -> pd.Series:
    return df[name].astype("string").str.strip().fillna("")


def codebook_problems(df: pd.DataFrame) -> list[Problem]:
    """Problems against the codebook, for whichever codebook columns the table has."""
    problems: list[Problem] = []
    cols = set(df.columns)

    def report(mask, column, expected):
        _report(problems, np.asarray(mask, dtype=bool), column, df[column].to_numpy(dtype=object), expected)

    for name, allowed in ALLOWED.items():
        if name in cols and name not in CONTRACT_CHECKED:
            v = _col(df, name)
            bad = ~(v.isin(allowed) | ((v == "") & (name in OPTIONAL))).to_numpy()
            report(bad, name, " | ".join(allowed))
    if "case_id" in cols:
        ids = _col(df, "case_id")
        dup = ids.duplicated(keep="first").to_numpy() | (ids == "").to_numpy()
        report(dup, "case_id", "a unique, non-empty slug")
    if "sources" in cols:
        src = [[p.strip() for p in s.split(";") if p.strip()] for s in _col(df, "sources")]
        report(np.array([not parts for parts in src], dtype=bool), "sources", "at least one source")
        if "citations" in cols:  # v2 tables keep formal citations apart: every source is a URL
            report(np.array([any(not p.startswith(("http://", "https://")) for p in parts) for parts in src], dtype=bool),
                   "sources", "URLs only (formal citations go in the citations column)")
    if "notes" in cols:
        report((_col(df, "notes") == "").to_numpy(), "notes", "a note in the coder's own words")
    if "assurance_types" in cols:  # the contract checks the tokens; the codebook also forbids blanks
        blank = (_col(df, "assurance_types").str.replace(";", "").str.strip() == "").to_numpy()
        report(blank, "assurance_types", "at least one promised item (the codebook allows no blank here)")
    if "sending_state" in cols:
        ok = set(iso3166_alpha3()) | set(NON_STATE_SENDERS)
        report(~_col(df, "sending_state").isin(ok).to_numpy(), "sending_state",
               "an ISO 3166-1 alpha-3 code or one of " + ", ".join(NON_STATE_SENDERS))
    if "n_persons" in cols:
        n = pd.to_numeric(_col(df, "n_persons"), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        report(~(n >= 1) | (n != np.round(n)), "n_persons", "a whole number >= 1")
    if "accessed" in cols:
        report(~_col(df, "accessed").str.fullmatch(r"\d{4}-\d{2}-\d{2}").to_numpy(dtype=bool), "accessed",
               "the date the sources were read, YYYY-MM-DD")
    if "case_type_criteria" in cols:
        crit = _col(df, "case_type_criteria")
        bad = np.array([any(t.strip() not in CASE_TYPE_CRITERIA for t in c.split(";") if t.strip()) for c in crit], dtype=bool)
        report(bad, "case_type_criteria", "a ';'-list from " + ", ".join(CASE_TYPE_CRITERIA))
        if "profile" in cols:
            want = np.array([profile_of_criteria(c) for c in crit], dtype=object)
            report(want != _col(df, "profile").to_numpy(dtype=object), "profile",
                   "the profile the written case-type test gives for case_type_criteria")
    if {"profile", "case_type"} <= cols:
        want = _col(df, "profile").map(CASE_TYPE_OF_PROFILE)
        bad = (want.notna() & (want != _col(df, "case_type").str.lower())).to_numpy(dtype=bool)
        report(bad, "case_type", "the case type that follows from profile (political_or_security and "
                                 "high_profile_criminal -> high_profile; ordinary_criminal -> ordinary)")
    if {"formality", "assurance_kind"} <= cols:
        want = _col(df, "formality").map(KIND_OF_FORMALITY)
        report((want.notna() & (want != _col(df, "assurance_kind"))).to_numpy(dtype=bool), "assurance_kind",
               "the kind that follows from formality (treaty, memorandum -> treaty; diplomatic_note, case_letter -> "
               "case_specific; oral -> informal)")
    if {"outcome_detail", "outcome"} <= cols:
        want = _col(df, "outcome_detail").map(OUTCOME_OF_DETAIL)
        bad = (want.notna() & (want != _col(df, "outcome").str.lower())).to_numpy(dtype=bool)
        report(bad, "outcome", "the outcome that follows from outcome_detail (partly_breached -> breached; "
                               "not_transferred -> empty)")
    if {"outcome_detail", "item_outcomes"} <= cols:
        detail, items = _col(df, "outcome_detail"), _col(df, "item_outcomes")
        implied = np.array([whole_promise(x) for x in items], dtype=object)
        report(np.array([i is not None and i != d for i, d in zip(implied, detail)], dtype=bool), "outcome_detail",
               "the whole-promise outcome its item_outcomes imply (all kept -> honored; broken and kept -> "
               "partly_breached; broken, none kept -> breached; otherwise unknown)")
        report(((detail != "not_transferred") & (items == "")).to_numpy(), "item_outcomes",
               "an outcome for each promised item on a transferred row")
    if {"outcome_detail", "transferred"} <= cols:
        detail, moved = _col(df, "outcome_detail"), _col(df, "transferred").str.lower()
        report(((detail == "not_transferred") != (moved == "no")).to_numpy(), "transferred",
               "'no' exactly when outcome_detail is not_transferred")
        if "monitoring" in cols:
            report(((moved == "no") & (_col(df, "monitoring") != "none")).to_numpy(), "monitoring",
                   "'none' on a row that was not transferred (there was nothing to monitor)")
    for name in ("breach_detected_by", "breach_gravity"):
        if {name, "outcome_detail"} <= cols:
            breach = _col(df, "outcome_detail").isin(("breached", "partly_breached"))
            report(((_col(df, name) != "") != breach).to_numpy(), name,
                   "filled exactly when outcome_detail is breached or partly_breached")
    if {"evidence_strength", "outcome_detail"} <= cols and "item_outcomes" in cols:  # v2: symmetric standard
        decided = _col(df, "outcome_detail").isin(("honored", "breached", "partly_breached"))
        report((decided & (_col(df, "evidence_strength") == "weak")).to_numpy(), "evidence_strength",
               "moderate or strong for an honored or breached outcome (weak evidence either way is 'unknown')")
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
        if name in df.columns:
            df[name] = pd.Categorical(df[name], categories=allowed)
    df["case_type"] = pd.Categorical(df["case_type"], categories=("ordinary", "high_profile"))
    df["outcome"] = pd.Categorical(df["outcome"], categories=("honored", "breached", "unknown"))
    return df


def agreement_table(double_check: pd.DataFrame) -> list[dict]:
    """Agreement of the two independent readings, column by column, as printed in data/CODEBOOK.md.

    Outcomes are compared within each reading's own rules: the v1 rows were double-read under the v1
    codebook (and recoded to v2 by rule), the v2 rows under v2. Monitoring is compared on transferred
    rows only (a row never transferred has nothing to monitor).
    """
    from .agreement import agreement_stats

    dc = double_check
    moved = dc["final_outcome_detail"] != "not_transferred"
    subsets = [("outcome_detail", "v1 rows (v1 rules)", dc["origin"] == "v1"),
               ("outcome_detail", "v2 rows (v2 rules)", dc["origin"] == "v2"),
               ("monitoring", "transferred rows", moved),
               ("assurance_kind", "all rows", pd.Series(True, index=dc.index)),
               ("case_type", "all rows", pd.Series(True, index=dc.index))]
    out = []
    for col, label, mask in subsets:
        sub = dc[mask]
        if len(sub):
            s = agreement_stats(sub[f"pass1_{col}"].tolist(), sub[f"pass2_{col}"].tolist())
            out.append({"column": col, "rows": label, "n": s["n"], "agreement": s["agreement"], "kappa": s["kappa"]})
    return out
