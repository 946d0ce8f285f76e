"""assurisk check, calibration half: simulation-based calibration, coverage and refits on a pool
(split from test_check.py so the two halves run in parallel under pytest-xdist)."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import numpy as np
import pytest

from assurisk.check import calibration, replay
from assurisk.priors import DEFAULT_DETECTION_MEANS

K = 5.0
SMALL = replay.RefitSettings(draws=250, tune=250, chains=2, thin=5)


@pytest.fixture(scope="module")
def bundled_spec(bundled):
    return replay.spec_from_fit(bundled)


def test_sbc_passes_for_the_model_and_fails_when_truth_comes_from_another_prior(bundled_spec):
    ok = calibration.sbc(bundled_spec, 30, settings=SMALL, seed=3)
    assert ok["passed"], {k: v["chi2_p"] for k, v in ok["params"].items()}
    # Truth drawn with breaches half as visible as the model's detection prior assumes.
    wrong = replace(bundled_spec.priors, detection={f"{lv}/{ct}": (0.5 * m * K, (1 - 0.5 * m) * K)
                                                    for (lv, ct), m in DEFAULT_DETECTION_MEANS.items()})
    bad = calibration.sbc(bundled_spec, 30, settings=SMALL, seed=3, simulate_priors=wrong)
    assert not bad["passed"]
    assert not bad["params"]["detection[0,1]"]["passed"]
    # Ranks of the misfit parameter pile up: the truth sits below most posterior draws.
    assert np.median(bad["params"]["detection[0,1]"]["ranks"]) < 0.3 * bad["n_posterior_draws"]


def test_coverage_is_near_nominal(bundled, bundled_spec):
    res = calibration.coverage(bundled, bundled_spec, 20, settings=SMALL, seed=4)
    for lv, r in res["levels"].items():
        assert abs(r["coverage"] - float(lv)) <= 3 * r["mc_se"] + 0.03, (lv, r["coverage"], r["mc_se"])


def test_refits_on_a_process_pool_match_inline(bundled_spec):
    inline = calibration.sbc(bundled_spec, 4, settings=SMALL, seed=9)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as ex:
        pooled = calibration.sbc(bundled_spec, 4, settings=SMALL, seed=9, executor=ex)
    assert {k: v["ranks"] for k, v in inline["params"].items()} == {k: v["ranks"] for k, v in pooled["params"].items()}


@pytest.mark.slow
def test_refits_on_a_dask_cluster_match_inline(bundled_spec):
    distributed = pytest.importorskip("distributed")
    inline = calibration.sbc(bundled_spec, 4, settings=SMALL, seed=9)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        dask = calibration.sbc(bundled_spec, 4, settings=SMALL, seed=9, executor=client.get_executor())
    assert {k: v["ranks"] for k, v in inline["params"].items()} == {k: v["ranks"] for k, v in dask["params"].items()}
