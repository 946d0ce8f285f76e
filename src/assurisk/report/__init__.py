"""Expert-witness report: one self-contained HTML file from a question to a reproducible answer.

Sections, in order: the question; the answer; what it rests on; ordinary versus high-profile; the
state among all states; how undetected breaches were handled; model, priors and elicitation; sampler
diagnostics; calibration and sensitivity evidence; limitations; the Othman factors the data speak
to; reproducibility. Every number comes from the same code as ``Fit.score``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .._version import __version__
from ..codes import state_name
from ..contract import DEFAULT_ASSURANCE, DEFAULT_MONITORING
from ..fit import CAVEAT
from . import content
from . import render as r

SECTION_IDS = ("question", "answer", "record", "case-types", "states", "detection", "model", "diagnostics",
               "validation", "limitations", "othman", "reproducibility")


def build_report(fit, state: str, case_type: str, *, year=None, assurance=None, monitoring=None, cases=None,
                 check=None, interval: float = 0.9, out=None, compare_models: bool = True) -> str:
    """Return the report's HTML (and write it atomically to ``out`` if given).

    ``check`` is the folder (or summary.json) written by ``assurisk check``; ``compare_models`` refits
    the other likelihood (face value or monitoring-aware) for the detection section.
    """
    state = state.strip().upper()
    q = content.question_row(state, case_type, year, assurance, monitoring)
    ans = content.answer(fit, q, interval)  # validates the question first
    name = state_name(state)
    kind = case_type.replace("_", "-")
    pct = f"{interval:.0%}"
    promise = assurance or f"{DEFAULT_ASSURANCE} (default)"
    watched = monitoring or f"{DEFAULT_MONITORING} (default)"
    meta, spec = fit.meta, fit.meta["spec"]
    sections = []

    sections.append(("question", "1. The question as asked", f"""
<p>How likely is it that <strong>{r.esc(name)} ({state})</strong> honours a diplomatic assurance given for a
<strong>{kind}</strong> case{f', in {year}' if year else ''}? Promise: <strong>{r.esc(promise)}</strong>.
Verification after transfer: <strong>{r.esc(watched)}</strong>.</p>
<p class='small'>Case types: <em>high-profile</em> covers political, security and prominent criminal cases;
<em>ordinary</em> covers ordinary criminal suspects. The promise and monitoring, when not given, take the
defaults shown; they change the estimate.</p>"""))

    unrep = ""
    if "p_breach_unreported" in ans:
        unrep = (f"<p>If a breach happened under this verification, the model puts the chance that it would never "
                 f"reach the record at <strong>{ans['p_breach_unreported']:.0%}</strong>; the estimate above "
                 f"already allows for such unseen breaches.</p>")
    seen = (f"It rests on {ans['n_state_cases']} transfer(s) to {state} used by the model, "
            f"{ans['n_state_type_cases']} of them {kind}." if ans["state_seen"] else
            f"{state} has no transfer in the record: this is the estimate for a state the record says nothing "
            f"about, drawn from the spread among all states and {state}'s Political Terror Scale score.")
    sections.append(("answer", "2. The answer", f"""
<p class='answer'>Probability the assurance is honoured: <strong>{ans['p_honored']:.2f}</strong>
({pct} interval {ans['p_honored_lower']:.2f} to {ans['p_honored_upper']:.2f}).<br>
Probability of breach: <strong>{ans['p_breach']:.2f}</strong>.</p>
<p>In words: on the public record as coded, an assurance of this kind from {r.esc(name)} is honoured about
{round(ans['p_honored'] * 10)} times in 10, and the record is consistent with any rate from about
{round(ans['p_honored_lower'] * 100)} to {round(ans['p_honored_upper'] * 100)} in 100. The {pct} interval means: given
the model and the record, there is a {pct} probability that the true rate lies in it. {seen}</p>{unrep}
<p>Sampler converged: <strong>{'yes' if ans['converged'] else 'NO: do not rely on this number'}</strong>.</p>
<figure><img alt='posterior of the probability' src='{r.fig_posterior(ans['draws'], ans['p_honored_lower'], ans['p_honored_upper'], f'{name}, {kind} case')}'>
<figcaption>Posterior distribution of the probability that the assurance is honoured ({len(ans['draws'])} draws).</figcaption></figure>
<p class='caveat'>{r.esc(CAVEAT)}</p>"""))

    cases_df, why = content.state_cases(fit, state, cases)
    if cases_df is None:
        record = f"<p>{r.esc(why)}</p>"
    elif cases_df.empty:
        record = f"<p>The record holds no assurance given by {r.esc(name)}.</p>"
    else:
        counts = cases_df["outcome_detail"].value_counts().to_dict()
        record = (f"<p>Every assurance by {r.esc(name)} in the case record ({len(cases_df)} events: "
                  + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())
                  + "). Outcomes follow the codebook's strict rules: no news is <em>unknown</em>, never honoured; "
                    "<em>not transferred</em> events record what was promised but are not used by the model.</p>"
                  + r.case_table(cases_df))
    sections.append(("record", "3. What it rests on", record))

    con = content.case_type_contrast(fit, q)
    sections.append(("case-types", "4. Ordinary versus high-profile cases", f"""
<p>For {r.esc(name)}, the same promise and verification: ordinary {con['ordinary']:.2f}, high-profile
{con['high_profile']:.2f}. The difference (ordinary minus high-profile) has posterior mean {con['mean']:+.2f}
(90% interval {con['lower']:+.2f} to {con['upper']:+.2f}). Probability that ordinary cases fare better:
<strong>{con['p_ordinary_better']:.2f}</strong>; worse: {con['p_ordinary_worse']:.2f}.</p>
<p class='small'>Few ordinary cases reach the public record, and mostly when the promise is checked in open court;
any difference here is learnt largely from other states and from the pooled case-type effect.</p>
<figure><img alt='difference' src='{r.fig_difference(con['draws'])}'></figure>"""))

    states = content.all_states(fit, q, interval)
    rank = int((states.receiving_state == state).to_numpy().nonzero()[0][0]) + 1 if state in set(states.receiving_state) else None
    sections.append(("states", "5. The state among all states", f"""
<p>The same question for each of the {len(states)} states with transfers in the record{f'; {r.esc(name)} ranks {rank} of {len(states)} from least to most likely to honour' if rank else ''}.</p>
<figure><img alt='forest plot' src='{r.fig_forest(states, state)}'></figure>"""))

    other = content.other_model(fit, q, cases) if compare_models else None
    if spec["detection"]:
        how = ("This fit is <strong>monitoring-aware</strong>: a breach enters the record only with a probability that "
               "depends on the verification level and case type; transfers with no known outcome count as "
               "'no breach reported'.")
    else:
        how = ("This fit reads the record at <strong>face value</strong>: transfers with no known outcome are left out and "
               "every breach is assumed to have been reported.")
    comp = "<p>The comparison refit was not run (it needs the fit's own case table).</p>"
    if other is not None:
        label = "face value" if other["model"] == "face_value" else "monitoring-aware"
        comp = r.table(["model", "P(honoured)", "90% interval", "P(ordinary fares better)"], [
            ["this fit", f"{ans['p_honored']:.2f}", f"{ans['p_honored_lower']:.2f} to {ans['p_honored_upper']:.2f}",
             f"{con['p_ordinary_better']:.2f}"],
            [label + " (refitted, same data and seed)", f"{other['p_honored']:.2f}",
             f"{other['lower']:.2f} to {other['upper']:.2f}", f"{other['p_ordinary_better']:.2f}"]], {1, 2, 3})
    sections.append(("detection", "6. How undetected breaches were handled", f"""
<p>{how}</p>{comp}
<p class='small'>Reading "no news" as "honoured" flatters states and can manufacture an advantage for ordinary
cases, which are watched less; dropping unknown outcomes errs the other way (docs/model.md, simulation study).
The detection probabilities cannot be learnt from the record; they come from stated priors (next section).</p>"""))

    pri = spec["priors"]
    prior_rows = [[r.esc(k), r.esc(v)] for k, v in pri.items() if k not in ("detection", "state_beliefs", "elicitation")]
    det_rows = [[r.esc(k), f"Beta({a:g}, {b:g})", f"{a / (a + b):.2f}"] for k, (a, b) in pri["detection"].items()]
    elic = "".join(f"<li>{r.esc(e['about'])}: centre {e['center']}, {e['mass']:.0%} in [{e['lower']}, {e['upper']}] "
                   f"&rarr; {r.esc(e['result'])}</li>" for e in pri.get("elicitation", []))
    sections.append(("model", "7. Model, priors and expert elicitation", f"""
<p>logit P(honoured) = intercept + state effect + (case-type effect + state-specific case-type effect) &times;
high-profile + PTS effect &times; standardised Political Terror Scale + effects of the promised items; state effects
partially pooled. Likelihood: {r.esc(spec['likelihood'])}. Full equations: docs/model.md.</p>
{r.table(['prior setting', 'value'], prior_rows)}
{r.table(['detection prior (verification/case type)', 'prior', 'mean'], det_rows) if spec['detection'] else ''}
<p>Expert elicitation: {('<ul>' + elic + '</ul>') if elic else 'none; the defaults above were used.'}</p>"""))

    diag = fit.diagnostics
    smp = meta["sampler"]
    sections.append(("diagnostics", "8. Sampler diagnostics", r.table(
        ["sampler", "chains x draws (warm-up)", "max R-hat", "min bulk ESS", "min tail ESS", "divergences", "verdict"],
        [[r.esc(smp["name"]), f"{smp['chains']} x {smp['draws']} ({smp['tune']})", f"{diag['r_hat_max']:.3f}",
          f"{diag['ess_bulk_min']:.0f}", f"{diag['ess_tail_min']:.0f}", str(diag["divergences"]),
          "converged" if fit.converged else "NOT converged"]])
        + "<p class='small'>Thresholds: R-hat &le; 1.01, both ESS &ge; 400, no divergent transitions.</p>"))

    sections.append(("validation", "9. Calibration and sensitivity evidence", _validation(check, q)))

    sections.append(("limitations", "10. Limitations", f"""
<ul><li><strong>Not a random sample.</strong> Cases enter the record when courts, NGOs or journalists write about
them; high-profile and security cases dominate.</li>
<li><strong>Sparse data.</strong> {meta['data']['n_transfers']} transfers across {len(fit.draws.states)} states;
most states have a handful. Estimates lean on pooling across states.</li>
<li><strong>Unseen breaches.</strong> How often breaches escape the record is an assumption (section 7), and the
answer moves with it (section 9).</li>
<li><strong>No number replaces judgement.</strong> This estimate describes a state's record with a kind of case;
it knows nothing of the person, the charges, the prison or the officials involved.</li></ul>"""))

    sections.append(("othman", "11. The Othman factors the data speak to", f"""
<p>The European Court of Human Rights listed factors for assessing assurances in <em>Othman (Abu Qatada) v. United
Kingdom</em>, no. 8139/09, judgment of 17 January 2012, &sect; 189. The data speak to three of them:</p>
<ul><li><strong>The receiving state's record in abiding by similar assurances</strong> (factor vii): sections 2 to 5.
{f"The record holds {len(cases_df)} assurance events by {r.esc(name)}." if cases_df is not None else ''}</li>
<li><strong>Whether compliance can be objectively verified through diplomatic or other monitoring</strong>
(factor viii): the verification level assumed here is <em>{r.esc(watched)}</em>;
{f"the model puts the chance that a breach would go unreported at {ans['p_breach_unreported']:.0%}." if 'p_breach_unreported' in ans else 'this face-value fit assumes every breach is reported.'}</li>
<li><strong>Whether there is an effective system of protection against torture in the receiving state</strong>
(factor ix), in part: the model uses the Political Terror Scale as a state-level covariate.</li></ul>
<p class='small'>The other factors (disclosure and specificity of the terms, who gave the assurance and whether they
can bind the state, whether local authorities will abide, whether the treatment is legal there, whether the state
is a Convention party, the person's own history, domestic courts' examination) are for the court on the evidence of
the individual case; this report does not address them.</p>"""))

    vers = meta.get("versions", {})
    sections.append(("reproducibility", "12. Reproducibility", f"""
{r.table(['item', 'value'], [
    ['assurisk version (this report)', r.esc(__version__)],
    ['fit: model / model id', f"{r.esc(meta['model'])} / {r.esc(meta['model_id'])}"],
    ['fit created / by assurisk', f"{r.esc(meta['created'])} / {r.esc(meta['assurisk_version'])}"],
    ['case table sha256', f"<code>{r.esc(meta['data']['sha256'])}</code>"],
    ['sampler seed', r.esc(smp['seed'])],
    ['library versions', r.esc(', '.join(f'{k} {v}' for k, v in vers.items()))],
])}
<p>Commands (from a checkout of the assurisk repository):</p>
<pre><code>bash scripts/quickstart.sh
assurisk fit --cases data/cases.csv --out fit.nc --seed {r.esc(smp['seed'])}{' --no-covariate' if not spec['covariates'] else ''}{'' if spec['detection'] else ' --no-detection'}
assurisk check --fit fit.nc --state {state} --case-type {case_type} --out check
assurisk report --fit fit.nc --check check --state {state} --case-type {case_type}{f' --year {year}' if year else ''}{f" --assurance '{assurance}'" if assurance else ''}{f' --monitoring {monitoring}' if monitoring else ''} --out report.html</code></pre>"""))

    data = {"question": q, "interval": interval, "sections": list(SECTION_IDS),
            **{k: v for k, v in ans.items() if k != "draws"},
            "difference": {k: v for k, v in con.items() if k != "draws"},
            "other_model": other, "fit": {"model_id": meta["model_id"], "data_sha256": meta["data"]["sha256"],
                                          "seed": smp["seed"]}, "assurisk_version": __version__}
    out_html = r.page(f"Diplomatic assurance assessment: {name}, {kind} case", sections, data)
    if out is not None:
        out = Path(out)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(out_html, encoding="utf-8")
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
    return out_html


def _validation(check, q: dict) -> str:
    if check is None:
        return ("<p><strong>Not run for this report.</strong> Run <code>assurisk check --state "
                f"{r.esc(q['receiving_state'])} --case-type {r.esc(q['case_type'])} --out check</code> and pass "
                "<code>--check check</code> to include simulation-based calibration, interval coverage, "
                "leave-one-out scores and the robustness table. The bundled fit's results are in docs/validation.md.</p>")
    path = Path(check)
    path = path / "summary.json" if path.is_dir() else path
    s = json.loads(path.read_text())
    parts = []
    if "sbc" in s:
        sb = s["sbc"]
        parts.append(f"<li>Simulation-based calibration, {sb['n_sims']} simulated datasets on the real design: "
                     f"<strong>{'passed' if sb['passed'] else 'FAILED'}</strong> (" + ", ".join(
                         f"{k} p={v['chi2_p']:.2f}" for k, v in sb["params"].items()) + ").</li>")
    if "coverage" in s:
        parts.append("<li>Interval coverage: " + ", ".join(
            f"{float(k):.0%} intervals contain the truth {v['coverage']:.1%} of the time"
            for k, v in s["coverage"]["levels"].items()) + ".</li>")
    if "predictive" in s:
        sc = s["predictive"]["scores"]
        parts.append("<li>Leave-one-out log score (higher is better): " + ", ".join(
            f"{r.esc(k)} {v['log_score']:.3f}" for k, v in sc.items()) + ".</li>")
    html_out = "<ul>" + "".join(parts) + "</ul>"
    rob = s.get("robustness")
    if rob:
        same = rob["question"]["receiving_state"] == q["receiving_state"] and rob["question"]["case_type"] == q["case_type"]
        note = "" if same else (f"<p class='small'>The robustness table was computed for {r.esc(rob['question'])}, "
                                "not for this question.</p>")
        html_out += note + r.table(["alternative", "P(honoured)", "90% interval"], [
            [r.esc(x["alternative"]), f"{x['p_honored']:.2f}", f"{x['lower']:.2f} to {x['upper']:.2f}"]
            for x in rob["rows"]], {1, 2})
        html_out += f"<figure><img alt='robustness' src='{r.fig_robustness(rob['rows'])}'></figure>"
    return html_out
