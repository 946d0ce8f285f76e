"""Fit speed, side by side in one run on the same data: assurisk's models against Bambi's simpler model.

Each configuration runs in a fresh Python process (imports excluded from the timing; the compile
caches are warm after a first, untimed, run of each), `--reps` times; the table gives the median and
range of the wall time of the fit call itself. Configurations:

  assurisk default       monitoring-aware, three outcomes, PTS covariate; nutpie (Numba backend)
  assurisk face value    detection=False
  assurisk default, JAX  the same model, nutpie with the JAX backend (needs jax installed)
  Bambi                  honored ~ high_profile + (1 + high_profile | receiving_state), Bernoulli, on the
                         same record's transfers with a known outcome; Bambi's default sampler (nutpie)

All with 4 chains x (1000 warm-up + 1000 draws) and 2 cores. Needs `pip install bambi` (not an assurisk
dependency). Run:  .venv/bin/python benchmarks/fit_speed.py --reps 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap

CODE = {
    "assurisk default": """
        import assurisk, warnings
        from assurisk.resources import data_path
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = assurisk.fit(data_path("cases.csv"), draws=1000, tune=1000, seed=1)
        out = {"seconds": time.perf_counter() - t, "converged": fit.converged}
    """,
    "assurisk face value": """
        import assurisk, warnings
        from assurisk.resources import data_path
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = assurisk.fit(data_path("cases.csv"), detection=False, draws=1000, tune=1000, seed=1)
        out = {"seconds": time.perf_counter() - t, "converged": fit.converged}
    """,
    "assurisk default, nutpie JAX backend (sampling only)": """
        import warnings
        import numpy as np
        from assurisk import contract, fitting
        from assurisk.design import build_design
        from assurisk.model import build_model
        from assurisk.priors import Priors
        from assurisk.resources import data_path
        pm = fitting._import_pymc()
        import nutpie
        _, rows = contract.parse(data_path("cases.csv"), "fit", require_year=True)
        x, x_sd, _, tt = fitting.row_covariates(rows, "pts", False)
        d = build_design(rows, x, x_center=float(np.average(x[rows.n_transfers > 0], weights=rows.n_transfers[rows.n_transfers > 0])), x_sd=x_sd)
        m = build_model(d, Priors(), use_covariate=True, detection=True)
        t = time.perf_counter()
        cm = nutpie.compile_pymc_model(m, backend="jax", gradient_backend="jax")
        tr = nutpie.sample(cm, draws=1000, tune=1000, chains=4, cores=2, seed=1, progress_bar=False)
        out = {"seconds": time.perf_counter() - t, "converged": int(tr.sample_stats.diverging.sum()) == 0}
    """,
    "Bambi: honored ~ high_profile + (1 + high_profile | state)": """
        import warnings
        import bambi as bmb
        import pandas as pd
        from assurisk.resources import data_path
        df = pd.read_csv(data_path("cases.csv"), dtype=str, keep_default_na=False)
        df = df[df.outcome.isin(["honored", "breached"])].copy()
        df["honored"] = (df.outcome == "honored").astype(int)
        df["high_profile"] = (df.case_type == "high_profile").astype(int)
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = bmb.Model("honored ~ high_profile + (1 + high_profile | receiving_state)", df, family="bernoulli")
            idata = model.fit(draws=1000, tune=1000, chains=4, cores=2, random_seed=1, progressbar=False)
        out = {"seconds": time.perf_counter() - t, "converged": int(idata.sample_stats.diverging.sum()) == 0,
               "rows": int(len(df))}
    """,
}


def run(name: str) -> dict | None:
    prog = "import time, json\n" + textwrap.dedent(CODE[name]) + "\nprint('RESULT ' + json.dumps(out))\n"
    r = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=1800)
    for line in r.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    print(f"[{name}] failed: {r.stderr[-500:]}", file=sys.stderr)
    return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    results = {}
    for name in CODE:
        run(name)  # warm the compile caches; not timed
        got = [run(name) for _ in range(args.reps)]
        got = [g for g in got if g]
        if got:
            s = [g["seconds"] for g in got]
            results[name] = {"median": statistics.median(s), "min": min(s), "max": max(s), "runs": got}
            print(f"{name}: median {statistics.median(s):.1f} s", flush=True)
    bambi = results.get("Bambi: honored ~ high_profile + (1 + high_profile | state)")
    print("\n| fit | median (s) | min | max | ratio to Bambi |\n|---|---|---|---|---|")
    for name, r in results.items():
        ratio = f"{r['median'] / bambi['median']:.2f}" if bambi else "n/a"
        print(f"| {name} | {r['median']:.1f} | {r['min']:.1f} | {r['max']:.1f} | {ratio} |")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
