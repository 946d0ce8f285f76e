"""Fit files: netCDF-4 (HDF5) written through xarray/h5netcdf, read for scoring with h5py alone.

A fit file is an ArviZ DataTree (posterior, sample_stats, ...) whose root attributes carry
``assurisk_format`` and ``assurisk_meta`` (JSON: version, model spec, priors, data sha256, seed,
creation time, diagnostics). Nothing is ever pickled; loading checks format, version and the model
identity before any number is used. Writes go to a temporary file that is renamed into place.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ._version import FIT_FORMAT, __version__
from .draws import PosteriorDraws
from .errors import FitFileError
from .contract import ASSURANCE_GROUPS, MONITORING_LEVELS
from .model import (ASSURANCE_PARAM, DETECTION_PARAM, DETERRENCE_PARAM, LATENT_COVARIATE, SCALAR_PARAMS,
                    STATE_PARAMS, VERIFICATION_PARAM)

MAX_LATENT = 100_000  # covariate values measured with error in one fit (a bound on what a file can make us read)

META_ATTR = "assurisk_meta"
FORMAT_ATTR = "assurisk_format"
REQUIRED_META = ("assurisk_version", "model", "model_id", "spec", "sampler", "data", "diagnostics", "converged", "created")


def model_id(spec: dict) -> str:
    """Identity of a model specification: first 16 hex digits of SHA-256 over its canonical JSON."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


COMPRESSION = {"compression": "gzip", "compression_opts": 4, "shuffle": True}


def _encoding(tree) -> dict:
    """Compress every array of more than a few values (a fit shrinks about twofold)."""
    enc = {}
    for node in tree.subtree:
        e = {k: dict(COMPRESSION) for k, v in node.dataset.data_vars.items() if v.ndim >= 1 and v.size > 16}
        if e:
            enc[node.path] = e
    return enc


def write_fit(idata, meta: dict, path: str | Path, *, overwrite: bool = True) -> Path:
    """Write the DataTree with ``meta`` in its root attributes, atomically (see :mod:`assurisk.safe_write`)."""
    from .safe_write import atomic_write, check_destination

    path = Path(path)
    if path.suffix not in (".nc", ".nc4", ".h5"):
        raise FitFileError(f"fit files are netCDF; give a path ending in .nc (got {str(path)!r})")
    check_destination(path, overwrite=overwrite, streamable=False)
    tree = idata.copy()
    tree.attrs = {k: v for k, v in tree.attrs.items() if isinstance(v, (str, int, float))}
    tree.attrs[FORMAT_ATTR] = FIT_FORMAT
    tree.attrs[META_ATTR] = json.dumps(meta, sort_keys=True)
    for group in ("prior_predictive", "posterior_predictive"):  # counts of transfers: small integers
        if group in tree.children:
            ds = tree[group].to_dataset()
            tree[group] = ds.assign({k: v.astype("int32") for k, v in ds.data_vars.items()
                                     if np.issubdtype(v.dtype, np.integer)})
    if "log_likelihood" in tree.children:  # float32 keeps 7 significant digits: ample for LOO, half the bytes
        ds = tree["log_likelihood"].to_dataset()
        tree["log_likelihood"] = ds.assign({k: v.astype("float32") for k, v in ds.data_vars.items()})
    encoding = _encoding(tree)
    return atomic_write(path, lambda tmp: tree.to_netcdf(tmp, engine="h5netcdf", encoding=encoding),
                        overwrite=overwrite, streamable=False)


def _open_h5(path: Path):
    import h5py

    if not path.is_file():
        raise FitFileError(f"fit file {str(path)!r} does not exist")
    try:
        return h5py.File(path, "r")
    except OSError:
        raise FitFileError(f"{str(path)!r} is not an assurisk fit: it is not a netCDF-4/HDF5 file") from None


def _attr(attrs, name):
    v = attrs.get(name)
    if isinstance(v, bytes):
        v = v.decode()
    if isinstance(v, np.ndarray) and v.size == 1:
        v = v.item()
    return v


def check_meta(meta: dict, path: Path) -> None:
    missing = [k for k in REQUIRED_META if k not in meta]
    if missing:
        raise FitFileError(f"{str(path)!r} is damaged: its assurisk metadata lacks {missing}")
    if str(meta["assurisk_version"]).split(".")[0] != __version__.split(".")[0]:
        raise FitFileError(
            f"{str(path)!r} was written by assurisk {meta['assurisk_version']}, which is not compatible with "
            f"this assurisk {__version__}; refit with this version or install {meta['assurisk_version']}"
        )
    if model_id(meta["spec"]) != meta["model_id"]:
        raise FitFileError(f"{str(path)!r} is damaged: its model spec does not match its recorded model id")


def read_meta(path: str | Path) -> dict:
    """Metadata of a fit file, after checking that it is an assurisk fit this version can read."""
    path = Path(path)
    with _open_h5(path) as f:
        return _read_meta(f, path)


def _read_meta(f, path: Path) -> dict:
    fmt = _attr(f.attrs, FORMAT_ATTR)
    if fmt is None:
        raise FitFileError(f"{str(path)!r} is a netCDF file but not an assurisk fit (no {FORMAT_ATTR!r} attribute)")
    if int(fmt) != FIT_FORMAT:
        raise FitFileError(
            f"{str(path)!r} uses fit format {fmt}; assurisk {__version__} reads format {FIT_FORMAT}. Refit the model."
        )
    try:
        meta = json.loads(_attr(f.attrs, META_ATTR))
    except (TypeError, ValueError):
        raise FitFileError(f"{str(path)!r} is damaged: its {META_ATTR!r} attribute is not valid JSON") from None
    check_meta(meta, path)
    return meta


def _group_draws(f, group: str, meta: dict, path: Path, states=None) -> tuple[dict, list[str]]:
    """Parameter arrays of one group (posterior or prior), checked for presence, shape and finiteness."""
    if group not in f:
        raise FitFileError(f"{str(path)!r} is damaged: it has no {group} group")
    g = f[group]
    names = [n for n in SCALAR_PARAMS + STATE_PARAMS + (ASSURANCE_PARAM,)
             if (n != "beta_covariate" or meta["spec"]["covariates"]) and (n != "beta_time" or meta["spec"].get("time_effect"))]
    if meta["spec"]["detection"]:
        names += [DETECTION_PARAM, VERIFICATION_PARAM]
    if meta["spec"].get("deterrence"):
        names.append(DETERRENCE_PARAM)
    absent = [n for n in names if n not in g]
    if absent:
        raise FitFileError(f"{str(path)!r} is damaged: its {group} lacks {absent}")
    if states is None:
        if "state" not in g:
            raise FitFileError(f"{str(path)!r} is damaged: its {group} has no state coordinate")
        states = [s.decode() if isinstance(s, bytes) else str(s) for s in g["state"][()]]
    lead = g["intercept"].shape
    if len(lead) != 2:
        raise FitFileError(f"{str(path)!r} is damaged: intercept has shape {lead}, expected (chain, draw)")
    expected = {n: lead for n in SCALAR_PARAMS if n in names}
    expected.update({n: lead + (len(states),) for n in STATE_PARAMS})
    expected[ASSURANCE_PARAM] = lead + (len(ASSURANCE_GROUPS),)
    expected[DETERRENCE_PARAM] = lead + (len(MONITORING_LEVELS),)
    expected[DETECTION_PARAM] = expected[VERIFICATION_PARAM] = lead + (4, 2)
    arrays = {}
    for n in names:
        if g[n].shape != expected[n]:  # checked before reading, so a hostile shape allocates nothing
            raise FitFileError(f"{str(path)!r} is damaged: {group} {n} has shape {g[n].shape}, expected {expected[n]}")
        a = g[n][()]
        if not np.issubdtype(a.dtype, np.floating) or not np.all(np.isfinite(a)):
            raise FitFileError(f"{str(path)!r} is damaged: {group} {n} holds non-finite or non-float values")
        arrays[n] = a
    if meta["spec"]["covariates"] and LATENT_COVARIATE in g:  # measurement errors of the fitted covariate values
        shape = g[LATENT_COVARIATE].shape
        if len(shape) != 3 or shape[:2] != lead or shape[2] > MAX_LATENT:
            raise FitFileError(f"{str(path)!r} is damaged: {group} {LATENT_COVARIATE} has shape {shape}")
        a = g[LATENT_COVARIATE][()]
        if not np.issubdtype(a.dtype, np.floating) or not np.all(np.isfinite(a)):
            raise FitFileError(f"{str(path)!r} is damaged: {group} {LATENT_COVARIATE} holds non-finite values")
        arrays[LATENT_COVARIATE] = a
    return arrays, states


def read_draws(path: str | Path, *, with_prior: bool = False):
    """Posterior draws and metadata with h5py only (fast, light: the scoring path).

    With ``with_prior`` also the prior draws (for the prior columns of scores): (posterior, meta, prior).
    """
    path = Path(path)
    with _open_h5(path) as f:
        meta = _read_meta(f, path)
        arrays, states = _group_draws(f, "posterior", meta, path)
        prior = None
        if with_prior:
            p_arrays, _ = _group_draws(f, "prior", meta, path, states)
            prior = PosteriorDraws.from_arrays(p_arrays, states, meta["sampler"]["seed"])
    post = PosteriorDraws.from_arrays(arrays, states, meta["sampler"]["seed"])
    return (post, meta, prior) if with_prior else (post, meta)


def read_datatree(path: str | Path):
    """The full ArviZ DataTree (loads xarray; for analysis, not for scoring)."""
    import xarray as xr

    path = Path(path)
    read_meta(path)
    with xr.open_datatree(path, engine="h5netcdf") as tree:
        return tree.load()


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def own_case_table(meta: dict, cases=None) -> Path | None:
    """The case table a fit was made from: ``cases`` (default: the bundled one) if its sha256 matches, else None."""
    from .resources import data_path

    path = Path(cases) if cases is not None else data_path("cases.csv")
    return path if path.is_file() and sha256_file(path) == meta["data"]["sha256"] else None
