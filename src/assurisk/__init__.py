"""assurisk: how likely is a state to honour a diplomatic assurance?

Light on import: NumPy and pandas only. PyMC is imported when you fit, ArviZ when you ask for
summaries. ``score`` uses the bundled fit unless you pass your own.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ._version import __version__
from .errors import AssuriskError, ConvergenceWarning, FitFileError, InputError
from .fit import Fit
from .priors import Priors

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


def fit(cases, **kwargs) -> Fit:
    """Fit the model to a case table; see :func:`assurisk.fitting.fit` for the options."""
    from .fitting import fit as _fit

    return _fit(cases, **kwargs)


def load_fit(path: str | Path) -> Fit:
    """Read a fit saved with ``Fit.save`` (checks format, version and model identity first)."""
    from .storage import read_draws

    draws, meta, prior = read_draws(path, with_prior=True)
    return Fit(draws, meta, path=path, prior=prior)


@cache
def default_fit() -> Fit:
    """The fit bundled with the package (fitted on the bundled ``cases.csv``)."""
    from .resources import data_path

    return load_fit(data_path("default_fit.nc"))


def score(table, interval: float = 0.9, fit: Fit | None = None):
    """Score rows (``receiving_state``, ``case_type``, optional ``year``) against a fit (default: bundled)."""
    return (fit or default_fit()).score(table, interval=interval)


def load_cases():
    """The bundled case table as a typed DataFrame."""
    from .dataset import load_cases as _load

    return _load()


def validate_cases(table, purpose: str = "fit"):
    """Every problem found in a case table (empty list when it meets the contract)."""
    from .dataset import table_problems

    return table_problems(table, purpose)
