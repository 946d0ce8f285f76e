"""Fitting: parameter recovery on simulated data, reproducibility, convergence warnings, argument checks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

import assurisk
from assurisk.errors import ConvergenceWarning, InputError

from conftest import FIT_KW


def test_intervals_cover_the_truth_for_most_states(sim_fit, simulated):
    _, truth = simulated
    out = sim_fit.score(truth, interval=0.9)
    covered = int(((out.p_true >= out.p_honored_lower) & (out.p_true <= out.p_honored_upper)).sum())
    # If the 40 intervals were independent with 90% coverage, fewer than this many hits has prob < 0.001.
    floor = int(stats.binom.ppf(0.001, len(out), 0.9))
    assert covered >= floor, f"{covered}/{len(out)} covered; floor {floor}"
    # Point estimates track the truth (hierarchical shrinkage allowed): strong rank correlation.
    assert stats.spearmanr(out.p_true, out.p_honored).statistic > 0.7


def test_population_parameters_recovered(sim_fit):
    from assurisk.simulate import TrueParameters

    true = TrueParameters()
    post = sim_fit.idata.posterior.to_dataset()
    for name in ("intercept", "beta_high_profile", "sigma_state"):
        lo, hi = np.quantile(post[name].values, [0.005, 0.995])
        assert lo <= getattr(true, name) <= hi, (name, lo, hi)


def test_same_seed_same_draws_other_seed_other_draws(simulated, sim_fit):
    cases, _ = simulated
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        again = assurisk.fit(cases, **FIT_KW)
        other = assurisk.fit(cases, **dict(FIT_KW, seed=FIT_KW["seed"] + 1))
    assert np.array_equal(again.draws.state_effect, sim_fit.draws.state_effect)
    assert np.array_equal(again.draws.intercept, sim_fit.draws.intercept)
    assert not np.array_equal(other.draws.intercept, sim_fit.draws.intercept)


def test_unconverged_fit_warns_and_flags_scores(simulated, tmp_path):
    cases, _ = simulated
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        short = assurisk.fit(cases, covariates=None, draws=30, tune=30, chains=2, seed=1)
    assert short.converged is False
    assert not short.score({"receiving_state": "CHN", "case_type": "ordinary"}).converged.iloc[0]
    short.save(tmp_path / "short.nc")
    assert assurisk.load_fit(tmp_path / "short.nc").converged is False


def test_fit_records_seed_when_none_given(simulated):
    cases, _ = simulated
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        f = assurisk.fit(cases.head(60), covariates=None, draws=20, tune=20, chains=1)
    assert isinstance(f.meta["sampler"]["seed"], int)
    assert f.draws.unseen_seed == f.meta["sampler"]["seed"]


@pytest.mark.parametrize("kw,match", [
    (dict(covariates="gdp"), "covariates"),
    (dict(seed=-1), "seed"),
    (dict(seed=1.5), "seed"),
    (dict(draws=0), "draws"),
    (dict(chains="4"), "chains"),
    (dict(priors={"sigma_state": 1}), "Priors"),
    (dict(sampler="stan"), "sampler"),
])
def test_bad_arguments(simulated, kw, match):
    cases, _ = simulated
    with pytest.raises(InputError, match=match):
        assurisk.fit(cases, **kw)


def test_pts_fit_needs_years():
    with pytest.raises(InputError, match="year"):
        assurisk.fit([{"receiving_state": "CHN", "case_type": "ordinary", "outcome": "honored"}])


def test_nothing_to_fit():
    unknown = [{"receiving_state": "CHN", "case_type": "ordinary", "outcome": "unknown"}]
    with pytest.raises(InputError, match="no row can be fitted"):
        assurisk.fit(unknown, covariates=None, detection=False)  # the face-value model drops unknowns
    moved_none = [{"receiving_state": "CHN", "case_type": "ordinary", "outcome": None, "transferred": "no"}]
    with pytest.raises(InputError, match="no row can be fitted"):
        assurisk.fit(moved_none, covariates=None)
    with pytest.raises(InputError, match="detection"):
        assurisk.fit(unknown, covariates=None, detection="yes")


def test_priors_validation():
    with pytest.raises(InputError, match="scale"):
        assurisk.Priors(sigma_state=0)
    with pytest.raises(InputError, match="finite"):
        assurisk.Priors(intercept_mu=float("nan"))
    with pytest.raises(InputError, match="unknown prior"):
        assurisk.Priors.from_dict({"sigma": 1})
    p = assurisk.Priors(covariate_sigma=0.5)
    assert assurisk.Priors.from_dict(p.to_dict()) == p


def test_summary_and_repr(sim_fit):
    s = sim_fit.summary()
    assert {"mean", "r_hat", "ess_bulk"} <= set(s.columns)
    assert "intercept" in s.index
    assert "converged" in repr(sim_fit) and "<table>" in sim_fit._repr_html_()


def test_fit_warns_when_a_state_has_no_pts_score():
    rows = [{"receiving_state": s, "case_type": "ordinary", "year": 2010, "outcome": o}
            for s, o in (("VAT", "honored"), ("CHN", "breached"), ("CHN", "honored"))]  # the Holy See: no PTS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(UserWarning, match="no PTS score for VAT: "):
            assurisk.fit(rows, detection=False, draws=20, tune=20, chains=1, seed=1)
