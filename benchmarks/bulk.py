"""Bulk scoring benchmarks (not tests): the CLI on big tables, side by side with pyarrow, from one run.

Run from the project root:

    .venv/bin/python benchmarks/bulk.py [--rows 1000000] [--distinct-rows 20000] [--baseline REF] [--reps 3]

Measures, in one run and on the same files:

1. A CSV of ``--rows`` rows (id, state, case type, year; a few hundred distinct patterns):
   pyarrow reading it and writing the same rows plus the score columns (in-process, and as a whole
   ``python -c`` script with interpreter start-up), against ``assurisk score --input in.csv --output
   out.csv`` (a whole process). Also Parquet in and out, and the peak memory of the CLI at ``--rows``
   and at four times that (bounded memory: scoring is chunked).
2. A CSV of ``--distinct-rows`` rows that are all different patterns (states, years, case types,
   promises and monitoring all vary): the CLI on the whole table (one thread), and on a
   ``--baseline-sample`` of it with one and two threads.
3. With ``--baseline REF`` (a git commit, e.g. the one before the bulk work), the same CLI commands
   run from that commit's sources, for the before/after comparison: the regular CSV in full, the
   all-distinct sample in full (its cost is linear in patterns, so the whole table is extrapolated).

Prints Markdown tables for docs/performance.md and writes benchmarks/out/bulk.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
ITEMS = ("torture", "detention_conditions", "death_penalty", "fair_trial", "consular_access", "specialty", "other")


def regular_table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    states = np.array(["CHN", "EGY", "JOR", "RUS", "USA", "IND", "FRA", "BRA", "TUN", "UZB"])
    return pd.DataFrame({"id": np.arange(n), "receiving_state": states[rng.integers(0, len(states), n)],
                         "case_type": np.where(rng.random(n) < 0.5, "ordinary", "high_profile"),
                         "year": rng.integers(2000, 2024, n)})


def distinct_table(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` rows, almost all different patterns: 197 states x 48 years x 2 case types x 127 promises x 3 levels."""
    sys.path.insert(0, str(ROOT / "src"))
    from assurisk.states import sovereign_codes

    rng = np.random.default_rng(seed)
    states = np.array(sorted(sovereign_codes() - {"XKX"}))  # XKX: not accepted by the baseline
    promises = np.array([";".join(t for k, t in enumerate(ITEMS) if m >> k & 1) for m in range(1, 128)])
    df = pd.DataFrame({"receiving_state": states[rng.integers(0, len(states), n)],
                       "case_type": np.where(rng.random(n) < 0.5, "ordinary", "high_profile"),
                       "year": rng.integers(1976, 2024, n),
                       "assurance_types": promises[rng.integers(0, len(promises), n)],
                       "monitoring": np.array(["none", "consular", "independent"])[rng.integers(0, 3, n)]})
    return df.drop_duplicates(ignore_index=True)


def model_patterns(table: pd.DataFrame) -> int:
    """How many of the table's patterns the bundled model can tell apart."""
    sys.path.insert(0, str(ROOT / "src"))
    import assurisk
    from assurisk import contract, scoring

    fit = assurisk.default_fit()
    _, rows = contract.parse(table, "score")
    pat = scoring.find_patterns(rows, fit.draws, fit._covariate(), fit.x_center)
    key = np.column_stack([pat.state_idx, pat.high_profile, pat.x, pat.monitoring, pat.assurance])
    return len(np.unique(key, axis=0))


def run(cmd: list[str], env=None) -> dict:
    """Wall time, CPU time (user + sys of the child) and peak RSS of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd} failed: {p.stderr}")
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far; measured with /usr/bin/time where present
    return {"wall": wall, "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)}


def peak_rss_mb(cmd: list[str], env=None) -> float | None:
    if not Path("/usr/bin/time").exists():
        return None
    p = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True, env=env)
    return int(p.stderr.strip().splitlines()[-1]) / 1024


def cli(src: Path, *args, env=None) -> list[str]:
    return [PY, "-m", "assurisk.cli", "score", "--input", str(src), *map(str, args)]


PYARROW_SCRIPT = """
import sys, time
t0 = time.perf_counter()
import pyarrow as pa, pyarrow.csv as pacsv, pyarrow.parquet as pq
t1 = time.perf_counter()
src, scores, out, fmt = sys.argv[1:5]
t = time.perf_counter()
table = pacsv.read_csv(src) if fmt == "csv" else pq.read_table(src)
read = time.perf_counter() - t
extra = pq.read_table(scores)  # the score columns assurisk wrote (not timed: pyarrow does not compute them)
for name in extra.column_names:
    table = table.append_column(name, extra[name])
t = time.perf_counter()
pacsv.write_csv(table, out) if fmt == "csv" else pq.write_table(table, out)
write = time.perf_counter() - t
print(read, write, t1 - t0)
"""


def pyarrow_baseline(src: Path, scores: Path, out: Path, fmt: str) -> dict:
    t = time.perf_counter()
    p = subprocess.run([PY, "-c", PYARROW_SCRIPT, str(src), str(scores), str(out), fmt], capture_output=True,
                       text=True, check=True)
    wall = time.perf_counter() - t
    read, write, imp = map(float, p.stdout.split())
    return {"read": read, "write": write, "read_write": read + write, "import": imp, "wall": wall}


def baseline_env(ref: str, where: Path) -> dict:
    """An environment whose PYTHONPATH holds the sources (and data) of commit ``ref``."""
    archive = where / "src.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), ref, "src", "data"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(where / "tree", filter="data")
    return {**os.environ, "PYTHONPATH": str(where / "tree" / "src")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--distinct-rows", type=int, default=1_000_000)
    ap.add_argument("--baseline-sample", type=int, default=10_000,
                    help="rows of the all-distinct table timed before/after (the baseline is linear in patterns)")
    ap.add_argument("--skip-full", action="store_true", help="do not score the whole all-distinct table")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--baseline", help="git ref whose CLI to time on the same files (e.g. the commit before the bulk work)")
    ap.add_argument("--skip-memory", action="store_true")
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    med = statistics.median
    res = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                       "load_average_at_start": os.getloadavg()}, "rows": args.rows}
    with tempfile.TemporaryDirectory(prefix="assurisk-bulk-") as d:
        d = Path(d)
        base_env = baseline_env(args.baseline, d) if args.baseline else None
        src = d / "in.csv"
        regular_table(args.rows).to_csv(src, index=False)
        regular_table(args.rows).to_parquet(d / "in.parquet", index=False)
        # The score columns once, for the pyarrow baseline to write.
        run(cli(src, "--output", d / "scored.parquet"), env)
        subprocess.run([PY, "-c", "import pyarrow.parquet as pq, sys; t = pq.read_table(sys.argv[1]);"
                        "pq.write_table(t.select([c for c in t.column_names if c not in ('id', 'receiving_state', "
                        "'case_type', 'year')]), sys.argv[2])", str(d / "scored.parquet"), str(d / "scores.parquet")],
                       check=True)
        for fmt in ("csv", "parquet"):
            inp = d / f"in.{fmt}"
            out = d / f"out.{fmt}"
            r = {"pyarrow": [], "assurisk": [], "baseline": []}
            for _ in range(args.reps):
                r["pyarrow"].append(pyarrow_baseline(inp, d / "scores.parquet", d / f"pa.{fmt}", fmt))
                r["assurisk"].append(run(cli(inp, "--output", out), env))
                if base_env and fmt == "csv":
                    r["baseline"].append(run(cli(inp, "--output", d / "old.csv"), base_env))
            res[fmt] = r
        if not args.skip_memory:
            big = d / "big.csv"
            regular_table(4 * args.rows, seed=1).to_csv(big, index=False)
            res["peak_rss_mb"] = {str(args.rows): peak_rss_mb(cli(src, "--output", d / "m1.csv"), env),
                                  str(4 * args.rows): peak_rss_mb(cli(big, "--output", d / "m4.csv"), env)}
            big.unlink()
        dist = d / "distinct.csv"
        table = distinct_table(args.distinct_rows)
        table.to_csv(dist, index=False)
        sample = d / "sample.csv"
        table.sample(min(args.baseline_sample, len(table)), random_state=0).to_csv(sample, index=False)
        n_sample = min(args.baseline_sample, len(table))
        res["distinct"] = {"rows": len(table), "model_patterns": model_patterns(table), "sample_rows": n_sample,
                           "sample": {}, "full": {}}
        for _ in range(args.reps):  # the same sample, old and new alternately (the machine's load varies)
            for key, cmd, e in (("threads_1", cli(sample, "--output", d / "s1.csv", "--threads", 1), env),
                                ("threads_2", cli(sample, "--output", d / "s2.csv", "--threads", 2), env)) + (
                                (("baseline", cli(sample, "--output", d / "s0.csv"), base_env),) if base_env else ()):
                res["distinct"]["sample"].setdefault(key, []).append(run(cmd, e))
        if base_env:
            a, b = pd.read_csv(d / "s1.csv"), pd.read_csv(d / "s0.csv")
            res["distinct"]["max_abs_difference_vs_baseline"] = float(
                max((a[c] - b[c]).abs().max() for c in ("p_honored", "p_honored_lower", "p_honored_upper")))
        if not args.skip_full:
            res["distinct"]["full"]["threads_1"] = run(cli(dist, "--output", d / "d1.csv", "--threads", 1), env)
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    (out / "bulk.json").write_text(json.dumps(res, indent=2))

    print(f"Load average at start: {res['machine']['load_average_at_start']}\n")
    print(f"| {args.rows:,} rows | median wall (s) | min | max |\n|---|---|---|---|")
    for fmt in ("csv", "parquet"):
        r = res[fmt]
        pa_rw = [x["read_write"] for x in r["pyarrow"]]
        pa_wall = [x["wall"] for x in r["pyarrow"]]
        ours = [x["wall"] for x in r["assurisk"]]
        for label, xs in ((f"pyarrow: read {fmt} + write {fmt} with the score columns (in-process)", pa_rw),
                          (f"pyarrow: the same as a whole `python -c` script", pa_wall),
                          (f"`assurisk score --input in.{fmt} --output out.{fmt}` (whole process)", ours)):
            print(f"| {label} | {med(xs):.2f} | {min(xs):.2f} | {max(xs):.2f} |")
        if r["baseline"]:
            xs = [x["wall"] for x in r["baseline"]]
            print(f"| the same command at {args.baseline} | {med(xs):.2f} | {min(xs):.2f} | {max(xs):.2f} |")
        print(f"| ratio assurisk / pyarrow in-process ({fmt}) | {med(ours) / med(pa_rw):.1f}x | | |")
        print(f"| ratio assurisk / pyarrow script ({fmt}) | {med(ours) / med(pa_wall):.1f}x | | |")
    if "peak_rss_mb" in res:
        for k, v in res["peak_rss_mb"].items():
            print(f"| peak memory of the CLI, {int(k):,}-row CSV (MB) | {v:.0f} | | |")
    dd = res["distinct"]
    print(f"\nAll-distinct table: {dd['rows']:,} distinct input patterns, {dd['model_patterns']:,} distinct to the model "
          "(years with the same PTS score are one pattern)\n")
    print(f"| {dd['sample_rows']:,}-row sample of it | median wall (s) | median CPU (s) | CPU ms / row |\n|---|---|---|---|")
    for key, label in (("baseline", f"at {args.baseline}"), ("threads_1", "now, --threads 1"), ("threads_2", "now, --threads 2")):
        if key in dd["sample"]:
            xs = dd["sample"][key]
            w, c = med([x["wall"] for x in xs]), med([x["cpu"] for x in xs])
            print(f"| {label} | {w:.1f} | {c:.1f} | {c / dd['sample_rows'] * 1e3:.2f} |")
    if "baseline" in dd["sample"]:
        b = med([x["cpu"] for x in dd["sample"]["baseline"]]) / dd["sample_rows"]
        print(f"| at {args.baseline}, whole table, extrapolated (CPU linear in patterns) | | {b * dd['rows']:.0f} | |")
    if "threads_1" in dd["full"]:
        x = dd["full"]["threads_1"]
        print(f"| now, --threads 1, whole table, measured | {x['wall']:.0f} | {x['cpu']:.0f} | {x['cpu'] / dd['rows'] * 1e3:.2f} |")
    if "max_abs_difference_vs_baseline" in dd:
        print(f"\nmax |difference| of p_honored and its interval vs the baseline: {dd['max_abs_difference_vs_baseline']:.1e}")

if __name__ == "__main__":
    main()
