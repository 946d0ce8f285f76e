"""CLI conventions and bulk formats: --version, - for stdin/stdout, CSV/JSON Lines/Parquet, chunked
scoring with its cache, batch defaults, provenance (sidecar, Parquet metadata, JSON keys), the JSON
Schema, exit codes."""

from __future__ import annotations

import copy
import io
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import assurisk
from assurisk import cli, schema, tables_io
from conftest import ROOT, run_cli

SCHEMA = json.loads((ROOT / "docs" / "score-output.schema.json").read_text())
CASES = pd.DataFrame({"id": ["a", "b", "c", "d"], "receiving_state": ["CHN", "Egypt", "nor", "CHN"],
                      "case_type": ["ordinary", "High_Profile", "ordinary", "ordinary"],
                      "year": ["2020", "2001", "", "2020"], "note": ["x, y", "", "z", "quoted \"q\""]})


def cli_stdin(*args, data: bytes):
    return subprocess.run([sys.executable, "-m", "assurisk.cli", *map(str, args)], input=data,
                          capture_output=True, timeout=300)


def validator():
    jsonschema = pytest.importorskip("jsonschema")
    return jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())


def lib_scores(bundled, table=CASES):
    return bundled.score(table.replace("", None))


def test_version():
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"assurisk {assurisk.__version__}"


def test_csv_stdin_to_stdout_keeps_every_column_and_matches_the_library(bundled):
    r = cli_stdin("score", "--input", "-", "--output", "-", data=CASES.to_csv(index=False).encode())
    assert r.returncode == 0, r.stderr
    out = pd.read_csv(io.BytesIO(r.stdout), dtype={"id": str, "year": str}, keep_default_na=False)
    assert out.columns.tolist()[:5] == CASES.columns.tolist()
    pd.testing.assert_frame_equal(out[CASES.columns], CASES)  # input columns exactly as given
    lib = lib_scores(bundled)
    assert out.p_honored.tolist() == pytest.approx(lib.p_honored.tolist(), rel=1e-12)
    assert out.receiving_state_code.tolist() == ["CHN", "EGY", "NOR", "CHN"]
    assert b"4 rows" in r.stderr


def test_csv_file_gets_a_provenance_sidecar(tmp_path, bundled):
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    CASES.to_csv(src, index=False)
    r = run_cli("score", "--input", src, "--output", dst, "--interval", "0.8")
    assert r.returncode == 0, r.stderr
    meta = json.loads((tmp_path / "out.csv.meta.json").read_text())
    assert meta["fit_id"] == schema.fit_id(bundled) and meta["interval"] == 0.8
    assert meta["model"] == "monitoring_aware" and meta["schema_version"] == schema.SCHEMA_VERSION
    assert meta["assurisk_version"] == assurisk.__version__ and meta["rows"] == 4
    assert list(meta["score_columns"]) == list(schema.SCORE_COLUMNS)
    out = pd.read_csv(dst)
    assert out.p_honored_lower.tolist() == pytest.approx(bundled.score(src, interval=0.8).p_honored_lower.tolist(), rel=1e-12)


def test_jsonl_batch_rows_carry_provenance_and_meet_the_schema(tmp_path, bundled):
    src = tmp_path / "in.csv"
    CASES.to_csv(src, index=False)
    r = run_cli("score", "--input", src, "--output", "-", "--json")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == 4
    v = validator()
    for row in rows:
        v.validate(row)
        assert row["fit_id"] == schema.fit_id(bundled) and row["interval"] == 0.9
    assert [row["note"] for row in rows] == ["x, y", None, "z", 'quoted "q"']
    assert rows[1]["p_honored"] == pytest.approx(lib_scores(bundled).p_honored[1], rel=1e-12)


def test_single_case_json_meets_the_schema_for_both_models_and_without_prior(bundled):
    from assurisk.fit import Fit

    v = validator()
    r = run_cli("score", "--state", "China", "--case-type", "Ordinary", "--json", "--year", "2040")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    v.validate(out)
    assert out["receiving_state"] == "CHN" and out["covariate_year_outside"] is True
    assert set(schema.PROVENANCE_KEYS) <= set(out) and out["fit_id"] == schema.fit_id(bundled)
    # A face-value fit without prior draws: the same keys, absent values null, still valid.
    meta = copy.deepcopy(bundled.meta)
    meta["spec"]["detection"], meta["model"] = False, "face_value"
    from dataclasses import replace

    face = Fit(replace(bundled.draws, detection=None, verification=None), meta)
    r = face.score({"receiving_state": "CHN", "case_type": "ordinary"}).iloc[0]
    rec = cli.json_record(r, face, 0.9)
    v.validate(rec)
    assert rec["p_breach_unreported"] is None and rec["p_honored_prior"] is None and rec["prior_dominated"] is None
    assert set(rec) == set(out) - {"year"}


def test_schema_lists_every_score_column_and_provenance_key():
    required = set(SCHEMA["required"])
    assert set(schema.SCORE_COLUMNS) <= required and set(schema.PROVENANCE_KEYS) <= required
    assert set(schema.SCORE_COLUMNS) == set(assurisk.scoring.SCORE_COLUMNS)


def test_parquet_round_trip_with_metadata(tmp_path, bundled):
    pq = pytest.importorskip("pyarrow.parquet")
    src = tmp_path / "in.parquet"
    typed = pd.DataFrame({"id": [1, 2, 3], "receiving_state": ["CHN", "EGY", "RUS"],
                          "case_type": ["ordinary", "high_profile", "ordinary"], "year": [2020, 2001, 2015],
                          "weight": [0.5, 1.5, 2.5]})
    typed.to_parquet(src, index=False)
    dst = tmp_path / "out.parquet"
    r = run_cli("score", "--input", src, "--output", dst)
    assert r.returncode == 0, r.stderr
    table = pq.read_table(dst)
    prov = json.loads(table.schema.metadata[b"assurisk"])
    assert prov == schema.provenance(bundled, 0.9)
    out = table.to_pandas()
    pd.testing.assert_frame_equal(out[typed.columns], typed)  # types kept: ints stay ints
    lib = bundled.score(typed)
    for c in schema.SCORE_COLUMNS:
        assert out[c].tolist() == lib[c].tolist(), c
    # Parquet in, CSV out through stdout, chosen by --format; and back to Parquet from stdin.
    r2 = cli_stdin("score", "--input", "-", "--input-format", "parquet", "--output", "-", "--format", "csv",
                   data=src.read_bytes())
    assert r2.returncode == 0, r2.stderr
    assert pd.read_csv(io.BytesIO(r2.stdout)).p_honored.tolist() == lib.p_honored.tolist()


def test_chunks_and_cache_give_the_same_scores_as_one_pass(tmp_path, bundled):
    rng = np.random.default_rng(1)
    n = 3000
    df = pd.DataFrame({"receiving_state": rng.choice(["CHN", "EGY", "Norway", "JOR"], n),
                       "case_type": rng.choice(["ordinary", "high_profile"], n),
                       "year": rng.integers(1990, 2030, n).astype(str)})
    src = tmp_path / "in.csv"
    df.to_csv(src, index=False)
    sink = io.BytesIO()
    scorer = tables_io.score_stream(str(src), sink, bundled, in_fmt="csv", out_fmt="csv", chunk_rows=500)
    out = pd.read_csv(io.BytesIO(sink.getvalue()))
    lib = bundled.score(df)
    assert scorer.rows == n
    assert scorer.patterns_scored == len(df.drop_duplicates())  # each pattern scored once over all chunks
    assert scorer.pattern_cache.computed <= scorer.patterns_scored  # and each model pattern computed once
    for c in schema.SCORE_COLUMNS:
        got, want = out[c].tolist(), lib[c].tolist()
        if c.startswith("p_"):
            assert got == pytest.approx(want, rel=1e-12), c
        else:
            assert [str(x) for x in got] == [str(x) for x in want], c
    # Threads split new patterns: same numbers.
    tables_io.PARALLEL_MIN_PATTERNS, old = 10, tables_io.PARALLEL_MIN_PATTERNS
    try:
        sink2 = io.BytesIO()
        tables_io.score_stream(str(src), sink2, bundled, in_fmt="csv", out_fmt="csv", chunk_rows=500, threads=2)
    finally:
        tables_io.PARALLEL_MIN_PATTERNS = old
    assert sink2.getvalue() == sink.getvalue()


def test_the_fit_wide_pattern_cache_computes_each_model_pattern_once(bundled):
    from assurisk import scoring

    # Two years with the same PTS score for CHN are one model pattern; repeated over three chunks.
    from assurisk.covariates import bundled_pts

    pts = bundled_pts()
    years, values = pts.years["CHN"], pts.values["CHN"]
    y1, y2 = next((a, b) for a, b, v, w in zip(years, years[1:], values, values[1:]) if v == w)
    rows = [{"receiving_state": "CHN", "case_type": "ordinary", "year": str(int(y))} for y in (y1, y2)] * 3
    scorer = tables_io.ChunkScorer(bundled, 0.9)
    pa = pytest.importorskip("pyarrow")
    for i in range(3):
        scorer.score(pa.Table.from_pylist(rows[2 * i:2 * i + 2]), offset=2 * i)
    assert scorer.patterns_scored == 2 and scorer.pattern_cache.computed == 1
    assert not scoring._ACTIVE_CACHES  # only active while a chunk is scored


def test_a_bad_row_in_a_later_chunk_is_named_by_its_row_and_nothing_is_written(tmp_path):
    rows = ["receiving_state,case_type"] + ["CHN,ordinary"] * 1200 + ["ATA,ordinary"] + ["EGY,ordinary"] * 10
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("\n".join(rows) + "\n")
    dst.write_text("old content\n")
    r = run_cli("score", "--input", src, "--output", dst, "--chunk-rows", "500")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "row 1201" in r.stderr and "'ATA'" in r.stderr and "sovereign state" in r.stderr
    assert dst.read_text() == "old content\n" and not (tmp_path / "out.csv.meta.json").exists()
    assert [p.name for p in tmp_path.iterdir()] != [] and not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_batch_defaults_apply_to_rows_without_the_column_and_are_refused_with_it(tmp_path, bundled):
    src = tmp_path / "in.csv"
    src.write_text("receiving_state,case_type\nCHN,ordinary\nEGY,high_profile\n")
    r = run_cli("score", "--input", src, "--output", "-", "--year", "2015", "--monitoring", "Consular",
                "--assurance", "torture;fair_trial")
    assert r.returncode == 0, r.stderr
    out = pd.read_csv(io.StringIO(r.stdout))
    assert out.year.tolist() == [2015, 2015] and out.monitoring.tolist() == ["consular"] * 2
    lib = bundled.score([{"receiving_state": s, "case_type": t, "year": 2015, "monitoring": "consular",
                          "assurance_types": "torture;fair_trial"} for s, t in (("CHN", "ordinary"), ("EGY", "high_profile"))])
    assert out.p_honored.tolist() == pytest.approx(lib.p_honored.tolist(), rel=1e-12)
    src.write_text("receiving_state,case_type,year\nCHN,ordinary,2001\n")
    r = run_cli("score", "--input", src, "--output", "-", "--year", "2015")
    assert r.returncode == 2 and "--year was given but the input has a 'year' column" in r.stderr


def test_single_case_output_is_written_not_ignored(tmp_path):
    dst = tmp_path / "one.json"
    r = run_cli("score", "--state", "EGY", "--case-type", "high-profile", "--json", "--output", dst)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and json.loads(dst.read_text())["receiving_state"] == "EGY"
    txt = tmp_path / "one.txt"
    assert run_cli("score", "--state", "EGY", "--case-type", "ordinary", "--output", txt).returncode == 0
    assert "Egypt (EGY), ordinary case" in txt.read_text()


@pytest.mark.parametrize("given", ["Ordinary", "ORDINARY", "high-profile", "High_Profile"])
def test_case_type_is_case_insensitive_on_the_command_line(given):
    r = run_cli("score", "--state", "CHN", "--case-type", given, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["case_type"] in ("ordinary", "high_profile")


def test_state_names_on_the_command_line_and_territories_refused():
    r = run_cli("score", "--state", "Russia", "--case-type", "ordinary")
    assert r.returncode == 0 and "Russian Federation (RUS)" in r.stdout and "read as RUS" in r.stdout
    r = run_cli("score", "--state", "Antarctica", "--case-type", "ordinary")
    assert r.returncode == 2 and "sovereign state" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("args,needle", [
    (["--input", "x.csv"], "--input needs --output"),
    (["--input", "x.csv", "--output", "-", "--json", "--format", "csv"], "contradicts"),
    (["--input", "x.csv", "--output", "y.xlsx"], "cannot tell the format"),
    (["--state", "CHN", "--case-type", "ordinary", "--format", "csv"], "batch scoring"),
])
def test_batch_usage_errors_exit_2(tmp_path, args, needle):
    (tmp_path / "x.csv").write_text("receiving_state,case_type\nCHN,ordinary\n")
    r = run_cli("score", *args, cwd=tmp_path)
    assert r.returncode == 2 and needle in r.stderr, r.stderr


def _fake_fit(bundled, converged: bool):
    meta = copy.deepcopy(bundled.meta)
    meta["converged"] = converged

    def fake(cases, **kwargs):
        if not converged:
            warnings.warn("R-hat 1.2 > 1.01", assurisk.ConvergenceWarning)
        return assurisk.Fit(bundled.draws, meta, path=bundled.path, prior=bundled.prior)
    return fake


def test_fit_exits_4_when_diagnostics_fail_unless_accepted(tmp_path, monkeypatch, bundled, capsys):
    out = tmp_path / "f.nc"
    monkeypatch.setattr(assurisk, "fit", _fake_fit(bundled, converged=False))
    args = ["fit", "--cases", str(ROOT / "data" / "cases.csv"), "--out", str(out), "--quiet"]
    assert cli.main(args) == cli.EXIT_UNCONVERGED == 4
    err = capsys.readouterr().err
    assert "was not written" in err and "--accept-unconverged" in err and "R-hat" in err
    assert not out.exists()
    assert cli.main(args + ["--accept-unconverged"]) == 0
    assert out.exists() and assurisk.load_fit(out).converged is False


def test_fit_id_is_stable_across_loads(bundled):
    from assurisk.resources import data_path

    again = assurisk.load_fit(data_path("default_fit.nc"))
    assert again is not bundled
    assert schema.fit_id(again) == schema.fit_id(bundled)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", schema.fit_id(bundled))
    meta = copy.deepcopy(bundled.meta)
    meta["sampler"]["seed"] += 1
    assert schema.fit_id(assurisk.Fit(bundled.draws, meta, prior=bundled.prior)) != schema.fit_id(bundled)


def test_every_exit_code_is_documented():
    codes = {"0", "1", "2", "3", "4", "130"}
    for doc in (ROOT / "README.md", ROOT / "docs" / "cli.md"):
        text = doc.read_text()
        found = set(re.findall(r"^\| `(\d+)` \|", text, flags=re.M))
        assert found == codes, (doc, found)
    assert cli.EXIT_UNCONVERGED == 4 and cli.EXIT_BAD_INPUT == 2


def test_rescoring_json_lines_output_replaces_scores_and_provenance(tmp_path, bundled):
    src = tmp_path / "in.csv"
    CASES.to_csv(src, index=False)
    first = tmp_path / "first.jsonl"
    assert run_cli("score", "--input", src, "--output", first).returncode == 0
    refused = run_cli("score", "--input", first, "--output", "-", "--interval", "0.5")
    assert refused.returncode == 2 and "--replace-scores" in refused.stderr and refused.stdout == ""
    r = run_cli("score", "--input", first, "--output", "-", "--interval", "0.5", "--replace-scores")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["interval"] for row in rows] == [0.5] * 4
    assert len(rows[0]) == len(set(rows[0]))
    lib = lib_scores(bundled).p_honored
    assert [row["p_honored"] for row in rows] == pytest.approx(lib.tolist(), rel=1e-12)


def test_fit_id_is_the_same_in_memory_and_after_save_and_load(sim_fit, tmp_path):
    path = sim_fit.save(tmp_path / "sim.nc")
    assert schema.fit_id(assurisk.load_fit(path)) == schema.fit_id(sim_fit)
