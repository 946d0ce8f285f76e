"""Figures for ``assurisk check`` (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    """PNG written atomically through a new temporary file (see :mod:`assurisk.safe_write`)."""
    from ..safe_write import atomic_write

    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110), streamable=False)


def reliability(pred: dict, path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(1, 2, figsize=(9, 4))
    rel = pred["reliability"]
    ax[0].plot([0, 1], [0, 1], color="grey", lw=1, ls="--")
    ax[0].scatter([r["mean_predicted"] for r in rel], [r["observed"] for r in rel], s=[20 + 5 * r["n"] for r in rel])
    for r in rel:
        ax[0].annotate(f"n={r['n']}", (r["mean_predicted"], r["observed"]), fontsize=7, xytext=(4, -10),
                       textcoords="offset points")
    ax[0].set(xlabel="leave-one-out predicted P(breach in the record)", ylabel="observed share", xlim=(0, 1),
              ylim=(0, 1), title="Reliability (PSIS-LOO)")
    ax[1].hist(pred["loo_pit"], bins=10, range=(0, 1), color="#4477aa", edgecolor="white")
    ax[1].axhline(len(pred["loo_pit"]) / 10, color="grey", ls="--", lw=1)
    ax[1].set(xlabel="randomised LOO-PIT", ylabel="transfers", title=f"LOO-PIT (KS p = {pred['loo_pit_ks_p']:.2f})")
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return path


def sbc_ecdf(res: dict, path: Path) -> Path:
    from .calibration import ecdf_band

    plt = _plt()
    params = list(res["params"])
    cols = min(4, len(params))
    rows = -(-len(params) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    grid, band = ecdf_band(res["n_sims"], res["n_posterior_draws"])
    for ax, p in zip(axes.ravel(), params):
        r = np.asarray(res["params"][p]["ranks"]) / (res["n_posterior_draws"] + 1)
        diff = (r[:, None] <= grid).mean(axis=0) - grid
        ax.fill_between(grid, -band, band, color="#dddddd")
        ax.plot(grid, diff, color="#cc3311" if not res["params"][p]["passed"] else "#117733")
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_title(f"{p}\n(chi2 p = {res['params'][p]['chi2_p']:.2f})", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(params):]:
        ax.axis("off")
    fig.suptitle(f"SBC: ECDF difference of ranks, {res['n_sims']} simulations, 95% simultaneous band", fontsize=9)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return path


def robustness_figure(rows: list[dict], title: str):
    """Forest chart of the estimate under each alternative (the fit itself in red)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 0.28 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    for yi, r in zip(y, rows):
        color = "#cc3311" if r["alternative"] == "as fitted" else "#4477aa"
        ax.plot([r["lower"], r["upper"]], [yi, yi], color=color, lw=2)
        ax.plot(r["p_honored"], yi, "o", color=color, ms=4)
    ax.set_yticks(y, [r["alternative"][:70] for r in rows], fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_xlabel("P(assurance honoured), mean and 90% interval")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.subplots_adjust(left=0.5)
    return fig


def robustness(rows: list[dict], question: dict, path: Path) -> Path:
    fig = robustness_figure(rows, f"Robustness: {question['receiving_state']}, {question['case_type']}")
    _save(fig, path)
    _plt().close(fig)
    return path
