"""The bundled case dataset meets its codebook: schema, code lists, sources, derivations, coverage."""

from __future__ import annotations


import pandas as pd
import pytest

import assurisk
from assurisk import dataset
from assurisk.codes import iso3166_alpha3

from conftest import ROOT


@pytest.fixture(scope="module")
def cases():
    return assurisk.load_cases()


def test_schema_and_types(cases):
    assert tuple(cases.columns[: len(dataset.CODEBOOK_COLUMNS)]) == dataset.CODEBOOK_COLUMNS
    assert str(cases["year"].dtype) == "Int64" and str(cases["n_persons"].dtype) == "Int64"
    assert isinstance(cases["outcome_detail"].dtype, pd.CategoricalDtype)


def test_validate_data_finds_no_problem():
    assert assurisk.validate_cases(ROOT / "data" / "cases.csv") == []


def test_code_lists(cases):
    assert cases.receiving_state.isin(list(iso3166_alpha3())).all()
    for col, allowed in dataset.ALLOWED.items():
        vals = cases[col].dropna()
        assert vals.isin(allowed).all(), col
    assert cases.case_id.is_unique
    assert cases.case_id.str.fullmatch(r"[a-z0-9][a-z0-9\-]+").all()


def test_every_row_has_a_source_and_a_note(cases):
    for _, r in cases.iterrows():
        parts = [p.strip() for p in r.sources.split(";") if p.strip()]
        assert parts, r.case_id
        assert isinstance(r.notes, str) and len(r.notes) > 20, r.case_id


def test_derived_columns_follow_the_codebook(cases):
    for _, r in cases.iterrows():
        assert r.case_type == dataset.CASE_TYPE_OF_PROFILE[r.profile], r.case_id
        assert (r.outcome if isinstance(r.outcome, str) else "") == dataset.OUTCOME_OF_DETAIL[r.outcome_detail], r.case_id
        assert (r.transferred == "no") == (r.outcome_detail == "not_transferred"), r.case_id


def test_codebook_rules_catch_violations(cases):
    bad = pd.read_csv(ROOT / "data" / "cases.csv", dtype=str, keep_default_na=False)
    bad.loc[0, "case_type"] = "ordinary" if bad.loc[0, "case_type"] == "high_profile" else "high_profile"
    bad.loc[1, "sources"] = " ; "
    bad.loc[2, "case_id"] = bad.loc[3, "case_id"]
    bad.loc[4, "assurance_types"] = "torture;kindness"
    problems = {(p.row, p.column) for p in assurisk.validate_cases(bad)}
    assert {(0, "case_type"), (1, "sources"), (3, "case_id"), (4, "assurance_types")} <= problems


def test_coverage_targets(cases):
    assert len(cases) >= 80
    assert (cases.transferred == "yes").sum() >= 60
    assert cases.receiving_state.nunique() >= 20
    chn = cases[cases.receiving_state == "CHN"]
    assert set(chn.case_type) == {"ordinary", "high_profile"}


def test_double_check_statistics_in_codebook_match_the_record():
    """The kappa and agreement printed in the codebook are recomputed from data/double_check.csv."""
    from assurisk.agreement import agreement_stats

    dc = pd.read_csv(ROOT / "data" / "double_check.csv", dtype=str, keep_default_na=False)
    stats = agreement_stats(dc["pass1_outcome_detail"], dc["pass2_outcome_detail"])
    text = (ROOT / "data" / "CODEBOOK.md").read_text()
    assert f"raw agreement {stats['agreement']:.3f}" in text
    assert f"Cohen's kappa {stats['kappa']:.3f}" in text
    ids = set(pd.read_csv(ROOT / "data" / "cases.csv", dtype=str).case_id)
    assert set(dc.case_id) == ids


def test_kappa_known_values():
    from assurisk.agreement import agreement_stats

    # Perfect agreement; and a textbook 2x2 example: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> kappa 0.4.
    assert agreement_stats(["a", "b"], ["a", "b"])["kappa"] == 1.0
    a = ["y"] * 25 + ["n"] * 25
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    s = agreement_stats(a, b)
    assert s["agreement"] == pytest.approx(0.7) and s["kappa"] == pytest.approx(0.4)
