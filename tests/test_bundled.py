"""The bundled fit belongs to the bundled data, converged, and scores instantly."""

from __future__ import annotations

import hashlib

from assurisk.resources import data_path

from conftest import ROOT


def test_bundled_fit_was_made_from_the_current_cases_csv(bundled):
    current = hashlib.sha256((ROOT / "data" / "cases.csv").read_bytes()).hexdigest()
    assert bundled.meta["data"]["sha256"] == current, (
        "data/cases.csv changed since the bundled fit was made; regenerate it with "
        "`assurisk fit --cases data/cases.csv --out data/default_fit.nc --seed 20261128`")
    assert hashlib.sha256(data_path("cases.csv").read_bytes()).hexdigest() == current


def test_bundled_fit_converged_and_uses_pts(bundled):
    assert bundled.converged, bundled.diagnostics
    assert bundled.uses_covariate
    assert bundled.meta["sampler"]["seed"] == 20261128


def test_bundled_fit_counts_match_the_data(bundled):
    import assurisk
    from assurisk import contract

    _, rows = contract.parse(assurisk.load_cases().astype(object).where(lambda d: d.notna(), None), "fit")
    by_state, by_type = {}, {}
    assert bundled.uses_detection
    for s, hp, n in zip(rows.state, rows.high_profile, rows.n_transfers):
        by_state[s] = by_state.get(s, 0) + int(n)
        by_type.setdefault(s, [0, 0])[int(hp)] += int(n)
    assert {k: v for k, v in by_state.items() if v} == bundled.state_counts
    assert {k: v for k, v in by_type.items() if sum(v)} == bundled.state_type_counts
    out = bundled.score([{"receiving_state": s, "case_type": ct} for s in by_type for ct in ("ordinary", "high_profile")])
    expect = [by_type[s][hp] if by_state[s] else 0 for s in by_type for hp in (0, 1)]
    assert out.n_state_type_cases.tolist() == expect
