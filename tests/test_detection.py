"""The monitoring-aware model: recovers p when breaches go unseen, where both face-value readings fail.

Data come from simulate_monitored: breaches are recorded only when someone watches the case (or,
rarely, surface anyway); ordinary and high-profile cases are equally at risk. This is the short
version of benchmarks/simulation_study.py (one dataset instead of many).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import assurisk
from assurisk.errors import ConvergenceWarning
from assurisk.simulate import simulate_monitored

FIT = dict(covariates=None, draws=500, tune=500, chains=2, seed=5)


@pytest.fixture(scope="module")
def study():
    cases, truth = simulate_monitored(n_states=20, transfers_per_state=40, seed=3)
    readings = {
        "aware": (cases, True),
        "drop_unknown": (cases, False),
        "unknown_as_honored": (cases.assign(outcome=cases.outcome.replace("unknown", "honored")), False),
    }
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, (data, detection) in readings.items():
            fit = assurisk.fit(data, detection=detection, **FIT)
            out[name] = fit.score(truth)
    return out


def covered(s):
    return int(((s.p_true >= s.p_honored_lower) & (s.p_true <= s.p_honored_upper)).sum())


# Between-dataset spread measured by benchmarks/simulation_study.py (20 replications, docs/model.md):
# per-dataset 90% coverage has sd 0.10 and per-dataset mean error sd 0.065, because the cells of one
# dataset share their detection and case-type parameters. One dataset is judged against those spreads.
COVERAGE_SD, MEAN_ERROR_SD = 0.10, 0.065


def test_monitoring_aware_intervals_are_calibrated(study):
    s = study["aware"]
    assert covered(s) / len(s) >= 0.9 - 3 * COVERAGE_SD, (covered(s), len(s))
    err = s.p_honored - s.p_true
    assert abs(err.mean()) < 3 * MEAN_ERROR_SD, err.mean()


def test_reading_no_news_as_honoured_flatters_states(study):
    err = (study["unknown_as_honored"].p_honored - study["unknown_as_honored"].p_true).to_numpy()
    assert err.mean() > 0.1 and (err > 0).mean() > 0.9
    assert covered(study["unknown_as_honored"]) < covered(study["aware"])


def test_dropping_unknowns_is_pessimistic(study):
    """Dropping the unknowns errs towards pessimism against the monitoring-aware reading of the same record
    (a known outcome is likelier when a breach surfaced; the study's mean errors: -0.083 against -0.043)."""
    drop = (study["drop_unknown"].p_honored - study["drop_unknown"].p_true).mean()
    aware = (study["aware"].p_honored - study["aware"].p_true).mean()
    assert drop < aware, (drop, aware)


def test_no_news_as_honoured_manufactures_an_ordinary_case_advantage(study):
    """Truth: equal risk. Reading no news as honoured makes ordinary cases (watched less) look safer."""
    by = {k: s.groupby("case_type").p_honored.mean() for k, s in study.items()}
    truth = study["aware"].groupby("case_type").p_true.mean()
    gap_true = truth["ordinary"] - truth["high_profile"]
    assert by["unknown_as_honored"]["ordinary"] - by["unknown_as_honored"]["high_profile"] > gap_true + 0.05
    assert abs((by["aware"]["ordinary"] - by["aware"]["high_profile"]) - gap_true) < 0.05


@pytest.fixture(scope="module")
def verified_study():
    """One simulated record where kept promises are verified only when watched; the three-outcome
    model and the landed two-outcome likelihood ('honoured' read as 'no breach reported': the same
    model with verification fixed near zero) are fitted to the same data with one compiled model."""
    from dataclasses import replace

    from assurisk.check import replay

    cases, truth = simulate_monitored(n_states=20, transfers_per_state=40, seed=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        three = assurisk.fit(cases, **FIT)
    spec = replay.spec_from_fit(three)
    two_counts = spec.design.counts.copy()
    two_counts[:, 2] += two_counts[:, 0]  # verified-kept transfers become "nothing known"
    two_counts[:, 0] = 0
    v1 = replace(spec, priors=replace(spec.priors, verification={k: (1.0, 1e4) for k in spec.priors.verification}))
    res = replay.run_refits(v1, [(None, two_counts, FIT["seed"])],
                            replay.RefitSettings(draws=FIT["draws"], tune=FIT["tune"], chains=FIT["chains"], thin=1))[0]
    two = three.__class__(replay.draws_of(res, spec.design.states), three.meta, prior=three.prior)
    return truth, three, two, res


def test_three_outcome_likelihood_recovers_p_better_than_the_two_outcome_reading(verified_study):
    truth, fit3, fit2, res = verified_study
    assert res["divergences"] == 0
    three, two = fit3.score(truth), fit2.score(truth)
    floor = 0.9 - 3 * COVERAGE_SD
    assert covered(three) / len(three) >= floor and covered(two) / len(two) >= floor, (covered(three), covered(two))
    # The 'honoured' outcomes carry information: the intervals are narrower (in the study by 10% on
    # average: 0.548 against 0.611) ...
    width3 = (three.p_honored_upper - three.p_honored_lower).mean()
    width2 = (two.p_honored_upper - two.p_honored_lower).mean()
    assert width3 < width2, (width3, width2)
    # ... and detection is learnt better: smaller posterior sd averaged over the monitoring levels the
    # simulation uses (with too few verified ordinary cases, single cells can go either way).
    sd3, sd2 = fit3.draws.detection[:, :3].std(axis=0), fit2.draws.detection[:, :3].std(axis=0)
    assert sd3.mean() < 0.85 * sd2.mean(), (sd3, sd2)
