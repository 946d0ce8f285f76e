"""Fit files: bit-for-bit round trips, clear refusals, atomic writes."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

import assurisk
from assurisk import storage
from assurisk.errors import FitFileError


@pytest.fixture(scope="module")
def saved(sim_fit, tmp_path_factory):
    path = tmp_path_factory.mktemp("fits") / "sim.nc"
    sim_fit.save(path)
    return path


def test_round_trip_is_bit_for_bit(sim_fit, saved):
    back = assurisk.load_fit(saved)
    for name in ("intercept", "sigma_state", "beta_high_profile", "sigma_state_high_profile", "beta_covariate",
                 "state_effect", "state_high_profile_effect"):
        a, b = getattr(sim_fit.draws, name), getattr(back.draws, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert back.draws.states == sim_fit.draws.states
    assert back.meta == json.loads(json.dumps(sim_fit.meta))
    post_a, post_b = sim_fit.idata.posterior.to_dataset(), back.idata.posterior.to_dataset()
    for v in post_a.data_vars:
        assert np.array_equal(post_a[v].values, post_b[v].values), v


def test_saved_file_carries_identity(saved):
    meta = storage.read_meta(saved)
    assert meta["assurisk_version"] == assurisk.__version__
    assert len(meta["data"]["sha256"]) == 64
    assert meta["sampler"]["seed"] == 7
    assert set(meta["diagnostics"]) >= {"r_hat_max", "ess_bulk_min", "ess_tail_min", "divergences"}
    assert meta["spec"]["priors"] == assurisk.Priors().to_dict()
    assert "converged" in meta and "created" in meta and "pymc" in meta["versions"]


def test_refuses_non_assurisk_files(tmp_path, sim_fit):
    junk = tmp_path / "junk.nc"
    junk.write_bytes(b"not a netcdf file at all")
    with pytest.raises(FitFileError, match="not a netCDF-4/HDF5 file"):
        assurisk.load_fit(junk)
    other = tmp_path / "other.nc"
    sim_fit.idata.posterior.to_dataset().to_netcdf(other, engine="h5netcdf")
    with pytest.raises(FitFileError, match="not an assurisk fit"):
        assurisk.load_fit(other)
    with pytest.raises(FitFileError, match="does not exist"):
        assurisk.load_fit(tmp_path / "missing.nc")


def _tamper(src, dst, **attrs):
    dst.write_bytes(src.read_bytes())
    with h5py.File(dst, "r+") as f:
        for k, v in attrs.items():
            f.attrs[k] = v


def test_refuses_wrong_format_version_or_tampered_spec(saved, tmp_path):
    meta = storage.read_meta(saved)
    _tamper(saved, tmp_path / "fmt.nc", assurisk_format=99)
    with pytest.raises(FitFileError, match="fit format 99"):
        assurisk.load_fit(tmp_path / "fmt.nc")
    old = dict(meta, assurisk_version="0.0.1" if not assurisk.__version__.startswith("0.") else "9.0.0")
    _tamper(saved, tmp_path / "ver.nc", assurisk_meta=json.dumps(old))
    with pytest.raises(FitFileError, match="not compatible"):
        assurisk.load_fit(tmp_path / "ver.nc")
    spec = dict(meta, spec=dict(meta["spec"], covariates="pts"))
    _tamper(saved, tmp_path / "spec.nc", assurisk_meta=json.dumps(spec))
    with pytest.raises(FitFileError, match="model id"):
        assurisk.load_fit(tmp_path / "spec.nc")
    _tamper(saved, tmp_path / "json.nc", assurisk_meta="{not json")
    with pytest.raises(FitFileError, match="not valid JSON"):
        assurisk.load_fit(tmp_path / "json.nc")


def test_failed_write_leaves_old_file_and_no_temp(sim_fit, tmp_path, monkeypatch):
    target = tmp_path / "fit.nc"
    sim_fit.save(target)
    before = target.read_bytes()

    def boom(self, path, **kw):
        with open(path, "wb") as f:
            f.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(type(sim_fit.idata), "to_netcdf", boom)
    with pytest.raises(OSError, match="disk full"):
        sim_fit.save(target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["fit.nc"]


def test_save_path_errors(sim_fit, tmp_path):
    with pytest.raises(FitFileError, match="end in .nc|ending in .nc"):
        sim_fit.save(tmp_path / "fit.pkl")
    from assurisk.errors import AssuriskError

    with pytest.raises(AssuriskError, match="does not exist"):
        sim_fit.save(tmp_path / "nope" / "fit.nc")
    with pytest.raises(AssuriskError, match="is a directory"):
        (tmp_path / "d.nc").mkdir()
        sim_fit.save(tmp_path / "d.nc")


def test_own_case_table_matches_by_sha256(bundled, tmp_path):
    from assurisk.resources import data_path

    assert storage.own_case_table(bundled.meta) == data_path("cases.csv")
    other = tmp_path / "cases.csv"
    other.write_bytes(data_path("cases.csv").read_bytes() + b"\n")
    assert storage.own_case_table(bundled.meta, other) is None
    assert storage.own_case_table(bundled.meta, tmp_path / "missing.csv") is None
