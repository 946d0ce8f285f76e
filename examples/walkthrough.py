"""From the bundled data to scores, the way an analyst would in a notebook.

Run:  .venv/bin/python examples/walkthrough.py   (tests run it too; it uses only the bundled fit)
"""

import os
from pathlib import Path

import pandas as pd

import assurisk
from assurisk.fit import CAVEAT

# 1. The sourced case record, as a typed DataFrame.
cases = assurisk.load_cases()
transfers = cases[cases.transferred == "yes"]
print(f"{len(cases)} assurance events, {len(transfers)} transfers, {cases.receiving_state.nunique()} receiving states")
print(pd.crosstab(transfers.case_type, transfers.outcome_detail), "\n")

# 2. China's record, with the sources behind every row.
china = cases[cases.receiving_state == "CHN"][["case_id", "case_type", "outcome_detail", "monitoring", "sources"]]
print(china.drop(columns="sources").to_string(index=False), "\n")

# 3. The bundled fit: what it was fitted on and whether the sampler converged.
fit = assurisk.default_fit()
print(fit, "\n")

# 4. Scores for the question courts ask, and for comparison states.
questions = pd.DataFrame({
    "receiving_state": ["CHN", "CHN", "EGY", "JOR", "NOR"],
    "case_type": ["ordinary", "high_profile", "high_profile", "high_profile", "ordinary"],
    "year": [2022, 2022, 2022, 2022, 2022],
})
scores = fit.score(questions, interval=0.9)
print(scores[["receiving_state", "case_type", "p_honored", "p_honored_lower", "p_honored_upper",
              "state_seen", "n_state_cases", "n_state_type_cases"]].round(2).to_string(index=False))
print("\nCaveat:", CAVEAT)

# 5. The expert-witness report for the question courts ask: one self-contained HTML file (a .pdf name
#    prints it with headless Chromium). quick=True skips the robustness refits (about a minute) and the
#    report says so; drop it for the report you would file. force=True replaces an earlier copy.
out = Path(os.environ.get("ASSURISK_EXAMPLE_OUT", ".")) / "report_china_ordinary.html"
fit.report("CHN", "ordinary", year=2022, out=out, quick=True, force=True)
print(f"\nreport -> {out}")
