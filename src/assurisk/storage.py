"""Fit files: netCDF-4 (HDF5) written through xarray/h5netcdf, read for scoring with h5py alone.

A fit file is an ArviZ DataTree (posterior, sample_stats, ...) whose root attributes carry
``assurisk_format`` and ``assurisk_meta`` (JSON: version, model spec, priors, data sha256, seed,
creation time, diagnostics). Nothing is ever pickled; loading checks format, version and the model
identity before any number is used. Writes go to a temporary file that is renamed into place.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from ._version import FIT_FORMAT, __version__
from .draws import PosteriorDraws
from .errors import FitFileError
from .model import ASSURANCE_PARAM, DETECTION_PARAM, SCALAR_PARAMS, STATE_PARAMS

META_ATTR = "assurisk_meta"
FORMAT_ATTR = "assurisk_format"
REQUIRED_META = ("assurisk_version", "model", "model_id", "spec", "sampler", "data", "diagnostics", "converged", "created")


def model_id(spec: dict) -> str:
    """Identity of a model specification: first 16 hex digits of SHA-256 over its canonical JSON."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def write_fit(idata, meta: dict, path: str | Path) -> Path:
    """Write the DataTree with ``meta`` in its root attributes, atomically."""
    path = Path(path)
    if path.suffix not in (".nc", ".nc4", ".h5"):
        raise FitFileError(f"fit files are netCDF; give a path ending in .nc (got {str(path)!r})")
    if not path.parent.is_dir():
        raise FitFileError(f"cannot write {str(path)!r}: folder {str(path.parent)!r} does not exist")
    tree = idata.copy()
    tree.attrs = {k: v for k, v in tree.attrs.items() if isinstance(v, (str, int, float))}
    tree.attrs[FORMAT_ATTR] = FIT_FORMAT
    tree.attrs[META_ATTR] = json.dumps(meta, sort_keys=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tree.to_netcdf(tmp, engine="h5netcdf")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


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


def read_draws(path: str | Path) -> tuple[PosteriorDraws, dict]:
    """Posterior draws and metadata with h5py only (fast, light: the scoring path)."""
    path = Path(path)
    with _open_h5(path) as f:
        meta = _read_meta(f, path)
        if "posterior" not in f:
            raise FitFileError(f"{str(path)!r} is damaged: it has no posterior group")
        post = f["posterior"]
        names = [n for n in SCALAR_PARAMS + STATE_PARAMS + (ASSURANCE_PARAM,)
                 if n != "beta_pts" or meta["spec"]["covariates"]]
        if meta["spec"]["detection"]:
            names.append(DETECTION_PARAM)
        absent = [n for n in names if n not in post]
        if absent:
            raise FitFileError(f"{str(path)!r} is damaged: its posterior lacks {absent}")
        arrays = {n: post[n][()] for n in names}
        states = [s.decode() if isinstance(s, bytes) else str(s) for s in post["state"][()]]
    shapes = {n: a.shape for n, a in arrays.items()}
    chains_draws = arrays["intercept"].shape
    expected = {n: chains_draws + (len(states),) for n in STATE_PARAMS}
    expected[ASSURANCE_PARAM] = chains_draws + (5,)
    if DETECTION_PARAM in arrays:
        expected[DETECTION_PARAM] = chains_draws + (4, 2)
    for n, shape in expected.items():
        if shapes[n] != shape:
            raise FitFileError(f"{str(path)!r} is damaged: {n} has shape {shapes[n]}, expected {shape}")
    for n, a in arrays.items():
        if not np.all(np.isfinite(a)):
            raise FitFileError(f"{str(path)!r} is damaged: {n} holds non-finite values")
    return PosteriorDraws.from_arrays(arrays, states, meta["sampler"]["seed"]), meta


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
