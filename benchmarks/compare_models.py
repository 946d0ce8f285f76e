"""Face-value versus monitoring-aware model on the bundled data, for China (figures in docs/model.md).

Run:  .venv/bin/python benchmarks/compare_models.py
"""

from __future__ import annotations

import warnings

import numpy as np

import assurisk
from assurisk.resources import data_path

SEED = 20261128


def main() -> None:
    cases = data_path("cases.csv")
    fits = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits["face value (unknowns dropped)"] = assurisk.fit(cases, detection=False, seed=SEED)
        fits["monitoring-aware (default)"] = assurisk.default_fit()
    rows = [{"receiving_state": "CHN", "case_type": "ordinary", "year": 2022},
            {"receiving_state": "CHN", "case_type": "high_profile", "year": 2022}]
    print("| model | case | P(honoured) | 90% interval | P(breach unreported) |\n|---|---|---|---|---|")
    for name, fit in fits.items():
        s = fit.score(rows)
        for _, r in s.iterrows():
            unrep = f"{r.p_breach_unreported:.2f}" if "p_breach_unreported" in s else "n/a (assumed 0)"
            print(f"| {name} | {r.case_type} | {r.p_honored:.2f} | {r.p_honored_lower:.2f} to {r.p_honored_upper:.2f} | {unrep} |")
    print("\nOrdinary minus high-profile, China, 2022 (posterior draws):\n")
    print("| model | mean | 90% interval | P(ordinary fares better) |\n|---|---|---|---|")
    for name, fit in fits.items():
        d = fit.probability_matrix(rows)
        diff = d[:, 0] - d[:, 1]
        lo, hi = np.quantile(diff, [0.05, 0.95])
        print(f"| {name} | {diff.mean():.2f} | {lo:.2f} to {hi:.2f} | {(diff > 0).mean():.2f} |")
    aware = fits["monitoring-aware (default)"]
    print("\nDetection probabilities, monitoring-aware fit (posterior mean; prior mean in brackets):\n")
    det = aware.draws.detection.mean(axis=0)
    pri = aware.meta["spec"]["priors"]["detection"]
    from assurisk.contract import VERIFICATION_LEVELS

    print("| verification | ordinary | high-profile |\n|---|---|---|")
    for i, lv in enumerate(VERIFICATION_LEVELS):
        cells = []
        for j, ct in enumerate(("ordinary", "high_profile")):
            a, b = pri[f"{lv}/{ct}"]
            cells.append(f"{det[i, j]:.2f} ({a / (a + b):.2f})")
        print(f"| {lv} | " + " | ".join(cells) + " |")
    detection_sensitivity(rows)


def detection_sensitivity(rows) -> None:
    """How the China answer moves when every detection prior mean is moved (a + b kept at 10)."""
    from assurisk.priors import DEFAULT_DETECTION_CONCENTRATION as K, DEFAULT_DETECTION_MEANS

    variants = {
        "breaches half as visible (means x 0.5)": lambda m: 0.5 * m,
        "default": lambda m: m,
        "breaches more visible (unseen share halved)": lambda m: 1 - 0.5 * (1 - m),
        "near-perfect detection (means 0.99)": lambda m: 0.99,
    }
    print("\nSensitivity to the detection priors, China 2022 (monitoring-aware model):\n")
    print("| detection priors | ordinary P(honoured), 90% interval | high-profile | P(ordinary fares better) |")
    print("|---|---|---|---|")
    for name, f in variants.items():
        det = {f"{lv}/{ct}": (f(m) * K, (1 - f(m)) * K) for (lv, ct), m in DEFAULT_DETECTION_MEANS.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = assurisk.fit(data_path("cases.csv"), priors=assurisk.Priors(detection=det), seed=SEED)
        s = fit.score(rows)
        d = fit.probability_matrix(rows)
        cells = [f"{r.p_honored:.2f} ({r.p_honored_lower:.2f} to {r.p_honored_upper:.2f})" for _, r in s.iterrows()]
        print(f"| {name} | {cells[0]} | {cells[1]} | {(d[:, 0] > d[:, 1]).mean():.2f} |")


if __name__ == "__main__":
    main()
