"""Simulation study: does the monitoring-aware model recover P(honoured) when breaches go unseen?

Each replication simulates a record in the real data's regime (20 states, 3 to 15 transfers each,
as in the bundled data), where breaches enter the record only when someone watches (more often for
high-profile cases, and more often with consular or independent monitoring) or, rarely, surface
anyway, and a kept promise is shown to be kept only when someone watches. Ordinary and high-profile
cases are equally at risk. Four readings are fitted:

  aware               the monitoring-aware model, three outcomes (the default)
  two_outcome         the landed v1 likelihood: 'honoured' read as 'no breach reported' (the same
                      model with verification fixed near zero: every non-breach is 'nothing known')
  drop_unknown        face value, transfers with no known outcome left out
  unknown_as_honored  face value, "no news" read as honoured

and compared on the 40 state x case-type probabilities: mean error, RMSE, 50% and 90% interval
coverage, mean 90% interval width, and the estimated ordinary-minus-high-profile gap (truth: about 0).
Only fits that meet the convergence thresholds enter the summary; the share that did is reported.

Run:  .venv/bin/python benchmarks/simulation_study.py --reps 20    (two compiles, then about 8 s per replication)
Writes benchmarks/out/simulation_study.json and prints a Markdown table for docs/model.md.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import assurisk
from assurisk.simulate import simulate_monitored

READINGS = ("aware", "two_outcome", "drop_unknown", "unknown_as_honored")


def _datasets(seed: int):
    rng = np.random.default_rng(seed)
    cases, truth = simulate_monitored(n_states=20, transfers_per_state=15, seed=seed)
    keep = np.concatenate([np.arange(i * 15, i * 15 + rng.integers(3, 16)) for i in range(20)])
    cases = cases.iloc[keep].reset_index(drop=True)
    return cases, truth, {
        "aware": (cases, True),
        "two_outcome": (cases.assign(outcome=cases.outcome.replace("honored", "unknown")), True),
        "drop_unknown": (cases, False),
        "unknown_as_honored": (cases.assign(outcome=cases.outcome.replace("unknown", "honored")), False)}


def _base_fits(draws: int) -> dict[bool, "assurisk.Fit"]:
    """One fit per likelihood, whose compiled model every replication reuses (compile once)."""
    _, _, data = _datasets(999)
    out = {}
    # The face-value base uses the reading with every outcome known, so that all 20 states are in its model.
    for detection, reading in ((True, "aware"), (False, "unknown_as_honored")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[detection] = assurisk.fit(data[reading][0], covariates=None, detection=detection, draws=draws,
                                          tune=draws, seed=1)
    return out


def one_replication(seed: int, base: dict, settings) -> list[dict]:
    from assurisk.check import replay

    cases, truth, data = _datasets(seed)
    rows = []
    from dataclasses import replace

    for name, (table, detection) in data.items():
        fit0 = base[detection]
        spec = replay.spec_from_fit(fit0)
        if name == "two_outcome":
            spec = replace(spec, priors=replace(spec.priors, verification={k: (1.0, 1e4) for k in spec.priors.verification}))
        design = replay.design_for(spec, table, detection=detection)
        if design is None or design.n.sum() == 0:
            raise RuntimeError(f"replication {seed}, reading {name}: its states are not all in the compiled model")
        res = replay.run_refits(spec, [(design, design.counts, seed)], settings)[0]
        fit = fit0.__class__(replay.draws_of(res, spec.design.states), fit0.meta)
        s = fit.score(truth, interval=0.9)
        s50 = fit.score(truth, interval=0.5)
        by = s.groupby("case_type")[["p_honored", "p_true"]].mean()
        rows.append({
            "seed": seed, "reading": name, "converged": bool(res["converged"]), "divergences": int(res["divergences"]),
            "mean_error": float((s.p_honored - s.p_true).mean()),
            "rmse": float(np.sqrt(((s.p_honored - s.p_true) ** 2).mean())),
            "cover90": float(((s.p_true >= s.p_honored_lower) & (s.p_true <= s.p_honored_upper)).mean()),
            "cover50": float(((s50.p_true >= s50.p_honored_lower) & (s50.p_true <= s50.p_honored_upper)).mean()),
            "width90": float((s.p_honored_upper - s.p_honored_lower).mean()),
            "gap_est": float(by.p_honored["ordinary"] - by.p_honored["high_profile"]),
            "gap_true": float(by.p_true["ordinary"] - by.p_true["high_profile"]),
            "n_transfers": len(table), "n_unknown": int((cases.outcome == "unknown").sum()),
        })
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--draws", type=int, default=1000)
    args = ap.parse_args()
    t0 = time.perf_counter()
    from assurisk.check import replay

    base = _base_fits(args.draws)
    settings = replay.RefitSettings(draws=args.draws, tune=args.draws, chains=4, thin=1)
    rows = [r for seed in range(args.reps) for r in one_replication(1000 + seed, base, settings)]
    df_all = pd.DataFrame(rows)
    share = df_all.groupby("reading").converged.mean()
    df = df_all[df_all.converged]  # only converged fits are reported
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "simulation_study.json").write_text(json.dumps(rows, indent=1))
    g = df.groupby("reading")
    summary = pd.DataFrame({
        "mean error": g.mean_error.mean(), "RMSE": g.rmse.mean(),
        "90% coverage": g.cover90.mean(), "50% coverage": g.cover50.mean(), "90% width": g.width90.mean(),
        "ordinary - high-profile gap (est.)": g.gap_est.mean(), "(true)": g.gap_true.mean(),
        "share of fits converged": share, "fits reported": g.size(),
    }).loc[[r for r in READINGS if r in g.groups]]
    n_cells = 40 * args.reps
    print(f"{args.reps} replications, {n_cells} state x case-type cells per reading, "
          f"{time.perf_counter() - t0:.0f} s; mean transfers per dataset {df.n_transfers.mean():.0f}, "
          f"of which with no known outcome {df.n_unknown.mean():.0f}")
    print(f"Monte Carlo SE of a 90% coverage over {n_cells} cells (if independent): "
          f"{np.sqrt(0.9 * 0.1 / n_cells):.3f}")
    print("| reading | " + " | ".join(summary.columns) + " |")
    print("|---" * (len(summary.columns) + 1) + "|")
    for name, r in summary.iterrows():
        print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in r) + " |")


if __name__ == "__main__":
    main()
