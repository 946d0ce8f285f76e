"""NumPy scoring equals a brute-force loop over draws, handles unseen states by policy, stays light."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from assurisk.errors import InputError


def brute_force(fit, state, case_type, x=0.0, promised=("torture",), monitoring="none"):
    """P(whole promise honoured) draw by draw, item by item, in plain Python, for one case.

    Written from the model's equations (docs/model.md), not from the scorer's code: each promised
    item k is kept with expit(intercept + alpha_k + a_s + (beta_hp + b_s + gamma * treat_k) * hp
    + beta_covariate * x + deterrence[monitoring] * treat_k), and the promise is kept if every item is.
    """
    from assurisk.contract import ASSURANCE_GROUPS, COURT_VERIFIABLE, MONITORING_LEVELS

    d = fit.draws
    if state in d.states:
        k = d.states.index(state)
        a_all, b_all = d.state_effect[:, k], d.state_high_profile_effect[:, k]
    else:
        a_new, b_new = d.unseen_effects([state])
        a_all, b_all = a_new[:, 0], b_new[:, 0]
    hp = 1.0 if case_type == "high_profile" else 0.0
    m = MONITORING_LEVELS.index(monitoring)
    out = []
    for s in range(d.n_draws):
        p = 1.0
        for g in promised:
            j = ASSURANCE_GROUPS.index("torture" if g == "detention_conditions" else g)
            treat = 0.0 if ASSURANCE_GROUPS[j] in COURT_VERIFIABLE else 1.0
            eta = (d.intercept[s] + d.assurance_effect[s, j] + a_all[s]
                   + (d.beta_high_profile[s] + b_all[s] + d.beta_high_profile_treatment[s] * treat) * hp
                   + d.beta_covariate[s] * x + d.deterrence[s, m] * treat)
            p *= 1 / (1 + np.exp(-eta))
        out.append(p)
    return np.array(out)


def test_vectorised_score_equals_brute_force_loop(sim_fit):
    table = pd.DataFrame({"receiving_state": [sim_fit.draws.states[0], sim_fit.draws.states[3], "FRA", sim_fit.draws.states[0]],
                          "case_type": ["ordinary", "high_profile", "high_profile", "ordinary"]})
    out = sim_fit.score(table, interval=0.8)
    for i, r in table.iterrows():
        p = brute_force(sim_fit, r.receiving_state, r.case_type)
        assert out.p_honored[i] == pytest.approx(p.mean(), rel=1e-12)
        lo, hi = np.quantile(p, [0.1, 0.9])
        assert out.p_honored_lower[i] == pytest.approx(lo, rel=1e-12)
        assert out.p_honored_upper[i] == pytest.approx(hi, rel=1e-12)
    assert out.state_seen.tolist() == [True, True, False, True]
    assert out.n_state_cases.iloc[2] == 0 and out.n_state_cases.iloc[0] == 30


def test_covariate_score_equals_brute_force(bundled):
    from assurisk.covariates import bundled_pts

    out = bundled.score([{"receiving_state": "CHN", "case_type": "ordinary", "year": 2011},
                         {"receiving_state": "NOR", "case_type": "high_profile", "year": 2020,
                          "assurance_types": "death_penalty;fair_trial", "monitoring": "consular"}])
    cases = [("CHN", "ordinary", 2011, ("torture",)), ("NOR", "high_profile", 2020, ("death_penalty", "fair_trial"))]
    for i, (s, ct, y, promised) in enumerate(cases):
        x, found = bundled_pts().standardized(np.array([s]), np.array([float(y)]))
        assert found[0]
        p = brute_force(bundled, s, ct, x[0] - bundled.x_center, promised, "consular" if s == "NOR" else "none")
        assert out.p_honored[i] == pytest.approx(p.mean(), rel=1e-12)


def test_unreported_share_follows_verification_and_case_type(bundled):
    from assurisk.contract import VERIFICATION_LEVELS

    rows = [{"receiving_state": "CHN", "case_type": ct, "monitoring": m, "assurance_types": t}
            for ct in ("ordinary", "high_profile") for m, t in (("none", "torture"), ("consular", "torture"),
                                                                 ("independent", "torture"), ("none", "death_penalty"))]
    out = bundled.score(rows)
    from assurisk.covariates import bundled_pts

    det = bundled.draws.detection
    x = bundled_pts().standardized(np.array(["CHN"]), np.array([np.nan]))[0][0] - bundled.x_center
    for r, got in zip(rows, out.p_breach_unreported):
        level = "public_record" if r["assurance_types"] == "death_penalty" else r["monitoring"]
        q = 1 - brute_force(bundled, "CHN", r["case_type"], x, (r["assurance_types"],), r["monitoring"])  # P(breach) per draw
        d = det[:, VERIFICATION_LEVELS.index(level), int(r["case_type"] == "high_profile")]
        # For a one-item promise, P(breach reported) = P(breach) * d; the unreported share is 1 - E[qd] / E[q].
        assert got == pytest.approx(1 - (q * d).mean() / q.mean(), rel=1e-9)
    # Under the default priors (the fit's prior draws), unmonitored ordinary breaches are the least
    # likely to be reported; the posterior may reorder the cells the record informs.
    prior_det = bundled.prior.detection.mean(axis=0)
    assert prior_det[0, 0] == prior_det.min()


def test_block_computation_matches_single_block(sim_fit, monkeypatch):
    from assurisk import scoring

    table = pd.DataFrame({"receiving_state": list(sim_fit.draws.states) * 2,
                          "case_type": ["ordinary"] * len(sim_fit.draws.states) + ["high_profile"] * len(sim_fit.draws.states)})
    whole = sim_fit.score(table)
    monkeypatch.setattr(scoring, "BLOCK_ELEMENTS", sim_fit.draws.n_draws * 3)
    blocked = sim_fit.score(table)
    pd.testing.assert_frame_equal(whole, blocked)


def test_unseen_states_follow_the_population_policy(sim_fit):
    rows = [{"receiving_state": "FRA", "case_type": "ordinary"}, {"receiving_state": "DEU", "case_type": "ordinary"}]
    out = sim_fit.score(rows)
    draws = sim_fit.probability_matrix(rows)
    # Each unseen state draws its own effect: two unseen states are exchangeable (equal means within
    # Monte Carlo error) but not identical, so a contrast between them has a real spread.
    diff = draws[:, 0] - draws[:, 1]
    assert diff.std() > 0.05
    assert abs(diff.mean()) < 4 * diff.std() / np.sqrt(len(diff)) + 1e-12
    seen = sim_fit.score({"receiving_state": sim_fit.draws.states[0], "case_type": "ordinary"})
    assert (out.p_honored_upper[0] - out.p_honored_lower[0]) > (seen.p_honored_upper[0] - seen.p_honored_lower[0])
    # The same code gets the same draws in every call, alone or with other rows.
    again = sim_fit.score({"receiving_state": "FRA", "case_type": "ordinary"})
    assert again.p_honored[0] == pytest.approx(out.p_honored[0], rel=1e-12)
    assert np.array_equal(sim_fit.probability_matrix(rows[:1])[:, 0], draws[:, 0])


def test_input_forms_and_carried_columns(sim_fit):
    s = sim_fit.draws.states[1]
    as_dict = sim_fit.score({"receiving_state": s, "case_type": "ordinary", "my_id": "a1"})
    as_list = sim_fit.score([{"receiving_state": s, "case_type": "ordinary", "my_id": "a1"}])
    as_cols = sim_fit.score({"receiving_state": [s], "case_type": ["ordinary"], "my_id": ["a1"]})
    for out in (as_list, as_cols):
        pd.testing.assert_frame_equal(as_dict, out)
    assert as_dict.my_id[0] == "a1"
    assert as_dict.p_breach[0] == pytest.approx(1 - as_dict.p_honored[0])


def test_wider_interval_contains_narrower(sim_fit):
    t = {"receiving_state": sim_fit.draws.states[2], "case_type": "high_profile"}
    n, w = sim_fit.score(t, interval=0.5), sim_fit.score(t, interval=0.95)
    assert w.p_honored_lower[0] < n.p_honored_lower[0] < n.p_honored_upper[0] < w.p_honored_upper[0]


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, "x", None, float("nan")])
def test_bad_interval(sim_fit, bad):
    with pytest.raises(InputError, match="interval"):
        sim_fit.score({"receiving_state": "CHN", "case_type": "ordinary"}, interval=bad)


def test_input_frame_is_not_modified(sim_fit):
    df = pd.DataFrame({"receiving_state": ["chn"], "case_type": ["ordinary"]})
    before = df.copy()
    sim_fit.score(df)
    pd.testing.assert_frame_equal(df, before)


def test_scoring_path_does_not_import_heavy_libraries():
    code = ("import sys, assurisk; assurisk.score({'receiving_state': 'CHN', 'case_type': 'ordinary'});"
            "assurisk.score([{'receiving_state': 'FRA', 'case_type': 'high_profile', 'year': 2001}]);"
            "print(' '.join(m for m in ('pymc', 'pytensor', 'arviz', 'arviz_stats', 'xarray', 'preliz', 'numba') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ""


def test_probability_draws_agree_with_scores(bundled):
    rows = [{"receiving_state": "CHN", "case_type": "ordinary"}, {"receiving_state": "CHN", "case_type": "high_profile"},
            {"receiving_state": "NOR", "case_type": "ordinary", "year": 2015}]
    draws = bundled.probability_matrix(rows)
    assert draws.shape == (bundled.draws.n_draws, 3)
    out = bundled.score(rows)
    assert draws.mean(axis=0) == pytest.approx(out.p_honored.to_numpy(), rel=1e-12)
    assert np.quantile(draws, 0.05, axis=0) == pytest.approx(out.p_honored_lower.to_numpy(), rel=1e-12)


def test_state_without_pts_is_flagged_not_silently_imputed(bundled):
    out = bundled.score([{"receiving_state": "VAT", "case_type": "ordinary"},  # the Holy See: no PTS score
                         {"receiving_state": "CHN", "case_type": "ordinary"}])
    assert out.covariate_imputed.tolist() == [True, False]
    assert np.isfinite(out.p_honored).all()


def test_year_beyond_the_covariate_is_flagged_not_silently_clamped(bundled):
    from assurisk.covariates import bundled_pts

    first, last = bundled_pts().years["CHN"][[0, -1]]
    years = [first - 10, first, (first + last) // 2, last, last + 5, None]
    out = bundled.score([{"receiving_state": "CHN", "case_type": "ordinary", "year": y} for y in years])
    assert out.covariate_year_outside.tolist() == [True, False, False, False, True, False]
    # Outside the range the nearest scored year is used, and the flag says so.
    assert out.p_honored[0] == out.p_honored[1] and out.p_honored[4] == out.p_honored[3]


def test_year_flag_is_missing_for_a_model_without_the_covariate(bundled):
    import copy

    from assurisk.fit import Fit

    meta = copy.deepcopy(bundled.meta)
    meta["spec"]["covariates"] = None
    nocov = Fit(bundled.draws, meta, prior=bundled.prior)
    out = nocov.score({"receiving_state": "CHN", "case_type": "ordinary", "year": 1900})
    assert out.covariate_year_outside.isna().all()
