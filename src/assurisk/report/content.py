"""The numbers a report shows, computed from a fit with the same code paths as ``score``."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd

from ..codes import state_name
from ..storage import own_case_table

CASE_COLUMNS = ["case_id", "person", "year", "sending_state", "case_type", "assurance_types", "monitoring",
                "outcome_detail", "evidence_strength", "sources", "notes"]


def question_row(state: str, case_type: str, year=None, assurance=None, monitoring=None) -> dict:
    row = {"receiving_state": state, "case_type": case_type}
    if year is not None:
        row["year"] = year
    if assurance:
        row["assurance_types"] = assurance
    if monitoring:
        row["monitoring"] = monitoring
    return row


def state_cases(fit, state: str, cases=None) -> tuple[pd.DataFrame | None, str]:
    """Rows of the fit's own case table for ``state``, or None with the reason."""
    path = own_case_table(fit.meta, cases)
    if path is None:
        return None, ("The case table this fit was made from was not supplied (the table at hand has a different "
                      "sha256); pass it with --cases to list the cases.")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df = df[df["receiving_state"].str.strip().str.upper() == state]
    return df[[c for c in CASE_COLUMNS if c in df.columns]].reset_index(drop=True), ""


def answer(fit, q: dict, interval: float) -> dict:
    s = fit.score(q, interval=interval).iloc[0]
    out = {k: (bool(s[k]) if isinstance(s[k], (bool, np.bool_)) else (int(s[k]) if k.startswith("n_") else float(s[k])))
           for k in ("p_honored", "p_honored_lower", "p_honored_upper", "p_breach", "state_seen", "n_state_cases",
                     "n_state_type_cases", "converged") if k in s}
    if "p_breach_unreported" in s:
        out["p_breach_unreported"] = float(s["p_breach_unreported"])
    out["draws"] = fit.probability_matrix([q])[:, 0]
    return out


def case_type_contrast(fit, q: dict) -> dict:
    both = [dict(q, case_type="ordinary"), dict(q, case_type="high_profile")]
    d = fit.probability_matrix(both)
    diff = d[:, 0] - d[:, 1]
    lo, hi = np.quantile(diff, [0.05, 0.95])
    return {"mean": float(diff.mean()), "lower": float(lo), "upper": float(hi),
            "p_ordinary_better": float((diff > 0).mean()), "p_ordinary_worse": float((diff < 0).mean()),
            "ordinary": float(d[:, 0].mean()), "high_profile": float(d[:, 1].mean()), "draws": diff}


def all_states(fit, q: dict, interval: float) -> pd.DataFrame:
    rows = [dict(q, receiving_state=s) for s in fit.draws.states]
    out = fit.score(rows, interval=interval)
    out["name"] = [state_name(s) for s in out.receiving_state]
    return out.sort_values("p_honored").reset_index(drop=True)


def other_model(fit, q: dict, cases=None) -> dict | None:
    """The same question under the other likelihood (face value <-> monitoring-aware), refitted."""
    from ..check import replay

    path = own_case_table(fit.meta, cases)
    if path is None:
        return None
    spec = replay.spec_from_fit(fit)
    detection = not spec.detection
    design = replay.design_for(spec, path, detection=detection)
    other = replace(spec, design=design, detection=detection)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = replay.run_refits(other, [(None, design.counts, fit.meta["sampler"]["seed"])],
                                replay.RefitSettings(draws=1000, tune=1000, chains=4, thin=1))[0]
    draws = replay.draws_of(res, spec.design.states)
    alt = fit.__class__(draws, fit.meta)
    p = alt.probability_matrix([q])[:, 0]
    both = alt.probability_matrix([dict(q, case_type="ordinary"), dict(q, case_type="high_profile")])
    lo, hi = np.quantile(p, [0.05, 0.95])
    return {"model": "monitoring_aware" if detection else "face_value", "p_honored": float(p.mean()),
            "lower": float(lo), "upper": float(hi),
            "p_ordinary_better": float((both[:, 0] > both[:, 1]).mean()), "divergences": res["divergences"],
            "converged": res["converged"]}
