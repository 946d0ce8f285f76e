"""Receiving states: names and aliases map to ISO 3166-1 alpha-3 codes; only sovereign states are accepted."""

from __future__ import annotations

import subprocess
import sys

import pytest

import assurisk
from assurisk import states
from assurisk.errors import InputError


@pytest.mark.parametrize("value,code", [
    ("CHN", "CHN"), (" chn ", "CHN"), ("China", "CHN"), ("russia", "RUS"), ("Russian Federation", "RUS"),
    ("Iran", "IRN"), ("Iran, Islamic Republic of", "IRN"), ("Syria", "SYR"), ("North Korea", "PRK"),
    ("South Korea", "KOR"), ("UK", "GBR"), ("United Kingdom", "GBR"), ("United States", "USA"),
    ("Ivory Coast", "CIV"), ("Côte d'Ivoire", "CIV"), ("cote divoire", "CIV"), ("Türkiye", "TUR"), ("Turkey", "TUR"),
    ("Democratic Republic of the Congo", "COD"), ("DR Congo", "COD"), ("Congo", "COG"), ("Holy See", "VAT"),
    ("St Lucia", "LCA"), ("The Gambia", "GMB"), ("Viet Nam", "VNM"), ("Vietnam", "VNM"), ("Burma", "MMR"),
    ("Taiwan", "TWN"), ("Palestine", "PSE"), ("Kosovo", "XKX"), ("XKX", "XKX"),
])
def test_names_and_aliases_resolve_to_codes(value, code):
    assert states.resolve(value) == code


@pytest.mark.parametrize("value", ["Korea", "Virgin Islands", "Atlantis", "", None, "CN", "NA"])
def test_ambiguous_unknown_and_two_letter_values_do_not_resolve(value):
    assert states.resolve(value) is None


def test_sovereign_states_are_un_members_observers_taiwan_and_kosovo():
    codes = states.sovereign_codes()
    assert len(codes) == 193 + 2 + 2  # UN members, Holy See and Palestine, Taiwan and Kosovo
    assert {"TWN", "PSE", "XKX", "VAT", "CHN", "SSD"} <= codes
    assert not codes & {"ATA", "HKG", "MAC", "PRI", "GRL", "ESH", "GUM", "BVT"}


def test_scores_from_names_equal_scores_from_codes(bundled):
    by_name = bundled.score([{"receiving_state": "Egypt", "case_type": "High_Profile"},
                             {"receiving_state": "Norway", "case_type": "ORDINARY"}])
    by_code = bundled.score([{"receiving_state": "EGY", "case_type": "high_profile"},
                             {"receiving_state": "NOR", "case_type": "ordinary"}])
    assert by_name.p_honored.tolist() == by_code.p_honored.tolist()
    assert by_name.state_seen.tolist() == [True, False]
    assert by_name.receiving_state.tolist() == ["Egypt", "Norway"]  # the input column is kept as given
    assert by_name.receiving_state_code.tolist() == ["EGY", "NOR"]


@pytest.mark.parametrize("territory", ["ATA", "Antarctica", "HKG", "Hong Kong", "PRI", "Greenland"])
def test_territories_are_refused_as_receiving_states(bundled, territory):
    with pytest.raises(InputError, match="sovereign state") as e:
        bundled.score({"receiving_state": territory, "case_type": "ordinary"})
    assert e.value.problems[0].column == "receiving_state" and e.value.problems[0].row == 0


def test_bundled_cases_are_all_sovereign_receiving_states():
    assert assurisk.validate_cases(assurisk.load_cases()) == []


def test_codes_only_table_does_not_import_pycountry():
    code = ("import sys, assurisk; assurisk.score({'receiving_state': ['CHN', 'egy'], 'case_type': ['ordinary'] * 2});"
            "print('pycountry' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"
