"""The PTS covariate: rebuilt exactly from the official file (when present) and looked up by rule."""

from __future__ import annotations

import numpy as np
import pytest

from assurisk.covariates import build_state_covariates, bundled_pts, read_pts_table, write_state_covariates

from conftest import ROOT, SHARED

PTS_FILE = SHARED / "data" / "pts" / "PTS-2024.csv"


@pytest.mark.skipif(not PTS_FILE.exists(), reason="the official PTS file is not available (../shared is absent)")
def test_derived_table_is_reproducible_from_the_official_file(tmp_path):
    rows = build_state_covariates(PTS_FILE)
    out = tmp_path / "cov.csv"
    write_state_covariates(rows, out)
    assert out.read_bytes() == (ROOT / "data" / "state_covariates.csv").read_bytes()


def test_table_shape_and_values():
    t = read_pts_table(ROOT / "data" / "state_covariates.csv")
    assert {"CHN", "EGY", "JOR", "USA", "TWN"} <= set(t.years)
    for s in t.years:
        assert np.all(np.diff(t.years[s]) > 0)
        assert np.all((t.values[s] >= 1) & (t.values[s] <= 5))
    assert 2.0 < t.center < 3.0 and 0.8 < t.scale < 1.5


def test_lookup_rules():
    t = bundled_pts()
    raw, found = t.raw(np.array(["CHN", "CHN", "CHN", "XKX"]), np.array([2011.0, np.nan, 2099.0, 2000.0]))
    chn = dict(zip(t.years["CHN"], t.values["CHN"]))
    assert raw[0] == chn[2011.0]
    assert raw[1] == chn[max(chn)] == raw[2]  # no year, or a year past the data: the latest year
    assert found.tolist() == [True, True, True, False]
    z, found = t.standardized(np.array(["XKX"]), np.array([2000.0]))
    assert z[0] == 0.0 and not found[0]


def test_nearest_year_prefers_the_earlier_on_ties():
    from assurisk.covariates import PTSTable

    t = PTSTable({"AAA": np.array([2000.0, 2002.0])}, {"AAA": np.array([1.0, 3.0])}, 2.0, 1.0)
    assert t.raw(np.array(["AAA"]), np.array([2001.0]))[0][0] == 1.0
    assert t.raw(np.array(["AAA"]), np.array([1990.0]))[0][0] == 1.0
