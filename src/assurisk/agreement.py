"""Inter-coder agreement for the double-checked case coding: raw agreement and Cohen's kappa."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence


def agreement_stats(first: Sequence[str], second: Sequence[str]) -> dict:
    """Raw agreement and Cohen's kappa of two codings of the same items.

    kappa = (p_o - p_e) / (1 - p_e), with p_e from each coder's marginal frequencies.
    """
    a, b = list(first), list(second)
    if len(a) != len(b) or not a:
        raise ValueError("two codings of equal, non-zero length are needed")
    n = len(a)
    p_o = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    p_e = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / n**2
    kappa = 1.0 if p_e == 1 else (p_o - p_e) / (1 - p_e)
    return {"n": n, "agreement": p_o, "expected": p_e, "kappa": kappa,
            "confusion": {f"{x} / {y}": c for (x, y), c in sorted(Counter(zip(a, b)).items())}}
