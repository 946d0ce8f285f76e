"""``assurisk.fit``, defined apart from ``assurisk/__init__.py`` so that the documentation tools do
not mistake it for the ``assurisk.fit`` module (the :class:`assurisk.Fit` class lives there).

It carries :func:`assurisk.fitting.fit`'s real signature; PyMC is imported only when it is called.
"""

from .fit import Fit
from .priors import Priors


def fit(cases, *, covariates: str | None = "pts", time_effect: bool = False, detection: bool = True,
        deterrence: bool = False, priors: Priors | None = None, draws: int = 1000, tune: int = 1500,
        chains: int = 4, seed: int | None = None, target_accept: float = 0.95, sampler: str | None = None,
        progressbar: bool = False) -> Fit:
    """Fit the model of assurance compliance to a case table (imports PyMC on first use).

    Args:
        cases: the case table: a DataFrame, a CSV path, a dict or a list of dicts meeting the
            case-table contract (``receiving_state``, ``case_type``, ``outcome`` or
            ``n_transfers``/``n_breaches``, optional ``year``, ``monitoring``, ``assurance_types``, ...).
        covariates: ``"pts"`` adds the standardised Political Terror Scale of the receiving state in
            the year of transfer; ``"fariss"`` Fariss's latent human-rights scores, with their published
            uncertainty carried as measurement error; ``None`` treats states as exchangeable groups.
            States with no score carry the world distribution, not a point value.
        time_effect: add a linear time trend (per decade, centred on the record's mean year).
        detection: ``True`` (default) is the monitoring-aware model: a breach enters the record, and a
            kept promise is shown to be kept, only with probabilities that depend on how verifiable
            each promised item was, so "no breach reported" is not read as "honoured". ``False`` is
            the face-value model, which drops transfers with no known outcome.
        deterrence: let monitoring change compliance itself (default: monitoring changes only what is seen).
        priors: an :class:`assurisk.Priors` (default ``Priors()``).
        draws: posterior draws per chain.
        tune: tuning steps per chain.
        chains: number of chains.
        seed: random seed; ``None`` draws one and records it, so every fit can be re-run exactly.
        target_accept: NUTS target acceptance rate, strictly between 0 and 1.
        sampler: ``"nutpie"`` (default when installed) or ``"pymc"``.
        progressbar: show the sampler's progress.

    Returns:
        A :class:`assurisk.Fit`.

    Raises:
        InputError: the table breaks the contract, or an option is out of range.

    Warns:
        ConvergenceWarning: the sampler's diagnostics fail (R-hat > 1.01, ESS < 400 or divergences).

    Example:
        ```python
        import assurisk

        fit = assurisk.fit(assurisk.load_cases(), seed=1)   # about a minute; PyMC is imported here
        fit.converged, fit.summary().loc["intercept", "mean"]
        ```
    """
    from .fitting import fit as _fit

    return _fit(cases, covariates=covariates, time_effect=time_effect, detection=detection, deterrence=deterrence,
                priors=priors,
                draws=draws, tune=tune, chains=chains, seed=seed, target_accept=target_accept, sampler=sampler,
                progressbar=progressbar)


fit.__module__ = "assurisk"
