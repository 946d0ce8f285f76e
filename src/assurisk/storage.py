"""Fit files: netCDF-4 (HDF5) written through xarray/h5netcdf, read for scoring with h5py alone.

A fit file is an ArviZ DataTree (posterior, sample_stats, ...) whose root attributes carry
``assurisk_format`` and ``assurisk_meta`` (JSON: version, model spec, priors, data sha256, seed,
creation time, diagnostics). Nothing is ever pickled; loading checks format, version and the model
identity before any number is used. Writes go to a temporary file that is renamed into place.

Fit files are read as untrusted input. Before any array is read:

- the metadata is at most ``MAX_META_BYTES`` of JSON and is validated against one schema
  (``fit_meta.schema.json``: types, ranges, required and nested keys), then for consistency (model id,
  model and spec, state counts, priors);
- every array the reader touches is a plain dataset inside the file (no soft or external link, no
  virtual or external storage), of the dtype and the exact shape the metadata implies, within the caps
  below (a small file can declare a huge compressed or never-written array);
- after reading, posterior draws must be finite and in range (scales >= 0, probabilities in [0, 1],
  log-odds within +-``MAX_ABS_DRAW``).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from functools import cache
from pathlib import Path

import numpy as np

from ._version import FIT_FORMAT, __version__
from .draws import PosteriorDraws
from .errors import FitFileError, InputError, show_value
from .contract import ASSURANCE_GROUPS, MONITORING_LEVELS
from .model import (ASSURANCE_PARAM, DETECTION_PARAM, DETERRENCE_PARAM, LATENT_COVARIATE, SCALAR_PARAMS,
                    STATE_PARAMS, VERIFICATION_PARAM)

MAX_LATENT = 100_000  # covariate values measured with error in one fit (a bound on what a file can make us read)

META_ATTR = "assurisk_meta"
FORMAT_ATTR = "assurisk_format"
REQUIRED_META = ("assurisk_version", "model", "model_id", "spec", "sampler", "data", "diagnostics", "converged", "created")

# Caps on what a fit file may hold (a fit that ``assurisk.fit`` makes always fits within them).
MAX_META_BYTES = 1 << 20  # the JSON metadata (the bundled fit's is about 5 KB)
MAX_CHAINS = 32  # also in the schema (sampler.chains)
MAX_DRAWS = 40_000  # draws per chain; also in the schema (sampler.draws)
MAX_TUNE = 100_000
MAX_SAMPLES = 40_000  # chains x draws of the posterior (10 x the default 4 x 1000)
MAX_PRIOR_DRAWS = 10_000
MAX_STATES = 300  # states with fitted transfers (ISO 3166-1 has 249 codes)
MAX_COORD = 100_000  # length of any coordinate (cases, patterns) and of any non-sample dimension
MAX_STRING_BYTES = 1024  # one stored string (state codes, case labels)
MAX_OBJECTS = 5_000  # groups, arrays and links in one file
MAX_TREE_BYTES = 1 << 30  # all arrays of a fit, uncompressed (the bundled fit: about 20 MB)
MAX_ABS_DRAW = 1000.0  # no posterior draw of a log-odds parameter lies beyond +-1000
SAMPLE_GROUPS = ("posterior", "sample_stats", "log_likelihood", "posterior_predictive")
PRIOR_GROUPS = ("prior", "prior_predictive")


def model_id(spec: dict) -> str:
    """Identity of a model specification: first 16 hex digits of SHA-256 over its canonical JSON."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


@cache
def meta_schema() -> dict:
    """The JSON Schema every fit's metadata is checked against (``fit_meta.schema.json``)."""
    return json.loads((Path(__file__).with_name("fit_meta.schema.json")).read_text(encoding="utf-8"))


class SchemaError(ValueError):
    """Where (a dotted path such as ``sampler.target_accept``) and how a document breaks the schema."""

    def __init__(self, where: str, message: str):
        self.where, self.message = where or "the metadata", message
        super().__init__(f"{self.where} {message}")


_JSON_TYPES = {"null": lambda v: v is None, "boolean": lambda v: isinstance(v, bool),
               "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
               "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v),
               "string": lambda v: isinstance(v, str), "array": lambda v: isinstance(v, list),
               "object": lambda v: isinstance(v, dict)}


def validate(value, schema: dict | None = None, where: str = "", root: dict | None = None) -> None:
    """Check ``value`` against a JSON Schema (the subset ``fit_meta.schema.json`` uses); raise :class:`SchemaError`.

    Supported: type, enum, const, pattern, maxLength, minimum, maximum, exclusiveMinimum,
    exclusiveMaximum, properties, required, additionalProperties, propertyNames, maxProperties, items,
    prefixItems, minItems, maxItems and local ``$ref``. A float with an integral value is not an integer.
    """
    root = root if root is not None else (schema if schema is not None else meta_schema())
    schema = schema if schema is not None else root
    if "$ref" in schema:
        ref = schema["$ref"]
        node = root
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_JSON_TYPES[t](value) for t in types):
            raise SchemaError(where, f"must be {' or '.join(types)}, got {show_value(value)}")
    if "enum" in schema and not any(value == e and type(value) is type(e) for e in schema["enum"]):
        raise SchemaError(where, f"must be one of {schema['enum']}, got {show_value(value)}")
    if "const" in schema and not (value == schema["const"] and type(value) is type(schema["const"])):
        raise SchemaError(where, f"must be {schema['const']!r}, got {show_value(value)}")
    if isinstance(value, str):
        if len(value) > schema.get("maxLength", math.inf):
            raise SchemaError(where, f"must be at most {schema['maxLength']} characters, got {len(value)}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            raise SchemaError(where, f"must match {schema['pattern']!r}, got {show_value(value)}")
    if _JSON_TYPES["number"](value):
        for key, ok, word in (("minimum", lambda v, b: v >= b, ">="), ("maximum", lambda v, b: v <= b, "<="),
                              ("exclusiveMinimum", lambda v, b: v > b, ">"),
                              ("exclusiveMaximum", lambda v, b: v < b, "<")):
            if key in schema and not ok(value, schema[key]):
                raise SchemaError(where, f"must be {word} {schema[key]}, got {show_value(value)}")
    if isinstance(value, dict):
        if len(value) > schema.get("maxProperties", math.inf):
            raise SchemaError(where, f"must have at most {schema['maxProperties']} keys, got {len(value)}")
        for key in schema.get("required", ()):
            if key not in value:
                raise SchemaError(where, f"lacks the required key {key!r}")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, v in value.items():
            sub = f"{where}.{key}" if where else str(key)
            if "propertyNames" in schema:
                validate(key, schema["propertyNames"], f"{where or 'the metadata'} key {show_value(key)}", root)
            if key in props:
                validate(v, props[key], sub, root)
            elif extra is False:
                raise SchemaError(where, f"has an unknown key {show_value(key)}")
            elif isinstance(extra, dict):
                validate(v, extra, sub, root)
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", math.inf):
            raise SchemaError(where, f"must have between {schema.get('minItems', 0)} and "
                                     f"{schema.get('maxItems', 'any number of')} items, got {len(value)}")
        prefix = schema.get("prefixItems", [])
        for i, v in enumerate(value):
            sub_schema = prefix[i] if i < len(prefix) else schema.get("items")
            if sub_schema is not None:
                validate(v, sub_schema, f"{where}[{i}]", root)


def check_fit_options(sampler: dict, priors: dict) -> None:
    """Refuse, before sampling, options that would make a fit this version cannot load (the same schema
    and caps the reader applies). Raises :class:`InputError` naming the option."""
    props = meta_schema()["properties"]
    try:
        validate(sampler, props["sampler"], "", meta_schema())
        validate(priors, props["spec"]["properties"]["priors"], "priors", meta_schema())
    except SchemaError as exc:
        raise InputError(str(exc)) from None
    if sampler["chains"] * sampler["draws"] > MAX_SAMPLES:
        raise InputError(f"chains x draws must be at most {MAX_SAMPLES} (got {sampler['chains']} x {sampler['draws']})")


def check_fit_size(samples: int, n_states: int, n_patterns: int, n_cases: int) -> None:
    """Refuse, before sampling, a fit whose file would exceed the reader's caps."""
    if n_states > MAX_STATES or n_patterns > MAX_COORD or n_cases > MAX_COORD:
        raise InputError(f"the table is too large for one fit file: {n_states} states, {n_patterns} distinct case "
                         f"patterns and {n_cases} fitted rows (at most {MAX_STATES}, {MAX_COORD} and {MAX_COORD}); "
                         "aggregate rows with n_transfers and n_breaches")
    est = (samples * (8 * (4 * n_states + 40 + n_cases) + 12 * n_patterns)
           + MAX_PRIOR_DRAWS * (8 * (4 * n_states + 40) + 12 * n_patterns))
    if est > MAX_TREE_BYTES:
        raise InputError(f"this fit would hold about {est / 2**30:.1f} GiB of arrays, more than a fit file may hold "
                         f"({MAX_TREE_BYTES / 2**30:.0f} GiB): lower draws or chains, or aggregate rows")


COMPRESSION = {"compression": "gzip", "compression_opts": 4, "shuffle": True}


def _encoding(tree) -> dict:
    """Compress every array of more than a few values (a fit shrinks about twofold)."""
    enc = {}
    for node in tree.subtree:
        e = {k: dict(COMPRESSION) for k, v in node.dataset.data_vars.items() if v.ndim >= 1 and v.size > 16}
        if e:
            enc[node.path] = e
    return enc


def check_fit_destination(path: str | Path, *, overwrite: bool = True) -> Path:
    """Check, before any sampling, that a fit can be written to ``path`` (a .nc name in a writable
    folder; not a folder, pipe or device)."""
    from .safe_write import check_destination

    path = Path(path)
    if path.suffix not in (".nc", ".nc4", ".h5"):
        raise FitFileError(f"fit files are netCDF; give a path ending in .nc (got {str(path)!r})")
    return check_destination(path, overwrite=overwrite, streamable=False)


def write_fit(idata, meta: dict, path: str | Path, *, overwrite: bool = True) -> Path:
    """Write the DataTree with ``meta`` in its root attributes, atomically (see :mod:`assurisk.safe_write`)."""
    from .safe_write import atomic_write

    path = check_fit_destination(path, overwrite=overwrite)
    try:
        check_meta(json.loads(json.dumps(meta)), path)
    except FitFileError as exc:
        raise FitFileError(f"refusing to write a fit this version could not read back: {exc}") from None
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

    if not path.exists():
        raise FitFileError(f"fit file {str(path)!r} does not exist")
    if not path.is_file():
        raise FitFileError(f"fit file {str(path)!r} is not a regular file (a folder, pipe or device)")
    try:
        return h5py.File(path, "r", locking=False)
    except OSError:
        raise FitFileError(f"{str(path)!r} is not an assurisk fit: it is not a netCDF-4/HDF5 file") from None
    except Exception as exc:  # h5py raises several kinds on damaged superblocks
        raise FitFileError(f"{str(path)!r} is not an assurisk fit: it cannot be opened ({type(exc).__name__})") from None


def _attr(f, name: str, path: Path, max_bytes: int):
    """A root attribute, checked for kind and size before it is read; None when absent."""
    import h5py

    try:
        if name not in f.attrs:
            return None
        aid = h5py.h5a.open(f.id, name.encode())
        dtype, shape = aid.dtype, aid.shape
        if int(np.prod(shape, dtype=np.int64)) > 1:
            raise FitFileError(f"{str(path)!r} is damaged: its {name!r} attribute is an array of shape {shape}")
        if not (h5py.check_string_dtype(dtype) or dtype.kind in "iuS"):
            raise FitFileError(f"{str(path)!r} is damaged: its {name!r} attribute has the wrong type ({dtype})")
        if dtype.kind == "S" and dtype.itemsize > max_bytes:
            raise FitFileError(f"{str(path)!r} is damaged: its {name!r} attribute is larger than {max_bytes} bytes")
        v = f.attrs[name]
    except FitFileError:
        raise
    except Exception as exc:
        raise FitFileError(f"{str(path)!r} is damaged: its {name!r} attribute cannot be read ({type(exc).__name__})") from None
    if isinstance(v, np.ndarray):
        v = v.reshape(-1)[0] if v.size else None
    if isinstance(v, (bytes, np.bytes_)):
        try:
            v = bytes(v).decode("utf-8")
        except UnicodeDecodeError:
            raise FitFileError(f"{str(path)!r} is damaged: its {name!r} attribute is not UTF-8 text") from None
    if isinstance(v, np.integer):
        v = int(v)
    if isinstance(v, str) and len(v) > max_bytes:
        raise FitFileError(f"{str(path)!r} is damaged: its {name!r} attribute is larger than {max_bytes} bytes")
    return v


def _no_constants(name: str):
    raise ValueError(f"{name} is not a JSON number")


def parse_meta(text, path: Path) -> dict:
    """Parse the metadata JSON (at most MAX_META_BYTES; NaN and Infinity are not JSON) and check it."""
    if not isinstance(text, str):
        raise FitFileError(f"{str(path)!r} is damaged: its {META_ATTR!r} attribute is not text")
    if len(text) > MAX_META_BYTES:
        raise FitFileError(f"{str(path)!r} is damaged: its metadata is larger than {MAX_META_BYTES} bytes")
    try:
        meta = json.loads(text, parse_constant=_no_constants)
    except (TypeError, ValueError, RecursionError):
        raise FitFileError(f"{str(path)!r} is damaged: its {META_ATTR!r} attribute is not valid JSON") from None
    check_meta(meta, path)
    return meta


def check_meta(meta: dict, path: Path) -> None:
    """Validate metadata against the schema, then for consistency; raise :class:`FitFileError` naming the key."""
    if isinstance(meta, dict):
        missing = [k for k in REQUIRED_META if k not in meta]
        if missing:
            raise FitFileError(f"{str(path)!r} is damaged: its assurisk metadata lacks {missing}")
        v = meta["assurisk_version"]
        if isinstance(v, str) and v.split(".")[0] != __version__.split(".")[0]:
            raise FitFileError(
                f"{str(path)!r} was written by assurisk {show_value(v)}, which is not compatible with "
                f"this assurisk {__version__}; refit with this version or install that version"
            )
    try:
        validate(meta)
    except SchemaError as exc:
        raise FitFileError(f"{str(path)!r} is damaged: in its metadata, {exc}") from None
    spec, data, smp = meta["spec"], meta["data"], meta["sampler"]
    if model_id(spec) != meta["model_id"]:
        raise FitFileError(f"{str(path)!r} is damaged: its model spec does not match its recorded model id")

    def bad(what: str):
        raise FitFileError(f"{str(path)!r} is damaged: its metadata {what}")

    if meta["model"] != ("monitoring_aware" if spec["detection"] else "face_value"):
        bad(f"says model {meta['model']!r} but spec.detection is {spec['detection']}")
    if spec.get("deterrence") and not spec["detection"]:
        bad("has spec.deterrence without spec.detection")
    if smp["chains"] * smp["draws"] > MAX_SAMPLES:
        bad(f"sampler.chains x sampler.draws must be at most {MAX_SAMPLES}, got {smp['chains']} x {smp['draws']}")
    states, types = data["state_transfers"], data["state_type_transfers"]
    if not states:
        bad("data.state_transfers names no state")
    if set(states) != set(types):
        bad("data.state_transfers and data.state_type_transfers name different states")
    if any(sum(types[k]) != states[k] for k in states):
        bad("data.state_type_transfers does not add up to data.state_transfers")
    from .codes import iso3166_alpha3

    unknown = sorted(set(states) - set(iso3166_alpha3()))
    if unknown:
        bad(f"data.state_transfers names {show_value(unknown)}, which are not ISO 3166-1 alpha-3 codes")
    from .priors import Priors

    try:
        Priors.from_dict(spec["priors"])
    except (InputError, TypeError, ValueError) as exc:
        bad(f"spec.priors are not valid priors: {exc}")


def read_meta(path: str | Path) -> dict:
    """Metadata of a fit file, after checking that it is an assurisk fit this version can read."""
    path = Path(path)
    with _open_h5(path) as f:
        return _read_meta(f, path)


def _read_meta(f, path: Path) -> dict:
    fmt = _attr(f, FORMAT_ATTR, path, 32)
    if fmt is None:
        raise FitFileError(f"{str(path)!r} is a netCDF file but not an assurisk fit (no {FORMAT_ATTR!r} attribute)")
    if not isinstance(fmt, int) or fmt != FIT_FORMAT:
        raise FitFileError(
            f"{str(path)!r} uses fit format {show_value(fmt)}; assurisk {__version__} reads format {FIT_FORMAT}. "
            "Refit the model."
        )
    text = _attr(f, META_ATTR, path, MAX_META_BYTES)
    if text is None:
        raise FitFileError(f"{str(path)!r} is damaged: it has no {META_ATTR!r} attribute")
    return parse_meta(text, path)


def _member(g, name: str, path: Path, where: str, kind: str = "dataset"):
    """``g[name]`` if it is a plain member of this file (a hard link; for a dataset, no virtual or
    external storage); FitFileError otherwise. Nothing is read."""
    import h5py

    full = f"{where}/{name}" if where else name
    try:
        link = g.get(name, getlink=True)
    except Exception:
        link = None
    if link is None:
        return None
    if not isinstance(link, h5py.HardLink):
        raise FitFileError(f"{str(path)!r} is not a safe fit file: {full} is a link to "
                           f"{'another file' if isinstance(link, h5py.ExternalLink) else 'another object'}")
    try:
        obj = g[name]
    except Exception as exc:
        raise FitFileError(f"{str(path)!r} is damaged: {full} cannot be opened ({type(exc).__name__})") from None
    want = {"dataset": h5py.Dataset, "group": h5py.Group}.get(kind, (h5py.Dataset, h5py.Group))
    if not isinstance(obj, want):
        raise FitFileError(f"{str(path)!r} is damaged: {full} is not a{'n array' if kind == 'dataset' else ' group'}")
    if kind == "dataset" and (obj.is_virtual or obj.external):
        raise FitFileError(f"{str(path)!r} is not a safe fit file: {full} takes its data from outside the file")
    return obj


def _read(ds, path: Path, full: str) -> np.ndarray:
    try:
        return ds[()]
    except Exception as exc:
        raise FitFileError(f"{str(path)!r} is damaged: {full} cannot be read ({type(exc).__name__})") from None


def _read_states(g, group: str, n_states: int, path: Path) -> list[str]:
    import h5py

    ds = _member(g, "state", path, group)
    if ds is None:
        raise FitFileError(f"{str(path)!r} is damaged: its {group} has no state coordinate")
    if ds.shape != (n_states,):
        raise FitFileError(f"{str(path)!r} is damaged: {group}/state has shape {ds.shape}; the metadata names "
                           f"{n_states} states")
    if not (h5py.check_string_dtype(ds.dtype) or (ds.dtype.kind == "S" and ds.dtype.itemsize <= MAX_STRING_BYTES)):
        raise FitFileError(f"{str(path)!r} is damaged: {group}/state does not hold text ({ds.dtype})")
    out = []
    for s in _read(ds, path, f"{group}/state").tolist():
        if isinstance(s, bytes):
            try:
                s = s.decode("utf-8")
            except UnicodeDecodeError:
                raise FitFileError(f"{str(path)!r} is damaged: {group}/state holds text that is not UTF-8") from None
        out.append(str(s))
    return out


def _group_draws(f, group: str, meta: dict, path: Path, states=None) -> tuple[dict, list[str]]:
    """Parameter arrays of one group (posterior or prior): each checked for link, dtype and the exact
    shape the metadata implies before it is read, then for finiteness and range."""
    g = _member(f, group, path, "", kind="group")
    if g is None:
        raise FitFileError(f"{str(path)!r} is damaged: it has no {group} group")
    names = [n for n in SCALAR_PARAMS + STATE_PARAMS + (ASSURANCE_PARAM,)
             if (n != "beta_covariate" or meta["spec"]["covariates"]) and (n != "beta_time" or meta["spec"].get("time_effect"))]
    if meta["spec"]["detection"]:
        names += [DETECTION_PARAM, VERIFICATION_PARAM]
    if meta["spec"].get("deterrence"):
        names.append(DETERRENCE_PARAM)
    members = {n: _member(g, n, path, group) for n in names}
    absent = [n for n, ds in members.items() if ds is None]
    if absent:
        raise FitFileError(f"{str(path)!r} is damaged: its {group} lacks {absent}")
    n_states = len(meta["data"]["state_transfers"])
    if states is None:
        states = _read_states(g, group, n_states, path)
        if states != sorted(meta["data"]["state_transfers"]):
            raise FitFileError(f"{str(path)!r} is damaged: {group}/state does not list the states of its metadata")
    if group == "posterior":
        lead = (meta["sampler"]["chains"], meta["sampler"]["draws"])
    else:
        lead = members["intercept"].shape
        if len(lead) != 2 or not (1 <= lead[0] <= MAX_CHAINS and 1 <= lead[0] * lead[1] <= MAX_PRIOR_DRAWS):
            raise FitFileError(f"{str(path)!r} is damaged: {group} intercept has shape {lead}, expected (chain, draw) "
                               f"with at most {MAX_PRIOR_DRAWS} draws")
    expected = {n: lead for n in SCALAR_PARAMS if n in names}
    expected.update({n: lead + (n_states,) for n in STATE_PARAMS})
    expected[ASSURANCE_PARAM] = lead + (len(ASSURANCE_GROUPS),)
    expected[DETERRENCE_PARAM] = lead + (len(MONITORING_LEVELS),)
    expected[DETECTION_PARAM] = expected[VERIFICATION_PARAM] = lead + (4, 2)
    for n, ds in members.items():  # checked before anything is read, so a hostile shape allocates nothing
        if ds.shape != expected[n]:
            raise FitFileError(f"{str(path)!r} is damaged: {group} {n} has shape {ds.shape}, expected {expected[n]}")
        if ds.dtype.kind != "f" or ds.dtype.itemsize not in (4, 8):
            raise FitFileError(f"{str(path)!r} is damaged: {group} {n} holds {ds.dtype}, not floating-point numbers")
    arrays = {}
    for n, ds in members.items():
        a = _read(ds, path, f"{group}/{n}")
        if not np.all(np.isfinite(a)):
            raise FitFileError(f"{str(path)!r} is damaged: {group} {n} holds non-finite values")
        lo, hi = DRAW_RANGE.get(n, (-MAX_ABS_DRAW, MAX_ABS_DRAW))
        if a.size and (a.min() < lo or a.max() > hi):
            raise FitFileError(f"{str(path)!r} is damaged: {group} {n} holds values outside [{lo}, {hi}] "
                               f"(from {float(a.min())!r} to {float(a.max())!r})")
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


# Ranges of posterior draws: scales are >= 0, detection and verification are probabilities.
DRAW_RANGE = {"sigma_state": (0.0, MAX_ABS_DRAW), "sigma_state_high_profile": (0.0, MAX_ABS_DRAW),
              DETECTION_PARAM: (0.0, 1.0), VERIFICATION_PARAM: (0.0, 1.0)}


def check_tree(f, meta: dict, path: Path) -> None:
    """Before xarray reads a whole fit: every link is a hard link inside the file, every array a plain
    one of a number or short-text dtype, sample groups have the metadata's (chain, draw) shape, and
    no dimension, count or total exceeds the caps. Nothing is read."""
    import h5py

    chains, draws = meta["sampler"]["chains"], meta["sampler"]["draws"]
    prior_lead = None
    links: list = []
    try:
        f.visititems_links(lambda name, link: links.append((name, link)) if len(links) <= MAX_OBJECTS else True)
    except Exception as exc:
        raise FitFileError(f"{str(path)!r} is damaged: its structure cannot be read ({type(exc).__name__})") from None
    if len(links) > MAX_OBJECTS:
        raise FitFileError(f"{str(path)!r} is not an assurisk fit: it holds more than {MAX_OBJECTS} objects")
    total = 0
    for name, link in links:
        if not isinstance(link, h5py.HardLink):
            raise FitFileError(f"{str(path)!r} is not a safe fit file: {name} is a link to "
                               f"{'another file' if isinstance(link, h5py.ExternalLink) else 'another object'}")
        parent, _, leaf = name.rpartition("/")
        obj = _member(f[parent] if parent else f, leaf, path, parent, kind="any")
        if not isinstance(obj, h5py.Dataset):
            continue
        if obj.is_virtual or obj.external:
            raise FitFileError(f"{str(path)!r} is not a safe fit file: {name} takes its data from outside the file")
        dt, shape = obj.dtype, obj.shape or ()
        if h5py.check_string_dtype(dt) is not None and dt.kind == "O":
            item = 64  # a pointer and a Python string; the text itself lies uncompressed in the file
        elif dt.kind in "biuf" and dt.itemsize <= 8 or (dt.kind == "S" and dt.itemsize <= MAX_STRING_BYTES):
            item = dt.itemsize
        else:
            raise FitFileError(f"{str(path)!r} is damaged: {name} has an unsupported type ({dt})")
        group = name.split("/")[0]
        if group in PRIOR_GROUPS and len(shape) >= 2 and prior_lead is None:
            prior_lead = shape[:2]
            if not (prior_lead[0] <= MAX_CHAINS and prior_lead[0] * prior_lead[1] <= MAX_PRIOR_DRAWS):
                raise FitFileError(f"{str(path)!r} is damaged: {name} has shape {shape}: more than "
                                   f"{MAX_PRIOR_DRAWS} prior draws")
        if len(shape) >= 2 and group in SAMPLE_GROUPS and shape[:2] != (chains, draws):
            raise FitFileError(f"{str(path)!r} is damaged: {name} has shape {shape}; the metadata says "
                               f"{chains} chains x {draws} draws")
        if len(shape) >= 2 and group in PRIOR_GROUPS and shape[:2] != prior_lead:
            raise FitFileError(f"{str(path)!r} is damaged: {name} has shape {shape}, expected {prior_lead} draws")
        rest = shape[2:] if (group in SAMPLE_GROUPS + PRIOR_GROUPS and len(shape) >= 2) else shape
        if any(d > MAX_COORD for d in rest):
            raise FitFileError(f"{str(path)!r} is damaged: {name} has shape {shape}: a dimension over {MAX_COORD}")
        total += item * math.prod(shape)
        if total > MAX_TREE_BYTES:
            raise FitFileError(f"{str(path)!r} is not an assurisk fit: its arrays would take more than "
                               f"{MAX_TREE_BYTES >> 20} MiB of memory")


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
    """The full ArviZ DataTree (loads xarray; for analysis, not for scoring), after :func:`check_tree`."""
    import xarray as xr

    path = Path(path)
    with _open_h5(path) as f:
        check_tree(f, _read_meta(f, path), path)
    try:
        with xr.open_datatree(path, engine="h5netcdf", decode_times=False, decode_timedelta=False) as tree:
            return tree.load()
    except Exception as exc:
        raise FitFileError(f"{str(path)!r} is damaged: it cannot be read as a DataTree ({type(exc).__name__})") from None


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
