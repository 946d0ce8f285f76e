"""Every figure the report shows, computed once into one JSON-ready structure (the report's single source).

:func:`build_facts` returns plain dicts, lists, strings, numbers and booleans. The templates only
format these values; the same structure is embedded in the HTML as JSON, and the tests check every
number in the rendered text against it. Nothing here writes HTML.
"""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from .._version import __version__
from ..codes import state_name
from ..contract import ASSURANCE_GROUP_OF, ASSURANCE_GROUPS, DEFAULT_ASSURANCE, DEFAULT_MONITORING
from ..errors import InputError
from ..fit import CAVEAT
from ..storage import own_case_table
from . import legal
from .sources import References, split_list
from .words import GLOSSARY, PRIOR_WORDS, say, say_list

# Kappas printed in data/CODEBOOK.md, used when no double_check.csv is found next to the case table.
CODEBOOK_AGREEMENT = (
    {"column": "outcome_detail", "words": "outcome", "n": 89, "agreement": 0.876, "kappa": 0.841},
    {"column": "monitoring", "words": "monitoring", "n": 89, "agreement": 0.921, "kappa": 0.781},
    {"column": "assurance_kind", "words": "kind of assurance", "n": 89, "agreement": 0.876, "kappa": 0.696},
)
DOUBLE_CHECK_COLUMNS = ("outcome_detail", "monitoring", "assurance_kind", "case_type")
COLUMN_WORDS = {"outcome_detail": "outcome", "monitoring": "monitoring", "assurance_kind": "kind of assurance",
                "case_type": "case type"}
COLUMN_KIND = {"outcome_detail": "outcome", "monitoring": "monitoring", "assurance_kind": "assurance_kind",
               "case_type": "case_type_short"}


def question_row(state: str, case_type: str, year=None, assurance=None, monitoring=None) -> dict:
    row = {"receiving_state": state, "case_type": case_type}
    if year is not None:
        row["year"] = year
    if assurance:
        row["assurance_types"] = assurance
    if monitoring:
        row["monitoring"] = monitoring
    return row


def _f(x):
    """A JSON-safe float (None for missing)."""
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _b(x):
    return None if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)) else bool(x)


def _interval(draws: np.ndarray, level: float) -> dict:
    lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return {"mean": float(draws.mean()), "lower": float(lo), "upper": float(hi), "level": level}


def shown(v: float, digits: int = 2) -> float:
    """The value as printed with ``digits`` decimals (so differences of printed values can be printed)."""
    return float(f"{v:.{digits}f}")


# --- the check folder (untrusted input: validated before anything is refitted) -------------------------
def load_check(check) -> dict | None:
    """Read and validate ``assurisk check``'s summary.json; raise InputError on anything malformed."""
    if check is None:
        return None
    path = Path(check)
    path = path / "summary.json" if path.is_dir() else path
    if not path.is_file():
        raise InputError(f"--check {str(check)!r}: no summary.json found (write one with `assurisk check --out DIR`)")
    try:
        s = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"--check {str(path)!r} is not valid JSON: {exc}") from None
    if not isinstance(s, dict):
        raise InputError(f"--check {str(path)!r}: expected a JSON object at the top level")
    out = {"sbc": None, "coverage": None, "predictive": None, "robustness": None}

    def num(v, where):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InputError(f"--check {str(path)!r}: {where} must be a number, got {v!r}")
        return float(v)

    def obj(v, where):
        if not isinstance(v, dict):
            raise InputError(f"--check {str(path)!r}: {where} must be an object")
        return v

    if "sbc" in s:
        sb = obj(s["sbc"], "sbc")
        params = obj(sb.get("params", {}), "sbc.params")
        out["sbc"] = {"n_sims": int(num(sb.get("n_sims"), "sbc.n_sims")), "passed": bool(sb.get("passed")),
                      "params": [{"name": str(k), "chi2_p": num(obj(v, f"sbc.params[{k!r}]").get("chi2_p"),
                                                                f"sbc.params[{k!r}].chi2_p")}
                                 for k, v in params.items()]}
    def health(part, where):  # the short refits' convergence record, when the summary carries it
        counts = {}
        for key in ("divergent_fits", "unconverged_fits"):
            v = part.get(key)
            if v is not None:
                if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                    raise InputError(f"--check {str(path)!r}: {where}.{key} must be a whole number, got {v!r}")
                counts[key] = v
        return counts

    if out["sbc"] is not None:
        out["sbc"]["health"] = health(sb, "sbc")
    out["coverage_health"] = None
    if "coverage" in s:
        out["coverage_health"] = health(obj(s["coverage"], "coverage"), "coverage")
        out["coverage_n_sims"] = int(num(s["coverage"].get("n_sims", 0), "coverage.n_sims"))
        levels = obj(obj(s["coverage"], "coverage").get("levels", {}), "coverage.levels")
        out["coverage"] = [{"level": num(_f(k) if _f(k) is not None else k, "coverage level"),
                            "coverage": num(obj(v, f"coverage.levels[{k!r}]").get("coverage"), "coverage value")}
                           for k, v in levels.items()]
    if "predictive" in s:
        scores = obj(obj(s["predictive"], "predictive").get("scores", {}), "predictive.scores")
        out["predictive"] = [{"name": str(k), "log_score": num(obj(v, f"predictive.scores[{k!r}]").get("log_score"),
                                                                 "log_score")} for k, v in scores.items()]
    if "robustness" in s:
        rob = obj(s["robustness"], "robustness")
        q = obj(rob.get("question", {}), "robustness.question")
        rows = rob.get("rows", [])
        if not isinstance(rows, list):
            raise InputError(f"--check {str(path)!r}: robustness.rows must be a list")
        out["robustness"] = {
            "question": {"receiving_state": str(q.get("receiving_state", "")), "case_type": str(q.get("case_type", ""))},
            "rows": [{"alternative": str(obj(r, "robustness row").get("alternative", "")),
                      "p_honored": num(r.get("p_honored"), "robustness p_honored"),
                      "lower": num(r.get("lower"), "robustness lower"), "upper": num(r.get("upper"), "robustness upper"),
                      "level": 0.9, "divergences": r.get("divergences") if isinstance(r.get("divergences"), int) else None,
                      "converged": r.get("converged") if isinstance(r.get("converged"), bool) else None}
                     for r in rows]}
    fitinfo = s.get("fit") if isinstance(s.get("fit"), dict) else {}
    out["fit_model_id"] = str(fitinfo.get("model_id", ""))
    out["created"] = str(s.get("created", ""))
    if not any(out[k] for k in ("sbc", "coverage", "predictive", "robustness")):
        raise InputError(f"--check {str(path)!r}: summary.json has none of sbc, coverage, predictive, robustness")
    return out


# --- the case table ---------------------------------------------------------------------------------
def case_table(fit, cases=None):
    """(table as strings with '' for blanks, path) of the fit's own case table, or (None, reason)."""
    path = own_case_table(fit.meta, cases)
    if path is None:
        return None, None, ("The case table this fit was made from was not supplied (the table at hand has a different "
                            "sha256); pass it with --cases to list the cases behind the answer.")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    return df, path, ""


def _row_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Per row, what the model reads: transfers verified honoured, with a reported breach, with no known outcome."""
    from ..contract import parse

    _, rows = parse(df.replace("", np.nan), "fit", require_year=False)
    return pd.DataFrame({"honoured": rows.n_honored, "breached": rows.n_breaches, "unknown": rows.n_unknown},
                        index=df.index)


def _items(text: str) -> list[str]:
    items = [t.strip() for t in str(text).split(";") if t.strip()]
    return items or [DEFAULT_ASSURANCE]


def _item_status(text: str) -> dict[str, str]:
    out = {}
    for part in str(text).split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def _breakdown(df: pd.DataFrame, counts: pd.DataFrame, mask, asked_groups: set[str]) -> dict:
    """Transfers in ``mask`` by promised item: whole-promise outcome counts, and item outcomes where coded."""
    by_item = {}
    has_items = "item_outcomes" in df.columns
    for i in np.flatnonzero(np.asarray(mask)):
        idx = df.index[i]
        r = df.loc[idx]
        c = counts.loc[idx]
        n = int(c.sum())
        if n == 0:
            continue
        status = _item_status(r.get("item_outcomes", "")) if has_items else {}
        for item in _items(r.get("assurance_types", "")):
            e = by_item.setdefault(item, {"item": item, "words": say("assurance", item), "transfers": 0, "honoured": 0,
                                          "breached": 0, "unknown": 0, "item_kept": 0, "item_broken": 0,
                                          "item_unknown": 0, "asked": ASSURANCE_GROUP_OF.get(item, item) in asked_groups})
            e["transfers"] += n
            e["honoured"] += int(c["honoured"])
            e["breached"] += int(c["breached"])
            e["unknown"] += int(c["unknown"])
            if item in status:
                e[f"item_{status[item]}" if status[item] in ("kept", "broken") else "item_unknown"] += n
    rows = sorted(by_item.values(), key=lambda e: (not e["asked"], ASSURANCE_GROUPS.index(ASSURANCE_GROUP_OF.get(
        e["item"], "other")) if ASSURANCE_GROUP_OF.get(e["item"]) in ASSURANCE_GROUPS else 99, e["item"]))
    total = counts[np.asarray(mask)].sum()
    return {"rows": rows, "item_coded": has_items, "transfers": int(total.sum()), "honoured": int(total["honoured"]),
            "breached": int(total["breached"]), "unknown": int(total["unknown"])}


# --- the numbers ----------------------------------------------------------------------------------
def build_facts(fit, state: str, case_type: str, *, year=None, assurance=None, monitoring=None, cases=None,
                check=None, interval: float = 0.9, quick: bool = False, robustness=None, today: date | None = None,
                log=None) -> dict:
    """All figures of the report for one question. ``robustness`` is the result of :func:`robust.robustness`
    (None: not run, because ``quick``)."""
    state = state.strip().upper()
    case_type = str(case_type).strip().lower()
    q = question_row(state, case_type, year, assurance, monitoring)
    s = fit.score(q, interval=interval).iloc[0]  # validates the question first
    level = float(interval)
    name = state_name(state)
    spec = fit.meta["spec"]
    defaults = spec.get("defaults", {})
    asked = _items(assurance) if assurance else [defaults.get("assurance_types", DEFAULT_ASSURANCE)]
    asked_groups = {ASSURANCE_GROUP_OF.get(a, a) for a in asked}
    watched = monitoring or defaults.get("monitoring", DEFAULT_MONITORING)
    other_type = "high_profile" if case_type == "ordinary" else "ordinary"

    draws = fit.probability_matrix([q])[:, 0]
    answer = {"p_honored": _f(s["p_honored"]), "lower": _f(s["p_honored_lower"]), "upper": _f(s["p_honored_upper"]),
              "level": level, "p_breach": _f(s["p_breach"]), "p_breach_unreported": _f(s.get("p_breach_unreported")),
              "p_breach_given_unreported": _f(s.get("p_breach_given_unreported")),
              "p_honored_prior": _f(s.get("p_honored_prior")), "prior_dominated": _b(s.get("prior_dominated")),
              "prior_contraction": _f(s.get("prior_contraction")) if "prior_contraction" in s else None,
              "n_direct": int(s["n_direct"]) if "n_direct" in s and not pd.isna(s["n_direct"]) else None,
              "state_seen": bool(s["state_seen"]), "n_state_cases": int(s["n_state_cases"]),
              "n_state_type_cases": int(s["n_state_type_cases"]), "covariate_imputed": bool(s["covariate_imputed"]),
              "converged": bool(s["converged"]), "n_draws": int(len(draws))}
    answer["in_ten"] = int(round(answer["p_honored"] * 10))
    answer["lower_in_100"] = int(round(answer["lower"] * 100))
    answer["upper_in_100"] = int(round(answer["upper"] * 100))
    # from the printed two-decimal value, half up, so that "0.75" reads "about 8 in ten"
    answer["unreported_in_ten"] = (int(math.floor(round(answer["p_breach_unreported"], 2) * 10 + 0.5 + 1e-9))
                                   if answer["p_breach_unreported"] is not None else None)
    c = answer.get("prior_contraction")
    answer["prior_widening"] = -c if c is not None and c < 0 else None
    prior = None
    if fit.prior is not None:
        pd_ = fit.prior_probability_matrix([q])[:, 0]
        prior = _interval(pd_, level)
        prior["mean"] = answer["p_honored_prior"] if answer["p_honored_prior"] is not None else prior["mean"]
    answer["prior"] = prior

    # ordinary versus high-profile: both means from score (the answer's own number for the asked type)
    o = fit.score(dict(q, case_type=other_type), interval=interval).iloc[0]
    means = {case_type: answer["p_honored"], other_type: _f(o["p_honored"])}
    both = fit.probability_matrix([dict(q, case_type="ordinary"), dict(q, case_type="high_profile")])
    diff = both[:, 0] - both[:, 1]
    ctc = fit.case_type_contrast(state, **{k: v for k, v in q.items() if k not in ("receiving_state", "case_type")})
    contrast = {"ordinary": means["ordinary"], "high_profile": means["high_profile"],
                "ordinary_shown": shown(means["ordinary"]), "high_profile_shown": shown(means["high_profile"]),
                "difference_shown": shown(means["ordinary"]) - shown(means["high_profile"]),
                "difference": _interval(diff, level), "p_ordinary_better": float((diff > 0).mean()),
                "p_ordinary_better_prior": _f(ctc.get("p_ordinary_better_prior")),
                "difference_mean_prior": _f(ctc.get("difference_mean_prior")), "contraction": _f(ctc.get("contraction")),
                "n_other_type": int(o["n_state_type_cases"]), "asked": case_type, "other": other_type}

    # the record
    df, path, why = case_table(fit, cases)
    refs = References()
    record = {"available": df is not None, "why": why, "columns": [] if df is None else list(df.columns)}
    evidence = None
    coding = None
    if df is not None:
        counts = _row_counts(df)
        code = df["receiving_state"].str.strip().str.upper()
        ctype = df["case_type"].str.strip().str.lower()
        fitted = counts.sum(axis=1) > 0
        promised_asked = df.get("assurance_types", pd.Series("", index=df.index)).map(
            lambda t: bool({ASSURANCE_GROUP_OF.get(i, i) for i in _items(t)} & asked_groups))
        direct = (code == state) & (ctype == case_type) & fitted & promised_asked
        evidence = {
            "direct": int(counts[direct].sum().sum()),
            "direct_counts": {k: int(v) for k, v in counts[direct].sum().items()},
            "same_type_all_states": _breakdown(df, counts, (ctype == case_type) & fitted, asked_groups),
            "state_by_type": {ct: _breakdown(df, counts, (code == state) & (ctype == ct) & fitted, asked_groups)
                              for ct in ("ordinary", "high_profile")},
            "state_rows": int((code == state).sum()), "state_not_transferred": int(((code == state) & ~fitted).sum()),
            "n_rows": int(len(df)), "n_transfers": int(counts.sum().sum()),
            "n_states": int(code[fitted].nunique()),
        }
        groups = [("state_asked", f"{name}, {say('case_type_short', case_type)}", evidence["state_by_type"][case_type]),
                  ("state_other", f"{name}, {say('case_type_short', other_type)}", evidence["state_by_type"][other_type]),
                  ("all_asked", f"all states, {say('case_type_short', case_type)}", evidence["same_type_all_states"])]
        evidence["table"] = _combined(groups, asked)
        dc = _double_check(path, df)
        coding = dc
        rows = []
        for i, r in df[code == state].iterrows():
            cit_text = r.get("citations", "")
            acc = str(r.get("accessed", "")).strip()
            src = [refs.add(x, acc) for x in split_list(r.get("sources", ""))]
            cit = [refs.add(x, acc) for x in split_list(cit_text)]
            c = counts.loc[i]
            detail = str(r.get("outcome_detail", "")).strip() or str(r.get("outcome", "")).strip()
            if not detail:
                detail = "not_transferred" if c.sum() == 0 else ("breached" if c["breached"] else "unknown")
            status = _item_status(r.get("item_outcomes", ""))
            rows.append({
                "case_id": str(r.get("case_id", "")) or f"row {int(i) + 1}", "row": int(i) + 1,
                "person": str(r.get("person", "")), "year": str(r.get("year", "")),
                "sending_state": str(r.get("sending_state", "")),
                "sending_name": state_name(str(r.get("sending_state", "")).strip().upper()) if r.get("sending_state") else "",
                "case_type": say("case_type_short", r.get("case_type", "")),
                "promised": say_list("assurance", r.get("assurance_types", "") or DEFAULT_ASSURANCE),
                "items": [{"item": say("assurance", k), "status": say("item_status", v)} for k, v in status.items()],
                "monitoring": say("monitoring", r.get("monitoring", "") or DEFAULT_MONITORING),
                "monitoring_given": bool(str(r.get("monitoring", "")).strip()),
                "outcome": say("outcome", detail), "outcome_code": detail,
                "gravity": say("breach_gravity", r.get("breach_gravity", "")),
                "detected_by": say("breach_detected_by", r.get("breach_detected_by", "")),
                "evidence": say("evidence_strength", r.get("evidence_strength", "")),
                "formality": (say("formality", r["formality"]) if str(r.get("formality", "")).strip()
                              else say("assurance_kind", r.get("assurance_kind", ""))),
                "context": say("promise_context", r.get("promise_context", "")),
                "criteria": say_list("case_type_criteria", r.get("case_type_criteria", "")),
                "judgement_call": str(r.get("judgement_call", "")).strip(),
                "notes": str(r.get("notes", "")), "sources": src, "citations": cit,
                "double_check": dc["by_case"].get(str(r.get("case_id", "")), None) if dc else None,
            })
        record["cases"] = rows
        record["n_judgement_calls"] = sum(1 for r in rows if r["judgement_call"])
        record["formality"] = _tally(r["formality"] for r in rows if r["formality"])
        record["monitoring"] = _tally(r["monitoring"] for r in rows if r["outcome_code"] != "not_transferred")
        record["has"] = {c: c in df.columns for c in ("formality", "promise_context", "item_outcomes", "breach_gravity",
                                                       "citations", "accessed", "judgement_call", "case_type_criteria",
                                                       "sources", "notes", "evidence_strength", "outcome_detail")}

    # every state, same question
    states = fit.score([dict(q, receiving_state=x) for x in fit.draws.states], interval=interval)
    state_rows = [{"code": str(r.receiving_state), "name": state_name(str(r.receiving_state)), "p_honored": float(r.p_honored),
                   "lower": float(r.p_honored_lower), "upper": float(r.p_honored_upper), "level": level,
                   "n": int(r.n_state_cases)} for r in states.sort_values("p_honored").itertuples()]

    # sensitivity
    sens = {"run": robustness is not None, "quick": bool(quick)}
    if robustness is None and not quick:
        sens["why_not"] = "the fit's own case table was not supplied, so nothing could be refitted"
    if robustness is not None:
        rows = [{"alternative": "as fitted (the answer above)", "kind": "fit", "p_honored": answer["p_honored"],
                 "lower": answer["lower"], "upper": answer["upper"], "level": level,
                 "divergences": int(fit.diagnostics["divergences"]), "converged": fit.converged, "problems": "",
                 "note": ""}] + robustness["rows"]
        ps = [r["p_honored"] for r in rows]
        sens.update(rows=rows, seconds=robustness["seconds"], settings=robustness["settings"], min=min(ps), max=max(ps),
                    n=len(rows) - 1, n_not_converged=sum(1 for r in rows if not r["converged"]),
                    min_name=rows[int(np.argmin(ps))]["alternative"], max_name=rows[int(np.argmax(ps))]["alternative"])

    meta = fit.meta
    diag = fit.diagnostics
    pri = spec["priors"]
    model = {
        "detection": bool(spec["detection"]), "deterrence": bool(spec.get("deterrence", False)),
        "covariate": spec.get("covariates"), "likelihood": str(spec.get("likelihood", "")),
        "priors": [{"name": k, "words": PRIOR_WORDS.get(k, k.replace("_", " ")), "value": v} for k, v in pri.items()
                   if k not in ("detection", "verification", "state_beliefs", "elicitation") and isinstance(v, (int, float))],
        "detection_priors": [_beta_row(k, ab) for k, ab in pri.get("detection", {}).items()],
        "verification_priors": [_beta_row(k, ab) for k, ab in pri.get("verification", {}).items()],
        "elicitation": [{"about": str(e.get("about", "")), "center": _f(e.get("center")), "lower": _f(e.get("lower")),
                         "upper": _f(e.get("upper")), "mass": _f(e.get("mass")), "result": str(e.get("result", ""))}
                        for e in pri.get("elicitation", [])],
        "state_beliefs": [{"state": str(k), "mu": _f(v[0]), "sigma": _f(v[1])} for k, v in pri.get("state_beliefs", {}).items()],
        "n_transfers": int(meta["data"].get("n_transfers", 0)), "n_states": len(fit.draws.states),
        "n_unknown": int(meta["data"].get("n_unknown", 0)),
    }
    pts = None
    if fit.covariate_name == "pts":
        from ..covariates import bundled_pts

        yr = np.array([float(year) if year is not None else np.nan])
        val, found = bundled_pts().raw(np.array([state]), yr)
        pts = {"value": _f(val[0]) if bool(found[0]) else None, "year": int(year) if year is not None else None}
    smp = meta["sampler"]
    diagnostics = {"sampler": str(smp.get("name", "")), "chains": int(smp.get("chains", 0)), "draws": int(smp.get("draws", 0)),
                   "tune": int(smp.get("tune", 0)), "r_hat_max": _f(diag.get("r_hat_max")),
                   "ess_bulk_min": _f(diag.get("ess_bulk_min")), "ess_tail_min": _f(diag.get("ess_tail_min")),
                   "divergences": int(diag.get("divergences", 0)), "converged": fit.converged,
                   "thresholds": {k: _f(v) for k, v in diag.get("thresholds", {}).items()}}
    ids = {"assurisk_version": __version__, "fit_version": str(meta.get("assurisk_version", "")),
           "model": str(meta.get("model", "")), "model_id": str(meta.get("model_id", "")),
           "data_sha256": str(meta["data"].get("sha256", "")), "seed": str(smp.get("seed", "")),
           "fit_created": str(meta.get("created", "")),
           "versions": [{"name": str(k), "version": str(v)} for k, v in meta.get("versions", {}).items()]}

    legal_frame = _legal(fit, state, name, answer, evidence, record, pts, watched, refs)
    facts = {
        "title": f"Diplomatic assurance assessment: {name}, {say('case_type', case_type)}",
        "date": (today or date.today()).isoformat(),
        "question": {"state": state, "state_name": name, "case_type": case_type,
                     "case_type_words": say("case_type", case_type), "other_type_words": say("case_type", other_type),
                     "year": int(year) if year is not None else None, "assurance": [say("assurance", a) for a in asked],
                     "assurance_default": not assurance, "monitoring": say("monitoring", watched),
                     "monitoring_default": not monitoring, "interval": level,
                     "args": {"state": state, "case_type": case_type, "year": year, "assurance": assurance or "",
                              "monitoring": monitoring or "", "interval": level}},
        "answer": answer, "contrast": contrast, "evidence": evidence, "record": record, "coding": coding,
        "states": state_rows, "sensitivity": sens, "model": model, "pts": pts, "diagnostics": diagnostics,
        "check": load_check(check) if check is not None and not isinstance(check, dict) else check,
        "legal": legal_frame, "ids": ids, "caveat": CAVEAT,
        "glossary": [{"term": t, "meaning": m} for t, m in GLOSSARY],
    }
    facts["references"] = refs.items
    if coding:
        coding.pop("by_case", None)  # copied into each case row; its keys are untrusted case ids
    return facts


def _combined(groups, asked: list[str]) -> dict:
    """One table: a row per promised item (the items asked first, shown even with no transfer), a cell per group."""
    keys = ("transfers", "honoured", "breached", "unknown", "item_kept", "item_broken", "item_unknown")
    items = list(dict.fromkeys(list(asked) + [r["item"] for _, _, g in groups for r in g["rows"]]))
    rows = []
    for item in items:
        cells = []
        for _, _, g in groups:
            hit = next((r for r in g["rows"] if r["item"] == item), None)
            cells.append({k: (hit[k] if hit else 0) for k in keys})
        rows.append({"item": item, "words": say("assurance", item), "asked": item in asked, "cells": cells})
    return {"groups": [{"key": k, "label": label, "transfers": g["transfers"]} for k, label, g in groups],
            "rows": rows, "item_coded": any(g["item_coded"] for _, _, g in groups)}


def _tally(values) -> list[dict]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return [{"what": k, "n": n} for k, n in sorted(out.items(), key=lambda kv: -kv[1])]


def _beta_row(key: str, ab) -> dict:
    level, _, ct = str(key).partition("/")
    a, b = float(ab[0]), float(ab[1])
    return {"level": say("monitoring", level), "case_type": say("case_type_short", ct), "a": a, "b": b, "mean": a / (a + b)}


def _double_check(path: Path | None, df: pd.DataFrame) -> dict | None:
    """Agreement of the two independent codings, from double_check.csv next to the case table (or the codebook)."""
    from ..agreement import agreement_stats

    dc_path = path.parent / "double_check.csv" if path is not None else None
    if dc_path is None or not dc_path.is_file():
        return {"source": "data/CODEBOOK.md (figures as printed there; no double_check.csv beside the case table)",
                "computed": False, "stats": [dict(x) for x in CODEBOOK_AGREEMENT], "by_case": {}, "n_disagreements": None}
    dc = pd.read_csv(dc_path, dtype=str, keep_default_na=False)
    ids = set(df["case_id"]) if "case_id" in df.columns else set()
    dc = dc[dc["case_id"].isin(ids)] if "case_id" in dc.columns else dc.iloc[0:0]
    stats = []
    if {"origin", "final_outcome_detail"} <= set(dc.columns) and len(dc):  # the v2 double check: as in CODEBOOK.md
        from ..dataset import agreement_table

        for st in agreement_table(dc):
            stats.append({"column": st["column"], "words": f"{COLUMN_WORDS[st['column']]} ({st['rows']})",
                          "n": int(st["n"]), "agreement": float(st["agreement"]), "kappa": float(st["kappa"])})
    else:
        for col in DOUBLE_CHECK_COLUMNS:
            a, b = f"pass1_{col}", f"pass2_{col}"
            if a in dc.columns and b in dc.columns and len(dc):
                st = agreement_stats(dc[a].tolist(), dc[b].tolist())
                stats.append({"column": col, "words": COLUMN_WORDS[col], "n": int(st["n"]),
                              "agreement": float(st["agreement"]), "kappa": float(st["kappa"])})
    by_case = {}
    for _, r in dc.iterrows():
        diffs = [{"column": COLUMN_WORDS[col], "first": say(COLUMN_KIND[col], r[f"pass1_{col}"]),
                  "second": say(COLUMN_KIND[col], r[f"pass2_{col}"]), "final": say(COLUMN_KIND[col], r.get(f"final_{col}", ""))}
                 for col in DOUBLE_CHECK_COLUMNS if f"pass1_{col}" in dc.columns and f"pass2_{col}" in dc.columns
                 and r[f"pass1_{col}"] != r[f"pass2_{col}"]]
        support = str(r.get("pass2_sources_support", ""))
        by_case[r["case_id"]] = {"disagreements": diffs, "resolution": str(r.get("resolution", "")),
                                 "sources_support": support}
    n_dis = sum(1 for v in by_case.values() if v["disagreements"])
    return {"source": "computed by assurisk.agreement from double_check.csv", "computed": True, "stats": stats,
            "by_case": by_case, "n_disagreements": n_dis, "n_rows": int(len(dc))}


def _legal(fit, state, name, answer, evidence, record, pts, watched, refs) -> dict:
    cases = record.get("cases", []) if record.get("available") else []
    transferred = [c for c in cases if c["outcome_code"] != "not_transferred"]

    def count(pred):
        return sum(1 for c in transferred if pred(c))

    said = {}
    if record.get("available"):
        formal = record.get("formality") or []
        said["formality"] = {"kind": "formality", "rows": len(cases), "tally": formal}
        said["record"] = {"kind": "record", "transfers": len(transferred),
                          "honoured": count(lambda c: c["outcome_code"] == "honored"),
                          "breached": count(lambda c: c["outcome_code"] in ("breached", "partly_breached")),
                          "unknown": count(lambda c: c["outcome_code"] == "unknown")}
        said["courts"] = {"kind": "courts", "refused": sum(1 for c in cases if c["outcome_code"] == "not_transferred"),
                          "with_citation": sum(1 for c in cases if c["citations"] or any(
                              not refs.items[n - 1]["url"] for n in c["sources"]))}
        said["monitoring"] = {"kind": "monitoring", "tally": record.get("monitoring") or []}
    said["contracting"] = {"kind": "contracting", "party": state in legal.ECHR_PARTIES,
                           "former": legal.FORMER_PARTIES.get(state, "")}
    said["pts"] = {"kind": "pts", "value": pts["value"] if pts else None, "used": pts is not None}
    said["answer"] = {"kind": "answer"}
    mon = {"kind": "monitoring_answer", "watched": say("monitoring", watched) if watched else "",
           "unreported": answer["p_breach_unreported"]}
    src = {k: [refs.add(x) for x in v] for k, v in legal.SOURCES.items()}

    def factor(num, text, key, cannot):
        a = said.get(key) if key else None
        if key == "monitoring":
            a = dict(said.get("monitoring") or {"kind": "monitoring", "tally": []}, **{"now": mon})
        return {"num": num, "text": text, "record": a, "cannot": cannot}

    return {"othman": [factor(*f) for f in legal.OTHMAN_FACTORS], "bb": [factor(*f) for f in legal.BB_CONDITIONS],
            "othman_citation": legal.OTHMAN_CITATION, "bb_citation": legal.BB_CITATION, "sources": src,
            "source_note": legal.SOURCE_NOTE}
