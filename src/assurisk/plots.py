"""Plotting helpers for notebooks: each returns a matplotlib Figure and never shows or saves it.

Every figure puts the prior beside the posterior, so a reader sees what the record added:

- :func:`forest`: every state in the record for one question, mean and central interval, with the
  prior's interval behind them;
- :func:`cell`: the posterior of P(honoured) for one case, with the prior's distribution;
- :func:`contrast`: the posterior of the difference between two cases (e.g. ordinary minus
  high-profile), with the prior's, and P(first > second) for each.

matplotlib is imported when a function is called, not with ``import assurisk``.
"""

from __future__ import annotations

import numpy as np


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _axes(ax, size):
    plt = _plt()
    if ax is None:
        fig, ax = plt.subplots(figsize=size)
        return fig, ax
    return ax.figure, ax


def forest(fit, case_type: str = "ordinary", *, assurance: str | None = None, monitoring: str | None = None,
           year=None, interval: float = 0.9, ax=None):
    """P(honoured) for every state in the record, for one case type and promise, sorted, with intervals.

    Example:
        >>> import assurisk, assurisk.plots
        >>> fig = assurisk.plots.forest(assurisk.default_fit(), "ordinary")
    """
    question = {"case_type": case_type}
    for k, v in (("assurance_types", assurance), ("monitoring", monitoring), ("year", year)):
        if v is not None:
            question[k] = v
    rows = [dict(question, receiving_state=s) for s in fit.draws.states]
    s = fit.score(rows, interval=interval).sort_values("p_honored").reset_index(drop=True)
    fig, ax = _axes(ax, (6.5, 0.22 * len(s) + 1.2))
    y = np.arange(len(s))
    if s["p_honored_prior"].notna().all():
        pr = fit.prior_probability_matrix([dict(question, receiving_state=st) for st in s.receiving_state_code])
        lo, hi = np.quantile(pr, [(1 - interval) / 2, (1 + interval) / 2], axis=0)
        ax.barh(y, hi - lo, left=lo, height=0.7, color="#dddddd", label=f"prior {interval:.0%} interval")
    ax.hlines(y, s.p_honored_lower, s.p_honored_upper, color="#4477aa", lw=2, label=f"posterior {interval:.0%} interval")
    ax.plot(s.p_honored, y, "o", color="#4477aa", ms=4)
    flagged = s["prior_dominated"].fillna(False).to_numpy(dtype=bool)
    ax.plot(s.p_honored[flagged], y[flagged], "o", color="#cc6677", ms=5, label="rests on the prior")
    ax.set_yticks(y, [f"{c} ({n})" for c, n in zip(s.receiving_state_code, s.n_state_cases)], fontsize=7)
    ax.set(xlim=(0, 1), xlabel="P(assurance honoured)  (transfers in the record in brackets)",
           title=f"{case_type.replace('_', '-')} cases, {assurance or 'torture'} promise")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def cell(fit, row: dict, *, interval: float = 0.9, ax=None):
    """Posterior of P(honoured) for one case (``row`` as for ``Fit.score``), with its prior.

    Example:
        >>> import assurisk, assurisk.plots
        >>> fig = assurisk.plots.cell(assurisk.default_fit(), {"receiving_state": "CHN", "case_type": "ordinary"})
    """
    post = fit.probability_matrix([row])[:, 0]
    fig, ax = _axes(ax, (6.5, 2.8))
    bins = np.linspace(0, 1, 51)
    if fit.prior is not None:
        prior = fit.prior_probability_matrix([row])[:, 0]
        ax.hist(prior, bins=bins, density=True, color="#bbbbbb", alpha=0.7, label=f"prior (mean {prior.mean():.2f})")
    ax.hist(post, bins=bins, density=True, color="#4477aa", alpha=0.8, label=f"posterior (mean {post.mean():.2f})")
    lo, hi = np.quantile(post, [(1 - interval) / 2, (1 + interval) / 2])
    ax.axvspan(lo, hi, color="#4477aa", alpha=0.1)
    ax.set(xlim=(0, 1), xlabel="P(assurance honoured)", ylabel="density",
           title=f"{row.get('receiving_state')}, {row.get('case_type')}: {interval:.0%} interval {lo:.2f} to {hi:.2f}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def contrast(fit, first: dict, second: dict, *, ax=None):
    """Posterior (and prior) of P(honoured | first) - P(honoured | second).

    Example:
        >>> import assurisk, assurisk.plots
        >>> q = {"receiving_state": "CHN"}
        >>> fig = assurisk.plots.contrast(assurisk.default_fit(), dict(q, case_type="ordinary"),
        ...                               dict(q, case_type="high_profile"))
    """
    d = fit.probability_matrix([first, second])
    diff = d[:, 0] - d[:, 1]
    fig, ax = _axes(ax, (6.5, 2.8))
    bins = np.linspace(-1, 1, 61)
    if fit.prior is not None:
        p = fit.prior_probability_matrix([first, second])
        pdiff = p[:, 0] - p[:, 1]
        ax.hist(pdiff, bins=bins, density=True, color="#bbbbbb", alpha=0.7,
                label=f"prior: P(first higher) {(pdiff > 0).mean():.2f}")
    ax.hist(diff, bins=bins, density=True, color="#117733", alpha=0.8,
            label=f"posterior: P(first higher) {(diff > 0).mean():.2f}")
    ax.axvline(0, color="black", lw=1)
    ax.set(xlabel="P(honoured | first) - P(honoured | second)", ylabel="density", title="Contrast")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
