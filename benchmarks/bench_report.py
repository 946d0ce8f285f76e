"""Benchmark (not a test): wall time of `assurisk report`, full (with the robustness refits) and --quick.

Run from the project root:  .venv/bin/python benchmarks/bench_report.py [--reps N]
Each run is a fresh process, as a user would run it, with the bundled fit; the load average of the
machine is printed with each figure because the refits share its cores with everything else running.
Writes benchmarks/out/bench_report.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(args: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.html"
        load = os.getloadavg()[0]
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "assurisk.cli", "report", *args, "--out", str(out)], check=True,
                       capture_output=True)
        return {"seconds": round(time.perf_counter() - t, 1), "load_before": round(load, 2),
                "load_after": round(os.getloadavg()[0], 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=2)
    a = ap.parse_args()
    q = ["--state", "CHN", "--case-type", "ordinary", "--year", "2022"]
    res = {"quick": [run(q + ["--quick"]) for _ in range(a.reps)], "full": [run(q) for _ in range(a.reps)],
           "unseen_quick": [run(["--state", "NOR", "--case-type", "ordinary", "--quick"])], "cpus": os.cpu_count()}
    (ROOT / "benchmarks" / "out").mkdir(parents=True, exist_ok=True)
    (ROOT / "benchmarks" / "out" / "bench_report.json").write_text(json.dumps(res, indent=1))
    for k in ("quick", "full", "unseen_quick"):
        for r in res[k]:
            print(f"| report {k} | {r['seconds']} | load {r['load_before']} -> {r['load_after']} |")


if __name__ == "__main__":
    main()
