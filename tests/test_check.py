"""assurisk check: each piece on small settings, with assertions that can fail."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from assurisk.check import predictive, replay, sensitivity

from conftest import ROOT, run_cli

SMALL = replay.RefitSettings(draws=250, tune=250, chains=2, thin=5)


@pytest.fixture(scope="module")
def bundled_spec(bundled):
    return replay.spec_from_fit(bundled)


def test_spec_rebuilds_the_fitted_design(bundled, bundled_spec):
    d = bundled_spec.design
    # Item-coded transfers contribute one observation per promised item.
    assert d.n.sum() == bundled.meta["data"]["n_observations"] >= bundled.meta["data"]["n_transfers"]
    assert d.breaches.sum() == bundled.meta["data"]["n_observed_breaches"]
    assert d.states == bundled.draws.states
    pat, y = predictive.transfers(bundled_spec)
    assert len(y) == d.n.sum() and y.sum() == d.breaches.sum()
    assert np.array_equal(np.bincount(pat, weights=y, minlength=d.n_patterns), d.breaches)


def test_predictive_checks_beat_the_global_rate_when_states_differ(sim_fit):
    spec = replay.spec_from_fit(sim_fit)
    res = predictive.predictive_checks(sim_fit, spec)
    assert np.isfinite(res["elpd_loo"]) and res["elpd_se"] > 0
    assert res["scores"]["model (PSIS-LOO)"]["log_score"] > res["scores"]["global rate"]["log_score"]
    assert 0 <= res["loo_pit_ks_p"] <= 1 and sum(b["n"] for b in res["reliability"]) == res["n_units"]


def test_per_state_baseline_is_leave_one_out(sim_fit):
    spec = replay.spec_from_fit(sim_fit)
    u = predictive.units(spec)
    y = u["y"].to_numpy()
    base = predictive.baselines(spec, u)["per-state rate"]
    state = u["state"].to_numpy()
    for i in (0, 17, len(y) - 1):
        same = (np.arange(len(y)) != i) & (state == state[i])
        # Dirichlet(1, 1) smoothing over the face-value model's two outcomes, without unit i itself.
        assert base[i, 1] == pytest.approx(((y[same] == 1).sum() + 1.0) / (same.sum() + 2.0))
        assert base[i, 0] + base[i, 1] == pytest.approx(1.0) and base[i, 2] == 0


def test_power_scaling_and_robustness_table(bundled, bundled_spec):
    import assurisk

    ps = sensitivity.power_scaling(bundled, bundled_spec)
    assert {"prior", "likelihood"} <= set(ps.columns) and "intercept" in ps.index
    # A cell the record informs directly (China's high-profile torture promises), so that detection
    # assumptions have something to act on.
    q = {"receiving_state": "CHN", "case_type": "high_profile"}
    cases = assurisk.load_cases()
    # Every alternative that applies to this record is offered (no refit needed to list them) ...
    offered = (set(sensitivity.data_alternatives(cases, bundled_spec.design.states))
               | set(sensitivity.prior_alternatives(bundled_spec.priors)))
    must = ("coding: partly_breached read as honoured", "without CHN's own rows", "priors: all scales x 2",
            "detection: breaches half as visible")
    assert set(must) <= offered
    # ... and the refits of a few of them (all of them run in the report's robustness test).
    rows = sensitivity.robustness(bundled, bundled_spec, cases, q, settings=SMALL, only=must)
    names = [r["alternative"] for r in rows]
    assert names == ["as fitted", *[n for n in names[1:] if n in must]] and set(names[1:]) == set(must)
    assert all(0 <= r["lower"] <= r["p_honored"] <= r["upper"] <= 1 for r in rows)
    by = {r["alternative"]: r for r in rows}
    # Less visible breaches can only mean more unseen breaches: a lower estimate than as fitted.
    assert by["detection: breaches half as visible"]["p_honored"] < by["as fitted"]["p_honored"]
    # Every refit carries its own convergence record.
    assert all(isinstance(r["divergences"], int) and isinstance(r["converged"], bool) for r in rows)


def test_refits_rebuild_exactly_the_fitted_model_with_state_beliefs_and_covariate(bundled):
    """Defect: refits built the model without the states' covariate that anchors expert beliefs."""
    import copy

    import pymc as pm  # noqa: F401

    from assurisk import contract
    from assurisk.design import build_design
    from assurisk.fit import Fit
    from assurisk.fitting import beliefs_covariate, row_covariates
    from assurisk.model import build_model
    from assurisk.priors import Priors

    priors = Priors().with_honoured_rate(0.3, 0.1, 0.6, state="CHN")
    meta = copy.deepcopy(bundled.meta)
    meta["spec"]["priors"] = priors.to_dict()
    spec = replay.spec_from_fit(Fit(bundled.draws, meta, idata=bundled.idata))
    assert spec.state_x is not None
    refit_model = spec.build()
    # The model as `assurisk.fit` builds it, from the case table itself.
    import assurisk

    _, rows = contract.parse(assurisk.load_cases(), "fit", require_year=True)
    x, x_sd, _, t = row_covariates(rows, "pts", False)
    design = build_design(rows, x, x_center=bundled.x_center, x_sd=x_sd, t=t)
    fitted_model = build_model(design, priors, use_covariate=True, detection=True,
                               state_x=beliefs_covariate(design.states, "pts", bundled.x_center))
    rng = np.random.default_rng(0)
    point = {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in fitted_model.initial_point().items()}
    assert refit_model.compile_logp()(point) == pytest.approx(fitted_model.compile_logp()(point), rel=1e-10)
    # ... and without the anchor the density differs (the test can fail).
    unanchored = replace(spec, state_x=None).build()
    assert unanchored.compile_logp()(point) != pytest.approx(fitted_model.compile_logp()(point), rel=1e-6)


def test_cli_check_writes_summary_and_figures(tmp_path):
    out = tmp_path / "check"
    r = run_cli("check", "--sbc", "8", "--coverage", "4", "--no-sensitivity", "--out", out)
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert {"predictive", "sbc", "coverage"} <= set(summary)
    assert (out / "reliability.png").stat().st_size > 5000 and (out / "sbc_ecdf.png").stat().st_size > 5000
    assert "PSIS-LOO" in r.stdout and "SBC" in r.stdout
    # The short refits' convergence record is in the summary and on the terminal.
    for part in ("sbc", "coverage"):
        assert {"divergent_fits", "unconverged_fits", "r_hat_max_median"} <= set(summary[part])
        assert 0 <= summary[part]["unconverged_fits"] <= summary[part]["n_sims"]
    assert r.stdout.count("miss the fit-level thresholds") == 2


def test_cli_check_bad_question():
    r = run_cli("check", "--state", "XXX", "--sbc", "0", "--coverage", "0", "--no-sensitivity")
    assert r.returncode == 2 and "'XXX'" in r.stderr and "Traceback" not in r.stderr


def test_prior_flag_follows_the_record_china_ordinary_torture(bundled, bundled_spec):
    """With the record as it is, the China/ordinary/torture cell is informed (indirectly); without the
    four ordinary treatment-promise transfers with a known outcome it rests on the prior and is flagged."""
    import copy

    import assurisk
    from assurisk import contract
    from assurisk.fit import Fit
    from assurisk.fitting import item_type_known

    q = {"receiving_state": "CHN", "case_type": "ordinary"}
    full = bundled.score(q).iloc[0]
    assert full.n_direct_state == 0  # no ordinary torture-promise transfer to China has a known outcome
    cases = pd.read_csv(ROOT / "data" / "cases.csv", dtype=str, keep_default_na=False)
    treat = cases.item_outcomes.str.contains(r"(?:torture|detention_conditions)=(?:kept|broken)")
    drop = (cases.case_type == "ordinary") & treat
    assert drop.sum() >= 1
    reduced = cases[~drop]
    design = replay.design_for(bundled_spec, reduced, detection=True)
    res = replay.run_refits(bundled_spec, [(design, design.counts, 5)], SMALL)[0]
    meta = copy.deepcopy(bundled.meta)
    _, rows = contract.parse(reduced, "fit", require_year=True)
    meta["data"]["item_type_known"] = item_type_known(rows, True)
    fit = Fit(replay.draws_of(res, bundled_spec.design.states), meta, prior=bundled.prior)
    cell = fit.score(q).iloc[0]
    assert cell.n_direct == 0 and bool(cell.prior_dominated)
    assert full.n_direct == int(drop.sum())  # the indirect evidence the full record holds
