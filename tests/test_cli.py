"""The command line: the main job, batch scoring, validation, and one clear line (exit 2) on bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import ROOT, run_cli


def assert_clean_error(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    line = [s for s in r.stderr.strip().splitlines() if s.startswith("assurisk")]
    assert len(line) == 1, r.stderr
    for n in needles:
        assert n in line[0], (n, line[0])


def test_main_job_prints_probability_interval_cases_and_caveat():
    r = run_cli("score", "--state", "CHN", "--case-type", "ordinary")
    assert r.returncode == 0, r.stderr
    assert "China (CHN), ordinary case" in r.stdout
    assert "P(assurance honoured)" in r.stdout and "90% interval" in r.stdout
    assert "transfer(s) to CHN" in r.stdout and "not a random sample" in r.stdout
    assert "detection:" in r.stdout and "promise: torture (default)" in r.stdout


def test_json_output_matches_library_score(bundled):
    r = run_cli("score", "--state", "chn", "--case-type", "high_profile", "--year", "2015", "--json", "--interval", "0.8")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert list(out)[:9] == ["receiving_state", "case_type", "p_honored", "p_honored_lower", "p_honored_upper",
                             "p_breach", "state_seen", "n_state_cases", "converged"]
    lib = bundled.score({"receiving_state": "CHN", "case_type": "high_profile", "year": 2015}, interval=0.8).iloc[0]
    assert out["receiving_state"] == "CHN"
    assert out["p_honored"] == pytest.approx(lib.p_honored, rel=1e-12)
    assert out["p_honored_lower"] == pytest.approx(lib.p_honored_lower, rel=1e-12)
    assert out["n_state_cases"] == lib.n_state_cases and out["state_seen"] is True
    assert out["p_breach_unreported"] == pytest.approx(lib.p_breach_unreported, rel=1e-12)


def test_batch_scoring(tmp_path, bundled):
    src = tmp_path / "in.csv"
    pd.DataFrame({"id": [1, 2, 3], "receiving_state": ["CHN", "EGY", "NOR"],
                  "case_type": ["ordinary", "high_profile", "ordinary"], "year": [2020, 2001, None]}).to_csv(src, index=False)
    dst = tmp_path / "out.csv"
    r = run_cli("score", "--input", src, "--output", dst)
    assert r.returncode == 0, r.stderr
    out = pd.read_csv(dst)
    assert out.id.tolist() == [1, 2, 3] and out.p_honored.notna().all()
    lib = bundled.score(src)
    assert out.p_honored.tolist() == pytest.approx(lib.p_honored.tolist(), rel=1e-12)


def test_batch_with_a_bad_row_writes_nothing(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("receiving_state,case_type\nCHN,ordinary\nCHNA,ordinary\n")  # "CHINA" is now read as China
    dst = tmp_path / "out.csv"
    r = run_cli("score", "--input", src, "--output", dst)
    assert_clean_error(r, "row 2", "receiving_state", "'CHNA'")
    assert not dst.exists()


@pytest.mark.parametrize("args,needles", [
    (["score", "--state", "XXX", "--case-type", "ordinary"], ["'XXX'", "ISO 3166-1"]),
    (["score", "--state", "CHN", "--case-type", "ordinary", "--year", "1700"], ["year", "1700"]),
    (["score", "--input", "/nonexistent.csv", "--output", "/tmp/x.csv"], ["no such file"]),
    (["score", "--state", "CHN", "--case-type", "ordinary", "--fit", "/nonexistent.nc"], ["does not exist"]),
    (["score", "--state", "CHN"], ["--case-type"]),
])
def test_bad_input_exit_2_one_line(args, needles):
    assert_clean_error(run_cli(*args), *needles)


def test_non_assurisk_fit_file(tmp_path):
    bad = tmp_path / "bad.nc"
    bad.write_bytes(b"\x89HDF\r\n garbage")
    assert_clean_error(run_cli("score", "--state", "CHN", "--case-type", "ordinary", "--fit", bad), "not an assurisk fit")


def test_argparse_errors_have_no_traceback():
    r = run_cli("score", "--state", "CHN", "--case-type", "criminal")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "invalid choice" in r.stderr
    r = run_cli("score", "--state", "CHN", "--case-type", "ordinary", "--interval", "2")
    assert r.returncode == 2 and "strictly between 0 and 1" in r.stderr


def test_validate_data_bundled_is_clean():
    r = run_cli("validate-data", ROOT / "data" / "cases.csv")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no problems" in r.stdout


def test_validate_data_lists_every_problem_by_row(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("receiving_state,case_type,outcome,n_transfers,n_breaches\n"
                 "CHN,ordinary,honored,,\nXXX,ordinary,honored,,\nCHN,secret,,3,4\nCHN,ordinary,,-1,0\n")
    r = run_cli("validate-data", p)
    assert r.returncode == 1
    lines = r.stdout.strip().splitlines()
    assert any("row 2" in s and "'XXX'" in s for s in lines)
    assert any("row 3" in s and "case_type" in s for s in lines)
    assert any("row 3" in s and "n_breaches" in s for s in lines)
    assert any("row 4" in s and "n_transfers" in s for s in lines)
    assert "4 problem(s)" in r.stderr


def test_fit_command_writes_a_loadable_fit(tmp_path, simulated):
    cases, _ = simulated
    src = tmp_path / "cases.csv"
    cases.head(120).to_csv(src, index=False)
    out = tmp_path / "fit.nc"
    r = run_cli("fit", "--cases", src, "--out", out, "--seed", "3", "--draws", "200", "--tune", "200",
                "--chains", "2", "--no-covariate", "--no-detection", "--quiet", "--accept-unconverged")
    assert r.returncode == 0, r.stderr
    assert out.exists() and "saved" in r.stdout
    r2 = run_cli("score", "--state", cases.receiving_state[0], "--case-type", "ordinary", "--fit", out, "--json")
    assert r2.returncode == 0 and json.loads(r2.stdout)["state_seen"] is True
    # The same keys for every model; face-value fits have no detection layer, so those values are null.
    assert json.loads(r2.stdout)["p_breach_unreported"] is None
    r3 = run_cli("score", "--state", cases.receiving_state[0], "--case-type", "ordinary", "--fit", out)
    assert "face-value model" in r3.stdout


def test_fit_command_bad_cases(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("receiving_state,case_type,outcome,year\nCHN,ordinary,honoured,2001\n")
    assert_clean_error(run_cli("fit", "--cases", p, "--out", tmp_path / "f.nc"), "row 1", "outcome", "'honoured'")
    assert not (tmp_path / "f.nc").exists()
