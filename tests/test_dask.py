"""assurisk.score on a Dask DataFrame: lazy, equal to the pandas result, the fit loaded once per worker."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import assurisk

dd = pytest.importorskip("dask.dataframe")


def table(n=60):
    rng = np.random.default_rng(3)
    return pd.DataFrame({"case": np.arange(n), "receiving_state": rng.choice(["CHN", "Egypt", "NOR", "rus"], n),
                         "case_type": rng.choice(["ordinary", "High_Profile"], n),
                         "year": rng.choice([2001.0, 2015.0, np.nan], n),
                         "monitoring": rng.choice(["none", "consular"], n)})


def test_dask_result_is_lazy_and_equal_to_pandas(bundled):
    ddf = dd.from_pandas(table(), npartitions=4)
    lazy = assurisk.score(ddf, interval=0.8)
    assert isinstance(lazy, dd.DataFrame) and lazy.npartitions == 4
    want = assurisk.score(ddf.compute(), interval=0.8)
    pd.testing.assert_frame_equal(lazy.compute(), want)
    assert lazy._meta.dtypes.to_dict() == want.dtypes.to_dict()  # the declared schema is the real one


def test_dask_with_an_unsaved_fit_and_a_bad_row(bundled):
    from assurisk.fit import Fit

    unsaved = Fit(bundled.draws, bundled.meta, prior=bundled.prior)
    ddf = dd.from_pandas(table(), npartitions=3)
    pd.testing.assert_frame_equal(assurisk.score(ddf, fit=unsaved).compute(), assurisk.score(ddf.compute()))
    bad = table()
    bad.loc[45, "receiving_state"] = "ATA"
    lazy = assurisk.score(dd.from_pandas(bad, npartitions=3))  # no error until computed
    with pytest.raises(assurisk.InputError, match="partition 2 .*sovereign state"):
        lazy.compute()


def test_local_cluster_loads_the_fit_once_per_worker(bundled):
    distributed = pytest.importorskip("distributed")
    from assurisk.dask_support import worker_fit

    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        ddf = dd.from_pandas(table(200), npartitions=5)
        got = assurisk.score(ddf).compute()
        info = client.run(lambda: worker_fit.cache_info()._asdict())
    pd.testing.assert_frame_equal(got, assurisk.score(ddf.compute()))
    (stats,) = info.values()
    assert stats["misses"] == 1 and stats["hits"] == 4  # five partitions, one load
