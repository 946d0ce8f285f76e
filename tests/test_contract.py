"""The case-table contract: every bad-input class gives an error naming row, column, value, expectation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import assurisk
from assurisk import contract
from assurisk.states import resolve, sovereign_codes
from assurisk.errors import InputError


def only_problem(table, purpose="fit", **kw):
    problems, rows = contract.find_problems(table, purpose, **kw)
    assert rows is None
    return problems


def good_rows():
    return [
        {"receiving_state": "CHN", "case_type": "ordinary", "outcome": "honored", "year": 2011},
        {"receiving_state": "EGY", "case_type": "high_profile", "outcome": "breached", "year": 2001},
        {"receiving_state": "EGY", "case_type": "high_profile", "outcome": "unknown", "year": 2002},
        {"receiving_state": "JOR", "case_type": "high_profile", "outcome": None, "transferred": "no", "year": 2008},
    ]


def test_good_table_parses_and_counts_only_known_transferred_outcomes():
    df = pd.DataFrame(good_rows())
    df["transferred"] = df["transferred"].fillna("yes")
    _, rows = contract.parse(df, "fit")
    # Three outcomes per transfer: verified kept, breach reported, nothing known; not transferred counts nothing.
    assert rows.n_honored.tolist() == [1, 0, 0, 0]
    assert rows.n_breaches.tolist() == [0, 1, 0, 0]
    assert rows.n_unknown.tolist() == [0, 0, 1, 0]
    assert rows.n_transfers.tolist() == [1, 1, 1, 0]
    assert rows.n_face_honored.tolist() == [1, 0, 0, 0]  # the face-value model drops unknowns
    assert rows.high_profile.tolist() == [False, True, True, True]


def test_aggregate_rows_and_single_rows_mix():
    t = [{"receiving_state": "CHN", "case_type": "ordinary", "n_transfers": 5, "n_breaches": 2},
         {"receiving_state": "CHN", "case_type": "ordinary", "outcome": "breached"}]
    _, rows = contract.parse(t, "fit")
    assert rows.n_transfers.tolist() == [5, 1] and rows.n_breaches.tolist() == [2, 1]
    # Without n_honored_verified, an aggregate row's non-breaches are unknown (monitoring-aware reading)
    # and honoured (face-value reading).
    assert rows.n_unknown.tolist() == [3, 0] and rows.n_honored.tolist() == [0, 0]
    assert rows.n_face_honored.tolist() == [3, 0]


def test_aggregate_rows_with_verified_honoured_counts():
    t = [{"receiving_state": "CHN", "case_type": "ordinary", "n_transfers": 10, "n_breaches": 2, "n_honored_verified": 3}]
    _, rows = contract.parse(t, "fit")
    assert (rows.n_honored[0], rows.n_breaches[0], rows.n_unknown[0]) == (3, 2, 5)
    bad = [dict(t[0], n_honored_verified=9)]
    with pytest.raises(InputError, match="n_honored_verified"):
        contract.parse(bad, "fit")


def test_unknown_state_code_names_row_and_code():
    t = good_rows()
    t[2]["receiving_state"] = "XYZ"
    with pytest.raises(InputError) as e:
        contract.parse(t, "fit")
    p = e.value.problems[0]
    assert (p.row, p.column, p.value) == (2, "receiving_state", "XYZ")
    assert "row 3" in str(e.value) and "'XYZ'" in str(e.value) and "ISO 3166-1" in str(e.value)


def test_codes_are_case_and_space_insensitive():
    _, rows = contract.parse([{"receiving_state": " chn ", "case_type": "High_Profile "}], "score")
    assert rows.state.tolist() == ["CHN"] and rows.high_profile.tolist() == [True]


@pytest.mark.parametrize("column,value,expected", [
    ("case_type", "political", "'ordinary' or 'high_profile'"),
    ("outcome", "maybe", "'honored', 'breached' or 'unknown'"),
    ("year", "20x1", "whole number"),
    ("year", 2011.5, "whole number"),
    ("year", 1850, "whole number"),
    ("transferred", "perhaps", "'yes' or 'no'"),
])
def test_bad_values_are_named(column, value, expected):
    t = good_rows()
    t[1][column] = value
    problems = only_problem(t)
    assert any(p.row == 1 and p.column == column and expected in p.expected for p in problems), problems


@pytest.mark.parametrize("n_t,n_b,expected", [
    (-1, 0, "whole number >= 0"),
    (3, -2, "whole number >= 0"),
    (2, 5, "no more than n_transfers"),
    (2.5, 1, "whole number"),
    (3, None, "whole number"),
    ("many", 1, "whole number"),
])
def test_bad_counts(n_t, n_b, expected):
    t = [{"receiving_state": "CHN", "case_type": "ordinary", "n_transfers": 4, "n_breaches": 1},
         {"receiving_state": "CHN", "case_type": "ordinary", "n_transfers": n_t, "n_breaches": n_b}]
    problems = only_problem(t)
    assert any(p.row == 1 and expected in p.expected for p in problems), problems


def test_nan_in_required_cells_is_an_error_not_a_silent_nan():
    t = good_rows()
    t[0]["receiving_state"] = np.nan
    t[1]["case_type"] = None
    problems = only_problem(t)
    assert {(p.row, p.column) for p in problems} >= {(0, "receiving_state"), (1, "case_type")}


def test_missing_columns_are_listed():
    problems = only_problem([{"receiving_state": "CHN"}])
    assert any(p.column == "case_type" and "missing required column" in p.expected for p in problems)
    assert any("outcome" in p.column for p in problems)
    problems = only_problem([{"receiving_state": "CHN", "case_type": "ordinary"}], "fit", require_year=True)
    assert any(p.column == "year" for p in problems)


def test_outcome_and_counts_on_one_row_conflict():
    t = [{"receiving_state": "CHN", "case_type": "ordinary", "outcome": "honored", "n_transfers": 3, "n_breaches": 0}]
    assert any("aggregate row" in p.expected for p in only_problem(t))


def test_empty_table_and_bad_types():
    assert "no rows" in str(only_problem(pd.DataFrame({"receiving_state": [], "case_type": []}))[0])
    with pytest.raises(InputError, match="unsupported table type"):
        contract.to_frame(42)
    with pytest.raises(InputError, match="no such file"):
        contract.to_frame("/nonexistent/cases.csv")


def test_many_bad_rows_are_summarised_not_dropped():
    t = [{"receiving_state": "QQQ", "case_type": "ordinary", "outcome": "honored"}] * 50
    problems = only_problem(t)
    assert len(problems) == contract.MAX_LISTED + 1
    assert "30 more rows" in problems[-1].expected


def test_csv_input_and_row_numbers(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("receiving_state,case_type,outcome\nCHN,ordinary,honored\nCHN,ordinary,\nZZZ,ordinary,honored\n")
    problems = assurisk.validate_cases(p)
    assert [(q.row, q.column) for q in problems] == [(1, "outcome"), (2, "receiving_state")]


# --- property-based: the scoring input -------------------------------------------------------------
CODES = sorted(sovereign_codes())  # receiving states must be sovereign
valid_row = st.fixed_dictionaries(
    {"receiving_state": st.sampled_from(CODES), "case_type": st.sampled_from(["ordinary", "high_profile"])},
    optional={"year": st.integers(1976, 2030)},
)


@settings(max_examples=60, deadline=None)
@given(st.lists(valid_row, min_size=1, max_size=30))
def test_any_valid_scoring_table_scores_without_nan(bundled, rows):
    out = bundled.score(rows)
    assert len(out) == len(rows)
    p = out[["p_honored", "p_honored_lower", "p_honored_upper"]].to_numpy()
    assert np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()
    assert (out.p_honored_lower <= out.p_honored).all() and (out.p_honored <= out.p_honored_upper).all()
    assert out.receiving_state.tolist() == [r["receiving_state"] for r in rows]


@settings(max_examples=60, deadline=None)
@given(st.lists(valid_row, min_size=1, max_size=10), st.data())
def test_any_invalid_code_is_reported_at_its_row(bundled, rows, data):
    bad_code = data.draw(st.text(min_size=0, max_size=5).filter(lambda s: resolve(s) not in sovereign_codes()))
    at = data.draw(st.integers(0, len(rows) - 1))
    rows = [dict(r) for r in rows]
    rows[at]["receiving_state"] = bad_code
    with pytest.raises(InputError) as e:
        bundled.score(rows)
    assert e.value.problems[0].row == at and e.value.problems[0].column == "receiving_state"
