"""The scored-output schema and its provenance: which columns a score adds, their types, and which fit made them.

Every score carries the same columns whatever the model (a value a model cannot give is null), and
every output says how it was made:

- ``interval``: the central interval probability of ``p_honored_lower`` / ``p_honored_upper``;
- ``assurisk_version``: the package that scored;
- ``fit_id``: the fit's identity, ``sha256:`` and the hex SHA-256 of its posterior and prior draws
  and its metadata (so a fit has the same id in memory, after saving and after loading, and the
  bundled fit has the same id on every machine);
- ``model``: ``monitoring_aware`` or ``face_value``;
- ``schema_version``: :data:`SCHEMA_VERSION`, raised whenever a column is added, removed or changes meaning.

JSON output carries these as keys of every object; CSV output in a sidecar ``<output>.meta.json``;
Parquet output in the file's key-value metadata under the key ``assurisk``. The JSON Schema of a
scored record is ``docs/score-output.schema.json``.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from dataclasses import fields

import numpy as np

from ._version import __version__

SCHEMA_VERSION = 2  # 2: prior_contraction, n_direct, n_direct_state

# Score columns in output order, with their pandas dtype and meaning (docs and the JSON Schema follow this).
SCORE_COLUMNS: dict[str, tuple[str, str]] = {
    "p_honored": ("float64", "posterior mean probability that the whole assurance is honoured"),
    "p_honored_lower": ("float64", "lower end of the central posterior interval of that probability"),
    "p_honored_upper": ("float64", "upper end of the central posterior interval"),
    "p_breach": ("float64", "1 - p_honored"),
    "p_breach_unreported": ("float64", "monitoring-aware model: share of breaches that would go unreported under "
                                       "this verification (null for the face-value model)"),
    "p_breach_given_unreported": ("float64", "monitoring-aware model: P(a breach happened | none was reported), "
                                             "for a person already sent (null for the face-value model)"),
    "p_honored_prior": ("float64", "the prior's own mean P(honoured) (null when the fit has no prior draws)"),
    "prior_contraction": ("float64", "1 - posterior variance / prior variance of the cell's log-odds (null without "
                                     "prior draws)"),
    "n_direct": ("Int64", "fewest transfers in the record with a known outcome, of this case type, among the "
                          "promised items (null for fits that do not record it)"),
    "n_direct_state": ("Int64", "the same count from this row's state only"),
    "prior_dominated": ("boolean", "true when n_direct < 3 or prior_contraction < 0.5: the cell rests on the prior "
                                   "(null without prior draws)"),
    "state_seen": ("bool", "the state has transfers in the fitted record (false: population estimate)"),
    "n_state_cases": ("int64", "transfers to the state the model used"),
    "n_state_type_cases": ("int64", "of those, transfers of this row's case type"),
    "covariate_imputed": ("bool", "the state has no covariate score; its covariate is drawn from the world "
                                  "distribution (uncertainty carried)"),
    "covariate_year_outside": ("boolean", "the year lies outside the state's PTS years; the nearest scored year "
                                          "was used (null for a model without the covariate)"),
    "receiving_state_code": ("str", "the ISO 3166-1 alpha-3 code the receiving_state value was read as"),
    "converged": ("bool", "the fit's sampler diagnostics passed"),
}
PROVENANCE_KEYS = ("interval", "assurisk_version", "fit_id", "model", "schema_version")
META_KEY = "assurisk"  # Parquet key-value metadata key
_FIT_IDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _hash_draws(h, draws) -> None:
    for f in fields(draws):
        v = getattr(draws, f.name)
        h.update(f.name.encode())
        if isinstance(v, np.ndarray):
            a = np.ascontiguousarray(v, dtype=np.float64)
            h.update(str(a.shape).encode())
            h.update(a.tobytes())
        else:
            h.update(repr(v).encode())


def fit_id(fit) -> str:
    """Stable identity of a fit: ``sha256:`` + hex SHA-256 of its draws (posterior, prior) and metadata.

    Computed once per Fit object (about 5 ms for the bundled fit) and remembered.

    Example:
        >>> import assurisk
        >>> fit_id(assurisk.default_fit()).startswith("sha256:")
        True
    """
    cached = _FIT_IDS.get(fit)
    if cached is not None:
        return cached
    h = hashlib.sha256()
    h.update(json.dumps(fit.meta, sort_keys=True, default=str).encode())
    _hash_draws(h, fit.draws)
    if fit.prior is not None:
        h.update(b"prior")
        _hash_draws(h, fit.prior)
    out = "sha256:" + h.hexdigest()
    _FIT_IDS[fit] = out
    return out


def provenance(fit, interval: float) -> dict:
    """The provenance record of scores made with ``fit`` at ``interval`` (see the module docstring)."""
    return {"interval": float(interval), "assurisk_version": __version__, "fit_id": fit_id(fit),
            "model": str(fit.meta["model"]), "schema_version": SCHEMA_VERSION}


def sidecar(fit, interval: float, *, rows: int | None = None, source: str | None = None,
            fmt: str | None = None) -> dict:
    """Content of ``<output>.meta.json``: the provenance plus the column list and what was scored."""
    out = provenance(fit, interval)
    out["score_columns"] = {k: {"type": t, "description": d} for k, (t, d) in SCORE_COLUMNS.items()}
    out["fit_created"] = fit.meta.get("created")
    out["fit_converged"] = bool(fit.meta.get("converged"))
    if rows is not None:
        out["rows"] = int(rows)
    if source is not None:
        out["input"] = source
    if fmt is not None:
        out["format"] = fmt
    return out
