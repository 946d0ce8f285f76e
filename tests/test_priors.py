"""Expert statements become priors that honour the statement; the record of them travels with the fit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.special import expit

import assurisk
from assurisk.errors import ConvergenceWarning, InputError
from assurisk.priors import Priors, beta_from_statement, logit_normal_from_statement

from conftest import run_cli


@pytest.mark.parametrize("center,lower,upper,mass", [(0.6, 0.3, 0.85, 0.9), (0.2, 0.05, 0.5, 0.8), (0.9, 0.7, 0.99, 0.95)])
def test_logit_normal_matches_the_statement(center, lower, upper, mass):
    mu, sigma = logit_normal_from_statement(center, lower, upper, mass)
    assert expit(mu) == pytest.approx(center)
    z = stats.norm(mu, sigma)
    got = z.cdf(np.log(upper / (1 - upper))) - z.cdf(np.log(lower / (1 - lower)))
    assert got == pytest.approx(mass, abs=1e-6)


@pytest.mark.parametrize("mean,lower,upper,mass", [(0.25, 0.1, 0.45, 0.9), (0.5, 0.3, 0.7, 0.8), (0.85, 0.7, 0.95, 0.9)])
def test_beta_matches_the_statement(mean, lower, upper, mass):
    a, b = beta_from_statement(mean, lower, upper, mass)
    assert a / (a + b) == pytest.approx(mean)
    assert stats.beta.cdf(upper, a, b) - stats.beta.cdf(lower, a, b) == pytest.approx(mass, abs=1e-6)


@pytest.mark.parametrize("args", [(0.5, 0.6, 0.9, 0.9), (0.5, 0.2, 0.8, 1.0), (1.2, 0.2, 0.8, 0.9)])
def test_impossible_statements_are_rejected(args):
    with pytest.raises(InputError):
        logit_normal_from_statement(*args)
    with pytest.raises(InputError):
        beta_from_statement(*args)


def test_unreachable_beta_statement_is_rejected():
    with pytest.raises(InputError, match="too narrow|more than"):
        beta_from_statement(0.5, 0.2, 0.8, 0.01)  # even the most diffuse Beta puts more inside


def test_priors_object_records_elicitation_and_round_trips():
    p = Priors().with_detection("none", 0.25, 0.1, 0.45).with_honoured_rate(0.6, 0.3, 0.85, state="chn")
    assert p.detection_mean("none", "ordinary") == pytest.approx(0.25)
    assert p.detection_mean("none", "high_profile") == pytest.approx(0.25)
    assert p.detection_mean("consular", "ordinary") == Priors().detection_mean("consular", "ordinary")
    assert "CHN" in p.state_beliefs and len(p.elicitation) == 2
    assert Priors.from_dict(p.to_dict()) == p
    with pytest.raises(InputError):
        Priors(detection={"none/ordinary": (1, 1)})
    with pytest.raises(InputError):
        Priors(state_beliefs={"XXX": (0.0, 1.0)})
    with pytest.raises(InputError):
        Priors().with_detection("cctv", 0.5, 0.2, 0.8)


def test_a_state_belief_moves_that_state_and_is_shown(simulated, tmp_path):
    cases, _ = simulated
    state = cases.receiving_state.iloc[0]
    base = Priors(intercept_sigma=1.5)
    kw = dict(covariates=None, detection=False, draws=300, tune=300, chains=2, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = assurisk.fit(cases, priors=base, **kw)
        believed = assurisk.fit(cases, priors=base.with_honoured_rate(0.05, 0.02, 0.1, 0.9, state=state), **kw)
    row = {"receiving_state": state, "case_type": "ordinary"}
    assert believed.score(row).p_honored[0] < plain.score(row).p_honored[0] - 0.05
    other = {"receiving_state": cases.receiving_state.iloc[-1], "case_type": "ordinary"}
    assert abs(believed.score(other).p_honored[0] - plain.score(other).p_honored[0]) < 0.1
    # The prior columns include the belief (forward sampling would ignore it): the prior alone already
    # puts that state near the expert's 0.05, far below the plain prior's 0.5.
    assert believed.score(row).p_honored_prior[0] < 0.2 < 0.35 < plain.score(row).p_honored_prior[0]
    assert "elicited" in repr(believed) and believed.meta["spec"]["priors"]["elicitation"]
    believed.save(tmp_path / "believed.nc")
    r = run_cli("score", "--state", state, "--case-type", "ordinary", "--fit", tmp_path / "believed.nc")
    assert r.returncode == 0 and f"expert prior: P(honoured), ordinary case, {state}" in r.stdout


def test_state_belief_for_a_state_not_in_the_data_is_an_error(simulated):
    cases, _ = simulated
    with pytest.raises(InputError, match="state_beliefs"):
        assurisk.fit(cases, covariates=None, priors=Priors().with_honoured_rate(0.5, 0.2, 0.8, state="NOR"))
