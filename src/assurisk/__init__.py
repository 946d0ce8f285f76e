"""assurisk: how likely is a state to honour a diplomatic assurance?

Light on import: NumPy and pandas only. PyMC is imported when you fit, ArviZ when you ask for
summaries, pyarrow when you read or write bulk formats, Dask when you score a Dask DataFrame.
``score`` uses the bundled fit unless you pass your own.

The public names are exactly those in ``__all__`` (also what ``dir(assurisk)`` shows).
"""

from functools import cache as _cache

from ._version import __version__
from .errors import AssuriskError, ConvergenceWarning, FitFileError, InputError
from .fit import Fit
from .priors import Priors
from ._fit_api import fit  # after ``.fit``: the name ``assurisk.fit`` is this function, not the module

__all__ = [
    "AssuriskError",
    "ConvergenceWarning",
    "Fit",
    "FitFileError",
    "InputError",
    "Priors",
    "__version__",
    "default_fit",
    "fit",
    "load_cases",
    "load_fit",
    "score",
    "validate_cases",
]


def __dir__() -> list[str]:
    return sorted(__all__)


def load_fit(path) -> Fit:
    """Read a fit saved with :meth:`Fit.save` (checks format, version and model identity first).

    Reads the posterior with h5py only: no PyMC, ArviZ or xarray until you ask for ``Fit.idata``.

    Args:
        path: a ``.nc`` file written by ``Fit.save`` or ``assurisk fit``.

    Raises:
        FitFileError: the file is missing, not an assurisk fit, from an incompatible version, or damaged.

    Example:
        ```python
        import assurisk
        from assurisk.resources import data_path

        fit = assurisk.load_fit(data_path("default_fit.nc"))
        fit.converged   # True
        ```
    """
    from .storage import read_draws

    draws, meta, prior = read_draws(path, with_prior=True)
    return Fit(draws, meta, path=path, prior=prior)


@_cache
def default_fit() -> Fit:
    """The fit bundled with the package (fitted on the bundled ``cases.csv``), loaded once per process.

    Example:
        ```python
        import assurisk

        fit = assurisk.default_fit()
        fit.uses_detection, len(fit.draws.states)   # (True, 18)
        ```
    """
    from .resources import data_path

    return load_fit(data_path("default_fit.nc"))


def score(table, interval: float = 0.9, fit: Fit | None = None):
    """Probability that each row's assurance is honoured, against ``fit`` (default: the bundled fit).

    Args:
        table: rows with ``receiving_state`` (an ISO 3166-1 alpha-3 code or an English name of a
            sovereign state) and ``case_type`` (``ordinary`` or ``high_profile``, any case), and
            optionally ``year``, ``assurance_types`` and ``monitoring``: a pandas DataFrame, a CSV
            path, a dict, a list of dicts, or a Dask DataFrame.
        interval: probability of the central interval ``p_honored_lower``..``p_honored_upper``.
        fit: a :class:`assurisk.Fit`; default :func:`assurisk.default_fit`.

    Returns:
        The input rows with every input column kept and the score columns appended (see
            ``docs/score-output.schema.json``). For a Dask DataFrame, a lazy Dask DataFrame with
            the same partitions: each worker loads the fit once from its file.

    Raises:
        InputError: a row breaks the contract (every problem is listed with its row and column).

    Example:
        ```python
        import assurisk

        out = assurisk.score([{"receiving_state": "CHN", "case_type": "ordinary", "year": 2022},
                              {"receiving_state": "Norway", "case_type": "High_Profile"}])
        out[["receiving_state_code", "p_honored", "p_honored_lower", "p_honored_upper", "state_seen"]]
        ```
    """
    if _is_dask(table):
        from .dask_support import score_dask

        return score_dask(table, interval=interval, fit=fit)
    return (fit or default_fit()).score(table, interval=interval)


def _is_dask(table) -> bool:
    return type(table).__module__.split(".")[0] in ("dask", "dask_expr")


def load_cases():
    """The bundled, sourced case table as a typed DataFrame (89 assurance events).

    Example:
        ```python
        import assurisk

        cases = assurisk.load_cases()
        cases.groupby("receiving_state").size().sort_values().tail(3)
        ```
    """
    from .dataset import load_cases as _load

    return _load()


def validate_cases(table, purpose: str = "fit"):
    """Every problem found in a case table: an empty list when it meets the contract.

    Args:
        table: a DataFrame, CSV path, dict or list of dicts.
        purpose: ``"fit"`` (outcomes required) or ``"score"``.

    Returns:
        A list of problems, each with ``row`` (0-based), ``column``, ``value`` and ``expected``.

    Example:
        ```python
        import assurisk

        problems = assurisk.validate_cases([{"receiving_state": "ATA", "case_type": "ordinary"}], "score")
        print(problems[0])   # row 1, column 'receiving_state': got 'ATA', expected a sovereign state ...
        ```
    """
    from .dataset import table_problems

    return table_problems(table, purpose)
