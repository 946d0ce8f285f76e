"""Peak memory and time of batch scoring through the CLI (docs/performance.md, "Batch scoring").

Run from the project root:  .venv/bin/python benchmarks/batch_memory.py [--rows 1000000 10000000]

Writes big-N.csv (10 states, both case types, years 2000-2023: 480 patterns) to a temporary folder,
runs ``assurisk score --input big-N.csv --output out.csv`` under ``/usr/bin/time -v`` and prints the
maximum resident set size, wall-clock and CPU time.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

STATES = np.array(["CHN", "EGY", "JOR", "RUS", "USA", "IND", "FRA", "BRA", "TUN", "UZB"])


def make_table(n: int, path: Path) -> None:
    rng = np.random.default_rng(0)
    pd.DataFrame({"receiving_state": STATES[rng.integers(0, len(STATES), n)],
                  "case_type": np.where(rng.random(n) < 0.5, "ordinary", "high_profile"),
                  "year": rng.integers(2000, 2024, n)}).to_csv(path, index=False)


def measure(n: int, folder: Path) -> dict:
    src, dst = folder / f"big-{n}.csv", folder / "out.csv"
    make_table(n, src)
    r = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "assurisk.cli", "score", "--input", str(src),
                        "--output", str(dst)], capture_output=True, text=True, check=True)

    def field(name):
        return re.search(rf"{re.escape(name)}: (.+)", r.stderr).group(1).strip()

    return {"rows": n, "max_rss_gb": int(field("Maximum resident set size (kbytes)")) / 1e6,
            "wall": field("Elapsed (wall clock) time (h:mm:ss or m:ss)"),
            "user_s": float(field("User time (seconds)")), "system_s": float(field("System time (seconds)"))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    args = ap.parse_args()
    print("| rows | max RSS (GB) | wall | user CPU (s) | system CPU (s) |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as d:
        for n in args.rows:
            m = measure(n, Path(d))
            print(f"| {n:,} | {m['max_rss_gb']:.2f} | {m['wall']} | {m['user_s']:.0f} | {m['system_s']:.0f} |")


if __name__ == "__main__":
    main()
