"""``assurisk check``: how far the probabilities can be trusted, in numbers.

- predictive checks (PSIS-LOO, LOO-PIT, leave-one-out Brier and log scores against simple baselines);
- simulation-based calibration of the model on the fit's own design;
- coverage of 50% and 90% intervals when the truth is drawn from the fitted posterior;
- sensitivity: power-scaling, and a robustness table for one question under named alternatives.

Each piece is a function; :func:`run_check` runs them, writes ``summary.json`` and figures, and
returns the summary. Heavy libraries (PyMC, nutpie, ArviZ) are imported only here.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

from .._version import __version__
from . import calibration, figures, predictive, replay, sensitivity


def _cases_for(fit, cases):
    """The case table the fit was made from (checked by sha256); the bundled one by default."""
    import pandas as pd

    from ..errors import InputError
    from ..storage import own_case_table

    path = own_case_table(fit.meta, cases)
    if path is None:
        raise InputError(f"{str(cases) if cases else 'the bundled cases.csv'!r} is not the table this fit was made "
                         "from (sha256 differs); pass the fit's own case table with --cases")
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


def run_check(fit=None, *, cases=None, sbc: int = 200, coverage: int = 100, sensitivity_: bool = True,
              question: dict | None = None, out: str | Path | None = None, executor=None, seed: int = 0,
              settings: replay.RefitSettings = replay.RefitSettings(), log=print) -> dict:
    """Run the checks on ``fit`` (default: the bundled fit) and write the results to ``out``."""
    import assurisk

    fit = fit or assurisk.default_fit()
    question = question or {"receiving_state": "CHN", "case_type": "ordinary"}
    out = Path(out) if out is not None else None
    if out is not None:
        try:
            out.mkdir(exist_ok=True)  # one level: the folder it is in must exist (the CLI checks this first)
        except OSError as exc:
            from ..safe_write import OutputError

            raise OutputError(f"cannot create folder {str(out)!r}: {exc.strerror or exc}") from None
    spec = replay.spec_from_fit(fit)
    summary = {"assurisk_version": __version__, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "fit": {"model": fit.meta["model"], "model_id": fit.meta["model_id"], "data_sha256": fit.meta["data"]["sha256"],
                       "seed": fit.meta["sampler"]["seed"], "converged": fit.converged},
               "check_seed": seed, "settings": settings.__dict__, "timings_s": {}, "figures": {}}

    t = time.perf_counter()
    pred = predictive.predictive_checks(fit, spec, seed=seed)
    summary["timings_s"]["predictive"] = round(time.perf_counter() - t, 2)
    summary["predictive"] = {k: v for k, v in pred.items() if k != "loo_pit"}
    if out is not None:
        summary["figures"]["reliability"] = str(figures.reliability(pred, out / "reliability.png").name)
    log(f"predictive checks done ({summary['timings_s']['predictive']} s)")

    if sbc:
        t = time.perf_counter()
        res = calibration.sbc(spec, sbc, settings=settings, seed=seed, executor=executor)
        summary["timings_s"]["sbc"] = round(time.perf_counter() - t, 2)
        summary["sbc"] = res
        if out is not None:
            summary["figures"]["sbc"] = str(figures.sbc_ecdf(res, out / "sbc_ecdf.png").name)
        log(f"SBC done: {sbc} fits ({summary['timings_s']['sbc']} s)")
    if coverage:
        t = time.perf_counter()
        summary["coverage"] = calibration.coverage(fit, spec, coverage, settings=settings, seed=seed + 1,
                                                   executor=executor)
        summary["timings_s"]["coverage"] = round(time.perf_counter() - t, 2)
        log(f"coverage done: {coverage} fits ({summary['timings_s']['coverage']} s)")
    if sensitivity_:
        t = time.perf_counter()
        ps = sensitivity.power_scaling(fit, spec)
        summary["power_scaling"] = {str(k): {c: (v if isinstance(v, str) else float(v)) for c, v in row.items()}
                                    for k, row in ps.iterrows()}
        table = _cases_for(fit, cases)
        rows = sensitivity.robustness(fit, spec, table, question, executor=executor, seed=seed)
        summary["robustness"] = {"question": question, "rows": rows}
        summary["timings_s"]["sensitivity"] = round(time.perf_counter() - t, 2)
        if out is not None:
            summary["figures"]["robustness"] = str(figures.robustness(rows, question, out / "robustness.png").name)
        log(f"sensitivity done ({summary['timings_s']['sensitivity']} s)")
    if out is not None:
        from ..safe_write import write_text

        write_text(out / "summary.json", json.dumps(summary, indent=1))
    return summary


def _health(part: dict) -> str:
    if "unconverged_fits" not in part:
        return "  refits: convergence not recorded"
    rh = part.get("r_hat_max_median")
    return (f"  refits: {part.get('divergent_fits', 0)} of {part['n_sims']} with divergences; "
            f"{part['unconverged_fits']} of {part['n_sims']} miss the fit-level thresholds (short chains by design"
            + (f"; median worst R-hat {rh:.3f}" if rh is not None else "") + ")")


def format_summary(s: dict) -> str:
    """A short plain-text table of the results, for the terminal."""
    lines = []
    p = s["predictive"]
    lines.append(f"PSIS-LOO: elpd {p['elpd_loo']:.1f} (SE {p['elpd_se']:.1f}), p_loo {p['p_loo']:.1f}, "
                 f"max Pareto k {p['pareto_k_max']:.2f} ({p['n_pareto_k_over_0.7']} over 0.7); "
                 f"LOO-PIT KS p {p['loo_pit_ks_p']:.2f}")
    lines.append(f"  {'leave-one-out scores':<34}{'Brier':>8}{'log score':>11}")
    for name, sc in p["scores"].items():
        lines.append(f"  {name:<34}{sc['brier']:>8.3f}{sc['log_score']:>11.3f}")
    if "sbc" in s:
        sb = s["sbc"]
        lines.append(f"SBC ({sb['n_sims']} simulations, {sb['n_posterior_draws']} draws each): "
                     f"{'PASS' if sb['passed'] else 'FAIL'}")
        lines.append(_health(sb))
        for name, r in sb["params"].items():
            lines.append(f"  {name:<34} chi2 p {r['chi2_p']:.3f}  {'pass' if r['passed'] else 'FAIL'}")
    if "coverage" in s:
        c = s["coverage"]
        cells = ", ".join(f"{float(k):.0%} intervals cover {v['coverage']:.1%} (MC SE {v['mc_se']:.1%})"
                          for k, v in c["levels"].items())
        lines.append(f"Coverage ({c['n_sims']} simulations x {c['n_patterns']} patterns): {cells}")
        lines.append(_health(c))
    if "robustness" in s:
        q = s["robustness"]["question"]
        lines.append(f"Robustness, {q['receiving_state']} {q['case_type']}: P(honoured) and 90% interval")
        for r in s["robustness"]["rows"]:
            flag = "" if r["converged"] else f"  NOT CONVERGED ({r['divergences']} divergences)"
            lines.append(f"  {r['alternative'][:60]:<62}{r['p_honored']:.2f} ({r['lower']:.2f} to {r['upper']:.2f}){flag}")
    return "\n".join(lines)
