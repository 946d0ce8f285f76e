"""Benchmarks (not tests): scoring throughput, import and CLI latency, and a fit on the bundled data.

Run from the project root:  .venv/bin/python benchmarks/bench.py [--skip-fit]
Prints a Markdown table for docs/performance.md and writes benchmarks/out/bench.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def wall(cmd: list[str], env=None) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    return time.perf_counter() - t


def bench_import(reps: int) -> list[float]:
    code = "import time; t=time.perf_counter(); import assurisk; print(time.perf_counter()-t)"
    return [float(subprocess.run([PY, "-c", code], check=True, capture_output=True, text=True).stdout) for _ in range(reps)]


def bench_cli(reps: int) -> list[float]:
    cli = str(Path(PY).with_name("assurisk"))
    cmd = [cli, "score", "--state", "CHN", "--case-type", "ordinary"] if os.path.exists(cli) else \
          [PY, "-m", "assurisk.cli", "score", "--state", "CHN", "--case-type", "ordinary"]
    return [wall(cmd) for _ in range(reps)]


def bench_score(n_rows: int, reps: int) -> dict:
    import numpy as np
    import pandas as pd

    import assurisk

    fit = assurisk.default_fit()
    rng = np.random.default_rng(0)
    states = np.array(["CHN", "EGY", "JOR", "RUS", "USA", "IND", "FRA", "BRA", "TUN", "UZB"])
    table = pd.DataFrame({
        "receiving_state": states[rng.integers(0, len(states), n_rows)],
        "case_type": np.where(rng.random(n_rows) < 0.5, "ordinary", "high_profile"),
        "year": rng.integers(2000, 2024, n_rows),
    })
    fit.score(table.head(1000))  # load draws and covariates once
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        out = fit.score(table)
        times.append(time.perf_counter() - t)
    return {"rows": n_rows, "patterns": int(out[["receiving_state", "case_type", "year"]].drop_duplicates().shape[0]),
            "draws": fit.draws.n_draws, "seconds": times}


def bench_fit(cold: bool) -> float:
    env = dict(os.environ)
    if cold:
        env["PYTENSOR_FLAGS"] = f"base_compiledir={tempfile.mkdtemp(prefix='pytensor-cold-')}"
    with tempfile.TemporaryDirectory() as d:
        return wall([PY, "-m", "assurisk.cli", "fit", "--cases", str(ROOT / "data" / "cases.csv"),
                     "--out", str(Path(d) / "f.nc"), "--seed", "1", "--quiet"], env=env)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--skip-fit", action="store_true")
    args = ap.parse_args()

    res = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}}
    res["import_assurisk_s"] = bench_import(args.reps)
    res["cli_score_wall_s"] = bench_cli(args.reps)
    res["score"] = bench_score(args.rows, args.reps)
    if not args.skip_fit:
        res["fit_cold_cache_s"] = bench_fit(cold=True)
        res["fit_warm_cache_s"] = bench_fit(cold=False)
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    (out / "bench.json").write_text(json.dumps(res, indent=2))

    med = statistics.median
    print("| measure | median | min | max |\n|---|---|---|---|")
    for label, xs in (("`import assurisk` (s)", res["import_assurisk_s"]),
                      ("`assurisk score --state CHN --case-type ordinary`, wall (s)", res["cli_score_wall_s"]),
                      (f"score {res['score']['rows']:,} rows ({res['score']['patterns']} patterns x "
                       f"{res['score']['draws']} draws) (s)", res["score"]["seconds"])):
        print(f"| {label} | {med(xs):.3f} | {min(xs):.3f} | {max(xs):.3f} |")
    if not args.skip_fit:
        print(f"| fit on bundled data, 4 chains x (1000+1000), cold compile cache (s) | {res['fit_cold_cache_s']:.1f} | | |")
        print(f"| same, warm compile cache (s) | {res['fit_warm_cache_s']:.1f} | | |")


if __name__ == "__main__":
    main()
