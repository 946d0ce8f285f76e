"""Scoring a Dask DataFrame: lazily, partition by partition, with the fit loaded once per worker.

``assurisk.score(ddf)`` returns a lazy Dask DataFrame with the same partitions and index as ``ddf``
and the score columns appended, equal to ``assurisk.score(ddf.compute())``. A fit with a file (the
bundled fit, or one from :func:`assurisk.load_fit`) travels as its path: each worker process reads
it once and keeps it (scoring reads the posterior with h5py only, in about 0.1 s). A fit made in
this session and not saved travels as one object in the task graph, which Dask sends to each
worker once.

Example with a local cluster::

    from distributed import Client, LocalCluster
    import dask.dataframe as dd
    import assurisk

    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster):
        cases = dd.read_parquet("cases/*.parquet")       # or dd.from_pandas(df, npartitions=8)
        scored = assurisk.score(cases, interval=0.9)     # lazy
        scored.to_parquet("scored/")                     # computed on the workers

A bad row raises :class:`assurisk.InputError` when the partition holding it is computed; its row
number counts within that partition, and the message names the partition.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from .errors import InputError


@lru_cache(maxsize=4)
def worker_fit(path: str):
    """The fit in ``path``, loaded once per process (Dask workers call this)."""
    from . import load_fit

    return load_fit(path)


def _empty_scores(df: pd.DataFrame) -> pd.DataFrame:
    from .schema import SCORE_COLUMNS

    out = df.copy()
    for c, (dtype, _) in SCORE_COLUMNS.items():
        out[c] = pd.Series(index=df.index, dtype=dtype)
    return out


def _score_partition(df: pd.DataFrame, fit_ref, interval: float, partition_info=None) -> pd.DataFrame:
    if len(df) == 0:
        return _empty_scores(df)
    fit = worker_fit(fit_ref) if isinstance(fit_ref, str) else fit_ref
    try:
        return fit.score(df, interval=interval)
    except InputError as exc:
        where = f"partition {partition_info['number']}" if partition_info else "a partition"
        raise InputError(f"{where} of the Dask DataFrame (rows counted within the partition): {exc}") from exc


def score_dask(ddf, interval: float = 0.9, fit=None):
    """Lazy scores of a Dask DataFrame; see the module docstring."""
    import dask

    from . import default_fit
    from .fit import Fit
    from .scoring import check_interval

    interval = check_interval(interval)
    fit = fit or default_fit()
    if fit.path is not None:
        ref = str(fit.path)
    else:  # no file: one graph node holding the draws (without the DataTree), shipped once per worker
        ref = dask.delayed(Fit(fit.draws, fit.meta, prior=fit.prior), pure=True)
    meta = _empty_scores(ddf._meta)
    return ddf.map_partitions(_score_partition, ref, interval, meta=meta, align_dataframes=False)
