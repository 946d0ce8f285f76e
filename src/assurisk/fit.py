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


def _typical(fit, draws, rows) -> np.ndarray:
    """P(honoured) draws for a state with the record's average effect (state effects set to zero)."""
    from dataclasses import replace

    zero = replace(draws, state_effect=np.zeros_like(draws.state_effect),
                   state_high_profile_effect=np.zeros_like(draws.state_high_profile_effect))
    pat = fit._patterns(rows, zero)
    pat = replace(pat, x=np.zeros_like(pat.x), x_sd=np.zeros_like(pat.x),  # at the record's mean covariate ...
                  t=None if pat.t is None else np.zeros_like(pat.t))  # ... and its centre year
    return scoring.probability_draws(zero, pat, pat.row_pattern)


class Fit:
    """A fitted assurance-compliance model.

    Created by :func:`assurisk.fit` or :func:`assurisk.load_fit`. ``draws`` are NumPy arrays used
    for scoring; ``idata`` is the full ArviZ DataTree (loaded on first use for saved fits).
    """

    def __init__(self, draws: PosteriorDraws, meta: dict, *, idata=None, path: str | Path | None = None,
                 prior: PosteriorDraws | None = None):
        self.draws = draws
        self.prior = prior  # draws from the prior: the prior's own P(honoured) for every cell
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
        return bool(self.meta["spec"]["covariates"])

    @property
    def covariate_name(self) -> str | None:
        """"pts", "fariss" or None."""
        return self.meta["spec"]["covariates"] or None

    @property
    def uses_time_effect(self) -> bool:
        return bool(self.meta["spec"].get("time_effect", False))

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
            prior=self.prior, x_center=self.x_center, time=self._time(),
            item_known=self.meta["data"].get("item_type_known"),
            item_state_known=self.meta["data"].get("item_state_known"),
        )

    @property
    def x_center(self) -> float:
        """The covariate value the model is centred on (the record's mean), in world-standardised units."""
        return float(self.meta["spec"].get("x_center", 0.0))

    def _patterns(self, table, draws):
        _, rows = contract.parse(table, "score")
        return scoring.find_patterns(rows, draws, self._covariate(), self.x_center, self._time())

    def _time(self) -> tuple[float, float] | None:
        spec = self.meta["spec"]
        return (float(spec["time_center"]), float(spec["default_year"])) if spec.get("time_effect") else None

    def probability_matrix(self, table) -> np.ndarray:
        """Posterior draws of P(honoured) as a plain NumPy array of shape (draws, rows): the fast form
        for array algebra (chains stacked in order)."""
        pat = self._patterns(table, self.draws)
        return scoring.probability_draws(self.draws, pat, pat.row_pattern)

    def prior_probability_matrix(self, table) -> np.ndarray:
        """Draws of P(honoured) under the prior alone, shape (prior draws, rows)."""
        if self.prior is None:
            raise RuntimeError("this fit carries no prior draws")
        pat = self._patterns(table, self.prior)
        return scoring.probability_draws(self.prior, pat, pat.row_pattern)

    def probability_draws(self, table):
        """Posterior draws of P(honoured) as an ``xarray.DataArray`` with dims (chain, draw, case).

        ``case`` is labelled from the input (its ``case_id`` column when unique, else ``row 1``, ...),
        so ArviZ functions apply directly, e.g. ``az.hdi(fit.probability_draws(rows))``. For plain
        arrays use :meth:`probability_matrix`.
        """
        return self._labelled(self.probability_matrix(table), table, self.meta["sampler"]["chains"])

    def prior_probability_draws(self, table):
        """Draws of P(honoured) under the prior alone, as a DataArray (chain, draw, case)."""
        return self._labelled(self.prior_probability_matrix(table), table, 1)

    def _labelled(self, m: np.ndarray, table, chains: int):
        import xarray as xr

        from .fitting import case_labels

        df = contract.to_frame(table)
        labels = case_labels(df)
        return xr.DataArray(m.reshape(chains, -1, m.shape[1]), dims=("chain", "draw", "case"),
                            coords={"chain": np.arange(chains), "draw": np.arange(m.shape[0] // chains),
                                    "case": labels}, name="p_honored")

    def contrast(self, first, second, interval: float = 0.9) -> pd.DataFrame:
        """Posterior of P(honoured | first row) - P(honoured | second row), row by row.

        ``first`` and ``second`` are tables of equal length. Returns one row per pair: the mean
        difference and its central ``interval``, P(first > second), and the same two numbers under
        the prior alone (what the model says before seeing the record), with the contraction of the
        difference's variance.
        """
        q = scoring.check_interval(interval)
        a, b = self.probability_matrix(first), self.probability_matrix(second)
        if a.shape != b.shape:
            from .errors import InputError

            raise InputError(f"contrast needs two tables of equal length, got {a.shape[1]} and {b.shape[1]} rows")
        d = a - b
        lo, hi = np.quantile(d, [(1 - q) / 2, (1 + q) / 2], axis=0)
        out = pd.DataFrame({"difference": d.mean(axis=0), "lower": lo, "upper": hi,
                            "p_first_higher": (d > 0).mean(axis=0)})
        if self.prior is not None:
            dp = self.prior_probability_matrix(first) - self.prior_probability_matrix(second)
            out["difference_prior"] = dp.mean(axis=0)
            out["p_first_higher_prior"] = (dp > 0).mean(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                out["contraction"] = 1.0 - d.var(axis=0) / dp.var(axis=0)
        out.attrs["interval"] = q
        return out

    def item_probabilities(self, table) -> pd.DataFrame:
        """Posterior mean P(item kept) for every promise item, per row (columns ``p_kept_<item>``).

        The whole promise is kept only if every promised item is: ``p_honored`` is the posterior mean
        of the product over the row's promised items, never more than its least likely item.
        """
        from .draws import _log_expit, item_logit

        df, rows = contract.parse(table, "score")
        pat = scoring.find_patterns(rows, self.draws, self._covariate(), self.x_center, self._time())
        p = np.exp(_log_expit(item_logit(self.draws, pat.cells(self.draws)))).mean(axis=0)  # (patterns, items)
        cols = {f"p_kept_{g}": p[pat.row_pattern, k] for k, g in enumerate(contract.ASSURANCE_GROUPS)}
        return pd.DataFrame(cols, index=df.index)

    def case_type_contrast(self, state: str | None = None, **question) -> dict:
        """Ordinary minus high-profile P(honoured) for one question, posterior and prior side by side.

        ``state`` None gives a typical state (the record's average effect). Returns the posterior mean
        difference and interval, P(ordinary better) under the posterior and under the prior, and the
        contraction 1 - var(post)/var(prior) of the difference.
        """
        row = dict(question, receiving_state=state or (self.draws.states[0]))
        rows = [dict(row, case_type="ordinary"), dict(row, case_type="high_profile")]
        if state is None:
            post = _typical(self, self.draws, rows)
            prior = _typical(self, self.prior, rows) if self.prior is not None else None
        else:
            post = self.probability_matrix(rows)
            prior = self.prior_probability_matrix(rows) if self.prior is not None else None
        d = post[:, 0] - post[:, 1]
        out = {"state": state or "typical state", "difference_mean": float(d.mean()),
               "difference_lower": float(np.quantile(d, 0.05)), "difference_upper": float(np.quantile(d, 0.95)),
               "p_ordinary_better": float((d > 0).mean()), "p_ordinary_better_prior": None,
               "difference_mean_prior": None, "contraction": None}
        if prior is not None:
            dp = prior[:, 0] - prior[:, 1]
            out.update(p_ordinary_better_prior=float((dp > 0).mean()), difference_mean_prior=float(dp.mean()),
                       contraction=float(1 - d.var() / dp.var()) if dp.var() > 0 else None)
        return out

    def _covariate(self):
        from .covariates import bundled_covariate

        return bundled_covariate(self.covariate_name)

    def report(self, state: str, case_type: str, **kwargs) -> str:
        """Expert-witness report (self-contained HTML); see :func:`assurisk.report.build_report`."""
        from .report import build_report

        return build_report(self, state, case_type, **kwargs)

    def summary(self, **kwargs) -> pd.DataFrame:
        """ArviZ summary (mean, sd, interval, ESS, R-hat) of the model's parameters."""
        import arviz_stats as azs

        var_names = kwargs.pop("var_names", [n for n in ("intercept", "sigma_state", "beta_high_profile",
                                                         "beta_high_profile_treatment", "sigma_state_high_profile",
                                                         "beta_covariate", "beta_time", "item_effect", "deterrence_effect", "detection",
                                                         "verification", "state_effect", "state_high_profile_effect")
                                             if n in self.idata.posterior.data_vars])
        kwargs.setdefault("ci_prob", 0.9)  # one interval convention: 90%, as in scores
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
