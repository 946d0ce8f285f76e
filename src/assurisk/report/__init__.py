"""Expert-witness report: one self-contained, printable court document from a question to a reproducible answer.

:func:`build_report` computes every figure once (:func:`content.build_facts`), runs the robustness refits
unless ``quick`` (:mod:`.robust`, one compiled model), renders the page through one autoescaping Jinja2
template (:mod:`.render`) and writes it atomically, as HTML or, for a ``.pdf`` path, as PDF printed by
headless Chromium (:mod:`.pdf`). An existing file is never replaced unless ``force``.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..errors import AssuriskError

SECTIONS = (
    ("summary", "Summary: the answer and what it rests on"),
    ("question", "The question as asked"),
    ("record", "The record behind the answer"),
    ("case-types", "Ordinary against high-profile cases"),
    ("sensitivity", "How far the answer moves"),
    ("states", "The state among all states in the record"),
    ("model", "The model and its assumptions"),
    ("diagnostics", "Sampler diagnostics"),
    ("validation", "Calibration evidence"),
    ("legal", "The legal frame"),
    ("limitations", "Limitations and disclosure"),
    ("glossary", "Glossary"),
    ("references", "References"),
    ("reproducibility", "Reproducibility"),
    ("declaration", "Declaration"),
)
SECTION_IDS = tuple(s for s, _ in SECTIONS)


def build_report(fit, state: str, case_type: str, *, year=None, assurance=None, monitoring=None, cases=None,
                 check=None, interval: float = 0.9, out=None, quick: bool = False, force: bool = False,
                 today=None, log=None, **legacy) -> str:
    """Return the report's HTML; with ``out``, also write it (HTML, or PDF for a ``.pdf`` path) atomically.

    ``check`` is the folder (or summary.json) written by ``assurisk check``; it is validated before any
    refit. ``quick`` skips the robustness refits (the report says so). ``force`` allows replacing ``out``.
    """
    import numpy as np

    from ..check import replay
    from ..safe_write import check_destination
    from ..scoring import check_interval
    from . import content, pdf, render, robust

    if legacy.pop("compare_models", None) is False:
        quick = True
    if legacy:
        raise TypeError(f"build_report() got unexpected keyword arguments {sorted(legacy)}")
    t0 = time.perf_counter()
    level = check_interval(interval)
    state = str(state).strip().upper()
    q = content.question_row(state, str(case_type).strip().lower(), year, assurance, monitoring)
    fit.score(q, interval=level)  # bad questions fail here, before anything slow
    checked = content.load_check(check)  # a malformed check folder fails before any refit
    target = None
    if out is not None:
        target = check_destination(out, overwrite=force, streamable=Path(out).suffix.lower() != ".pdf")
        if target.suffix.lower() == ".pdf":
            pdf.find_chromium()  # no Chromium: fail now, not after the refits
    rob = None
    if not quick:
        df, _, _ = content.case_table(fit, cases)
        if df is not None:
            import pandas as pd

            table = df.replace("", np.nan) if isinstance(df, pd.DataFrame) else df
            spec = replay.spec_from_fit(fit)
            rob = robust.robustness(fit, spec, table, q, level, log=log)
    facts = content.build_facts(fit, state, case_type, year=year, assurance=assurance, monitoring=monitoring,
                                cases=cases, check=checked, interval=level, quick=quick, robustness=rob, today=today)
    draws = fit.probability_matrix([q])[:, 0]
    prior = fit.prior_probability_matrix([q])[:, 0] if fit.prior is not None else None
    both = fit.probability_matrix([dict(q, case_type="ordinary"), dict(q, case_type="high_profile")])
    a = facts["answer"]
    figures = {
        "posterior": render.fig_posterior(draws, prior, {"p_honored": a["p_honored"], "lower": a["lower"],
                                                         "upper": a["upper"], "level": level},
                                          f"{facts['question']['state_name']}, {facts['question']['case_type_words']}"),
        "difference": render.fig_difference(both[:, 0] - both[:, 1], level),
        "forest": render.fig_forest(facts["states"], state, level),
        "robustness": render.fig_robustness(facts["sensitivity"]["rows"], level) if facts["sensitivity"]["run"] else "",
    }
    facts["seconds"] = round(time.perf_counter() - t0, 1)
    html = render.render(facts, figures, list(SECTIONS))
    if target is not None:
        if target.suffix.lower() == ".pdf":
            pdf.write_pdf(html, target, overwrite=force)
        else:
            from ..safe_write import write_text

            write_text(target, html, overwrite=force)
    return html


__all__ = ["SECTIONS", "SECTION_IDS", "build_report", "AssuriskError"]
