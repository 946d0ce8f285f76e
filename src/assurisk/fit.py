"""The :class:`Fit` object: posterior draws, the metadata that identifies them, and what you do with them."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from . import contract, scoring
from .codes import state_name
from .draws import PosteriorDraws

CAVEAT = (
    "The record behind this number is small and not a random sample: breaches nobody monitored are "
    "never reported, so it can flatter states. No number replaces judgement on the individual case."
)


def _fmt(v, spec: str) -> str:
    return "n/a" if v is None else format(v, spec)


class Fit:
    """A fitted assurance-compliance model.

    Created by :func:`assurisk.fit` or :func:`assurisk.load_fit`. ``draws`` are NumPy arrays used
    for scoring; ``idata`` is the full ArviZ DataTree (loaded on first use for saved fits).
    """

    def __init__(self, draws: PosteriorDraws, meta: dict, *, idata=None, path: str | Path | None = None):
        self.draws = draws
        self.meta = meta
        self._idata = idata
        self.path = Path(path) if path is not None else None

    # --- identity and diagnostics -------------------------------------------------------------
    @property
    def converged(self) -> bool:
        return bool(self.meta["converged"])

    @property
    def diagnostics(self) -> dict:
        return dict(self.meta["diagnostics"])

    @property
    def uses_detection(self) -> bool:
        """True for the monitoring-aware model, False for the face-value model."""
        return bool(self.meta["spec"]["detection"])

    @property
    def uses_covariate(self) -> bool:
        return self.meta["spec"]["covariates"] == "pts"

    @property
    def state_counts(self) -> dict[str, int]:
        return dict(self.meta["data"]["state_transfers"])

    @property
    def state_type_counts(self) -> dict[str, list[int]]:
        """Per state: [ordinary, high-profile] transfers with a known outcome that the model used."""
        return dict(self.meta["data"]["state_type_transfers"])

    @property
    def idata(self):
        """The posterior as an ArviZ DataTree."""
        if self._idata is None:
            if self.path is None:
                raise RuntimeError("this Fit has no DataTree and no file to load it from")
            from .storage import read_datatree

            self._idata = read_datatree(self.path)
        return self._idata

    # --- use -----------------------------------------------------------------------------------
    def score(self, table, interval: float = 0.9) -> pd.DataFrame:
        """Probability that each row's assurance is honoured, with a central ``interval``.

        ``table`` holds ``receiving_state``, ``case_type`` and optionally ``year`` (a DataFrame,
        CSV path, dict or list of dicts); every input column is returned untouched.
        """
        q = scoring.check_interval(interval)
        df, rows = contract.parse(table, "score")
        return scoring.score_rows(
            df, rows, self.draws, covariate=self._covariate(), state_counts=self.state_counts,
            state_type_counts=self.state_type_counts, converged=self.converged, interval=q,
        )

    def probability_draws(self, table) -> np.ndarray:
        """Posterior draws of P(honoured): an array of shape (draws, rows), for contrasts and plots.

        For example, the ordinary-minus-high-profile difference for one state is
        ``d = fit.probability_draws([ordinary_row, high_profile_row]); d[:, 0] - d[:, 1]``.
        """
        _, rows = contract.parse(table, "score")
        pat = scoring.find_patterns(rows, self.draws, self._covariate())
        return scoring.probability_draws(self.draws, pat, pat.row_pattern)

    def _covariate(self):
        if not self.uses_covariate:
            return None
        from .covariates import bundled_pts

        return bundled_pts()

    def report(self, state: str, case_type: str, **kwargs) -> str:
        """Expert-witness report (self-contained HTML); see :func:`assurisk.report.build_report`."""
        from .report import build_report

        return build_report(self, state, case_type, **kwargs)

    def summary(self, **kwargs) -> pd.DataFrame:
        """ArviZ summary (mean, sd, interval, ESS, R-hat) of the model's parameters."""
        import arviz_stats as azs

        var_names = kwargs.pop("var_names", [n for n in ("intercept", "sigma_state", "beta_high_profile",
                                                         "sigma_state_high_profile", "beta_pts", "assurance_effect",
                                                         "detection", "state_effect", "state_high_profile_effect")
                                             if n in self.idata.posterior.data_vars])
        return azs.summary(self.idata, var_names=var_names, **kwargs)

    def save(self, path: str | Path) -> Path:
        """Write the fit as one netCDF file (atomically); ``load_fit`` reads it back."""
        from .storage import write_fit

        return write_fit(self.idata, self.meta, path)

    # --- display -------------------------------------------------------------------------------
    def _headline(self) -> list[tuple[str, str]]:
        d = self.meta["data"]
        diag = self.diagnostics
        used = (f"including {d['n_unknown']} with no known outcome (read as 'no breach reported')"
                if self.uses_detection else f"{d['n_unknown']} transfers with no known outcome left out")
        lines = [
            ("model", f"{self.meta['model']} (covariate: {self.meta['spec']['covariates'] or 'none'})"),
            ("data", f"{d['n_transfers']} transfers, {used}; {len(self.draws.states)} states; "
                     f"sha256 {d['sha256'][:12]}…"),
            ("sampler", f"{self.meta['sampler']['name']}, {self.meta['sampler']['chains']} chains x "
                        f"{self.meta['sampler']['draws']} draws, seed {self.meta['sampler']['seed']}"),
            ("diagnostics", f"max R-hat {_fmt(diag['r_hat_max'], '.3f')}, min bulk ESS {_fmt(diag['ess_bulk_min'], '.0f')}, "
                            f"min tail ESS {_fmt(diag['ess_tail_min'], '.0f')}, divergences {diag['divergences']}"),
            ("converged", "yes" if self.converged else "NO: do not rely on these numbers"),
            ("assurisk", f"{self.meta['assurisk_version']}, created {self.meta['created']}"),
        ]
        for e in self.meta["spec"]["priors"].get("elicitation", []):
            lines.append(("elicited", f"{e['about']}: centre {e['center']}, {e['mass']:.0%} in "
                                      f"[{e['lower']}, {e['upper']}] -> {e['result']}"))
        return lines

    def __repr__(self) -> str:
        lines = ["assurisk Fit"] + [f"  {k:<12}{v}" for k, v in self._headline()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                       for k, v in self._headline())
        states = ", ".join(f"{s} ({html.escape(state_name(s))}: {self.state_counts.get(s, 0)})" for s in self.draws.states)
        return (f"<div><strong>assurisk Fit</strong><table>{rows}</table>"
                f"<details><summary>states in the data</summary>{states}</details>"
                f"<p><em>{html.escape(CAVEAT)}</em></p></div>")
