"""Hostile input (issue 11): every class of bad file, value or destination ends cleanly.

The contract (README): bad input of any kind ends with exit status 2 and one readable line on stderr
saying what and where; nothing is written or half-written. The fixture set lives in tests/hostile/
(``make_fixtures.py`` writes it; ``manifest.json`` says what each file must give). CLI runs that
could allocate much memory on a regression run in a subprocess with a 2 GiB address-space limit.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import assurisk
from assurisk import cli, contract, storage
from assurisk.errors import AssuriskError, FitFileError, InputError, Problem, safe_text
from assurisk.safe_write import escape_formulas, write_csv
from assurisk.scoring import SCORE_COLUMNS

HOSTILE = Path(__file__).resolve().parent / "hostile"
MANIFEST = json.loads((HOSTILE / "manifest.json").read_text())
MEMORY_LIMIT = 2 << 30
PICKLE_MARKER = Path("/tmp/assurisk-hostile-pickle-was-loaded")


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run(*args, cwd=None, timeout=300):
    """The CLI in a fresh interpreter, with a 2 GiB address-space limit (a regression must not eat the machine)."""
    return subprocess.run([sys.executable, "-m", "assurisk.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, preexec_fn=_limit_memory)


def printable(text: str) -> bool:
    return all(ch == "\n" or ch.isprintable() for ch in text)


def clean_error(code, err: str, *needles, exit: int = 2) -> str:
    """Exit ``exit``, no traceback, exactly one 'assurisk' line on stderr, printable, holding every needle."""
    assert code == exit, (code, err)
    assert "Traceback" not in err and printable(err), err
    lines = [s for s in err.strip().splitlines() if s.startswith("assurisk")]
    assert len(lines) == 1, err
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def main(capsys, *args) -> tuple[int, str, str]:
    """The CLI in this process (fast; for inputs that cannot allocate much)."""
    try:
        code = cli.main([str(a) for a in args])
    except SystemExit as exc:  # argparse
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def nothing_written(folder: Path, *allowed: str) -> None:
    left = sorted(p.name for p in folder.iterdir() if p.name not in allowed)
    assert left == [], left


def items(*classes, exclude=()):
    return [pytest.param(m, id=m["file"]) for m in MANIFEST
            if (not classes or m["class"] in classes) and m["class"] not in exclude]


def command_for(item: dict, tmp_path: Path) -> list:
    path = HOSTILE / item["file"]
    cmd = list(item["command"])
    if cmd[0] == "score" and cmd[-1] == "--input":
        return cmd + [path, "--output", tmp_path / "out.csv"]
    if cmd[0] == "build-covariates":
        return cmd + [path, "--out", tmp_path / "cov.csv"]
    if cmd[0] == "report":
        return cmd + [path, "--out", tmp_path / "report.html"]
    if cmd[0] == "validate-data":
        return cmd + [path]
    return cmd + [path]


@pytest.fixture(autouse=True)
def _no_pickle_marker():
    if PICKLE_MARKER.exists():
        PICKLE_MARKER.rmdir()
    yield
    assert not PICKLE_MARKER.exists(), "a pickle was unpickled"


# --- the fixture set, each file through the command that reads it ----------------------------------
@pytest.mark.parametrize("item", items(exclude=("memory", "valid", "formulas")))
def test_every_hostile_file_gives_one_clean_line_and_writes_nothing(capsys, tmp_path, item):
    code, out, err = main(capsys, *command_for(item, tmp_path))
    if item["exit"] == 1:  # validate-data lists problems on stdout
        assert code == 1 and item["expect"] in out and printable(out), (code, out, err)
    else:
        clean_error(code, err, item["expect"], exit=item["exit"])
    nothing_written(tmp_path)


@pytest.mark.parametrize("item", items("memory"))
def test_huge_declared_arrays_are_refused_before_any_allocation(tmp_path, item):
    """A file of a few KB declaring arrays of gigabytes (compressed or never written) is refused from
    its shapes and metadata, in a process that could not allocate them anyway."""
    assert (HOSTILE / item["file"]).stat().st_size < 100_000
    r = run(*command_for(item, tmp_path))
    clean_error(r.returncode, r.stderr, item["expect"])


def test_huge_arrays_in_the_full_tree_are_refused_before_xarray_reads_them(tmp_path):
    """The DataTree path (summaries, reports, refits) reads every array: shapes and total size are checked first."""
    path = tmp_path / "fit.nc"
    shutil.copy(HOSTILE / "tiny_fit.nc", path)
    with h5py.File(path, "r+") as f:
        f.create_group("posterior_predictive").create_dataset(
            "outcomes", shape=(2, 5, 100_000, 1000), dtype="i4", chunks=(1, 5, 1000, 100), compression="gzip")
    assert path.stat().st_size < 100_000
    code = f"from assurisk import storage; storage.read_datatree({str(path)!r})"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, preexec_fn=_limit_memory,
                       timeout=120)
    assert r.returncode != 0 and "FitFileError" in r.stderr and "more than 1024 MiB" in r.stderr, r.stderr
    assert "MemoryError" not in r.stderr


def test_tiny_fit_fixture_is_valid(capsys):
    code, out, err = main(capsys, "score", "--state", "CHN", "--case-type", "ordinary", "--fit", HOSTILE / "tiny_fit.nc")
    assert code == 0, err
    assert "P(assurance honoured)" in out


def test_fit_files_fail_only_with_fit_file_errors():
    for m in MANIFEST:
        if m["file"].endswith(".nc") and m["class"] not in ("valid", "memory"):
            with pytest.raises(FitFileError):
                assurisk.load_fit(HOSTILE / m["file"]).score({"receiving_state": "CHN", "case_type": "ordinary"})


# --- CSV shape: shifted rows, duplicates, blanks ---------------------------------------------------
def test_a_shifted_row_is_refused_not_scored():
    with pytest.raises(InputError) as e:
        assurisk.score(HOSTILE / "extra_leading_field.csv")
    p = e.value.problems[0]
    assert p.row == 1 and "3 fields" in p.expected and "has 4" in p.expected


def test_header_checks_happen_before_pandas_renames():
    for name, needle in (("duplicate_header.csv", "repeats"), ("blank_header.csv", "no name")):
        with pytest.raises(InputError, match=needle):
            contract.to_frame(HOSTILE / name)


def test_quoted_newlines_and_odd_extra_columns_come_back_identical(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes(b'case_id,receiving_state,case_type,notes,code,amount\n'
                    b'a1,CHN,ordinary,"line one\nline two, with comma",007,1.50\n'
                    b'a2, EGY ,high_profile,"he said ""no""",0x1F,\n'
                    b'a3,USA,ordinary,\xc3\xa9t\xc3\xa9 \xe2\x80\x94 ok,-0,1e3\n')
    dst = tmp_path / "out.csv"
    r = run("score", "--input", src, "--output", dst)
    assert r.returncode == 0, r.stderr
    back = contract.to_frame(dst)
    inp = contract.to_frame(src)
    for c in inp.columns:
        assert back[c].tolist() == inp[c].tolist(), c
    # Values come back identical; the writer may quote text fields that the input left bare (the same CSV values).
    import csv as _csv

    head = next(_csv.reader(dst.read_text(encoding="utf-8").splitlines()[:1]))
    assert head[:7] == ["case_id", "receiving_state", "case_type", "notes", "code", "amount", "p_honored"]


# --- control characters -----------------------------------------------------------------------------
@pytest.mark.parametrize("text,shown", [("a\x1b[2Jb", "a\\x1b[2Jb"), ("x\ny", "x\\ny"), ("r\rs", "r\\rs"),
                                        ("bidi\u202eevil", "bidi\\u202eevil"), ("z\u200bw", "z\\u200bw"),
                                        ("sep\u2028x", "sep\\u2028x"), ("del\x7f", "del\\x7f"), ("é ok", "é ok")])
def test_safe_text_escapes_what_a_terminal_would_obey(text, shown):
    assert safe_text(text) == shown


def test_problem_messages_are_one_printable_line():
    p = Problem(3, "col\x1b[31m", "v\nnext\x07" + "x" * 500, "something")
    s = str(p)
    assert "\n" not in s and printable(s) and "\\x1b" in s and "\\n" in s and "characters)" in s
    e = InputError(f"bad file {'a' + chr(10) + 'b'}")
    assert str(e) == "bad file a\\nb"


def test_column_names_with_control_characters_are_escaped_in_messages():
    df = pd.DataFrame({"\x1b[2Jreceiving_state": ["CHN"], "case_type": ["ordinary"]})
    with pytest.raises(InputError) as e:
        assurisk.score(df)
    assert "\\x1b[2Jreceiving_state" in str(e.value) and printable(str(e.value))


def test_validate_data_prints_escaped_lines(capsys):
    code, out, err = main(capsys, "validate-data", "--purpose", "score", HOSTILE / "control_chars_header.csv")
    assert code == 1 and "\\x1b]0;owned\\x07" in out and printable(out + err)


def test_argparse_echoes_arguments_escaped(capsys):
    code, out, err = main(capsys, "score", "--state", "CHN", "\x1b[2J\x1b]0;x\x07")
    assert code == 2 and printable(err) and "\\x1b[2J" in err


# --- formulas -----------------------------------------------------------------------------------------
def test_formulas_are_carried_verbatim_by_default_and_escaped_on_request(tmp_path):
    src = HOSTILE / "formulas.csv"
    plain, escaped = tmp_path / "plain.csv", tmp_path / "escaped.csv"
    assert run("score", "--input", src, "--output", plain).returncode == 0
    r = run("score", "--input", src, "--output", escaped, "--escape-formulas")
    assert r.returncode == 0, r.stderr
    a, b = contract.to_frame(plain), contract.to_frame(escaped)
    assert a["note"].tolist() == ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3"]
    assert b["note"].tolist() == ["'=HYPERLINK(\"http://evil.example\",\"click\")", "'+1+1", "'-2+3"]
    assert "'=HYPERLINK(\"http://x\")" in b.columns and '=HYPERLINK("http://x")' in a.columns
    assert b.iloc[:, 3].tolist() == ["-3", "'@SUM(A1:A9)", "'\t=1"]  # a plain number stays a number
    assert a.p_honored.tolist() == b.p_honored.tolist()


def test_escape_formulas_helper():
    df = pd.DataFrame({"t": ["=1+1", " =x", "＝1", "-", "-1.5e3", "ok", None], "n": [-1, 2, 3, 4, 5, 6, 7]})
    out = escape_formulas(df)
    assert out["t"].tolist()[:6] == ["'=1+1", "' =x", "'＝1", "'-", "-1.5e3", "ok"] and pd.isna(out["t"].iloc[6])
    assert out["n"].tolist() == df["n"].tolist()  # numbers are never changed
    assert df["t"].iloc[0] == "=1+1"  # the input is not modified


def test_write_csv_through_safe_write(tmp_path):
    target = tmp_path / "t.csv"
    write_csv(pd.DataFrame({"a": ["=1"]}), target, escape_formulas=True)
    assert target.read_text() == "a\n'=1\n"


# --- counts -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["1e30", str(2**63), str(2**64 + 1), "1000001", "inf", "-1", "1.5"])
def test_counts_beyond_the_cap_are_refused_for_fitting(value):
    t = [{"receiving_state": "CHN", "case_type": "ordinary", "n_transfers": value, "n_breaches": "0"}]
    problems, rows = contract.find_problems(t, "fit")
    assert rows is None and problems[0].column == "n_transfers", problems


def test_huge_count_no_longer_overflows_into_a_dropped_row():
    t = pd.DataFrame({"receiving_state": ["CHN"], "case_type": ["ordinary"], "n_transfers": [1e30], "n_breaches": [0]})
    with pytest.raises(InputError, match="<= 1000000"):
        contract.parse(t, "fit")


def test_fit_command_refuses_huge_counts_before_sampling(capsys, tmp_path, monkeypatch):
    src = tmp_path / "c.csv"
    src.write_text("receiving_state,case_type,year,n_transfers,n_breaches\nCHN,ordinary,2011,1e30,0\n")
    monkeypatch.setattr("assurisk.fitting._import_pymc", lambda: pytest.fail("sampling started"))
    code, out, err = main(capsys, "fit", "--cases", src, "--out", tmp_path / "f.nc")
    clean_error(code, err, "row 1", "n_transfers", "'1e30'")
    nothing_written(tmp_path, "c.csv")


@pytest.mark.parametrize("counts,needle", [((-1, 0), "whole number >= 0"), ((2, 5), "no more than n_transfers"),
                                           ((3, None), "n_breaches")])
def test_impossible_counts_are_refused_when_scoring(bundled, counts, needle):
    t = {"receiving_state": "CHN", "case_type": "ordinary", "n_transfers": counts[0], "n_breaches": counts[1]}
    with pytest.raises(InputError, match=needle):
        bundled.score(t)


def test_good_counts_are_fine_when_scoring(bundled):
    out = bundled.score({"receiving_state": "CHN", "case_type": "ordinary", "n_transfers": 3, "n_breaches": 1})
    assert out.n_transfers.iloc[0] == 3


# --- score columns ------------------------------------------------------------------------------------
@pytest.mark.parametrize("column", SCORE_COLUMNS)
def test_a_users_score_column_is_refused_not_overwritten(bundled, column):
    df = pd.DataFrame({"receiving_state": ["CHN"], "case_type": ["ordinary"], column: ["mine"]})
    with pytest.raises(InputError) as e:
        bundled.score(df)
    assert e.value.problems[0].column == column and "overwrite" in str(e.value)


# --- fit metadata and posterior -------------------------------------------------------------------------
def test_bundled_and_simulated_metadata_meet_the_schema(bundled, sim_fit):
    storage.validate(bundled.meta)
    storage.validate(json.loads(json.dumps(sim_fit.meta)))


def test_the_schema_is_one_json_schema_file():
    schema = storage.meta_schema()
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert set(schema["required"]) == set(storage.REQUIRED_META)


@pytest.mark.parametrize("kw,needle", [
    (dict(target_accept=1.5), "target_accept"), (dict(target_accept=float("nan")), "target_accept"),
    (dict(draws=10**6), "draws"), (dict(chains=0), "chains"), (dict(chains=100), "chains"), (dict(tune=-1), "tune"),
    (dict(seed=2**40), "seed"), (dict(sampler="stan"), "sampler"), (dict(sampler=1), "sampler"),
    (dict(draws=20_000, chains=4), "chains x draws"), (dict(draws=True), "draws"),
    (dict(priors=assurisk.Priors(intercept_mu=5000.0)), "priors.intercept_mu"),
])
def test_fit_options_are_validated_before_sampling(monkeypatch, kw, needle):
    monkeypatch.setattr("assurisk.fitting._import_pymc", lambda: pytest.fail("sampling started"))
    with pytest.raises(InputError, match=needle):
        assurisk.fit(assurisk.load_cases(), **kw)


def test_scores_must_be_finite_probabilities(bundled):
    d = bundled.draws
    for bad in (replace(d, intercept=np.full(d.n_draws, np.nan)),
                replace(d, detection=np.full_like(d.detection, 7.0))):
        with pytest.raises(FitFileError, match="not a probability"):
            assurisk.Fit(bad, bundled.meta).score({"receiving_state": "CHN", "case_type": "ordinary"})


def test_a_fit_that_could_not_be_read_back_is_not_written(bundled, tmp_path):
    meta = dict(bundled.meta, converged="no")
    with pytest.raises(FitFileError, match="could not read back"):
        storage.write_fit(None, meta, tmp_path / "f.nc")
    nothing_written(tmp_path)


# --- destinations: checked before work; pipes and devices written through ----------------------------------
@pytest.fixture
def read_only_dir(tmp_path):
    d = tmp_path / "ro"
    d.mkdir()
    if os.geteuid() != 0:
        d.chmod(0o500)
        yield d
        d.chmod(0o700)
        return
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(d)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("as root, a read-only folder needs a read-only mount, which is not allowed here")
    try:
        yield d
    finally:
        subprocess.run(["umount", str(d)], check=False)


@pytest.fixture
def no_long_work(monkeypatch):
    """Fail the test if any command starts its long work (sampling, checks, the report)."""
    from assurisk import Fit

    monkeypatch.setattr(assurisk, "fit", lambda *a, **k: pytest.fail("sampling started"))
    monkeypatch.setattr("assurisk.check.run_check", lambda *a, **k: pytest.fail("check started"))
    monkeypatch.setattr(Fit, "report", lambda *a, **k: pytest.fail("report started"))


def _cases(tmp_path) -> Path:
    src = tmp_path / "cases.csv"
    shutil.copy(Path(contract.__file__).parents[2] / "data" / "cases.csv", src)
    return src


@pytest.mark.parametrize("command", ["score", "fit", "check", "report", "build-covariates"])
def test_read_only_output_folder_is_exit_2_before_work(capsys, tmp_path, read_only_dir, no_long_work, command):
    cases = _cases(tmp_path)
    args = {"score": ["score", "--input", HOSTILE / "formulas.csv", "--output", read_only_dir / "o.csv"],
            "fit": ["fit", "--cases", cases, "--out", read_only_dir / "f.nc"],
            "check": ["check", "--out", read_only_dir / "chk"],
            "report": ["report", "--state", "CHN", "--case-type", "ordinary", "--out", read_only_dir / "r.html"],
            "build-covariates": ["build-covariates", "--pts", HOSTILE / "pts_bad_score.csv",
                                 "--out", read_only_dir / "c.csv"]}[command]
    code, out, err = main(capsys, *args)
    clean_error(code, err, "not writable")
    assert list(read_only_dir.iterdir()) == []


def test_read_only_output_folder_end_to_end(tmp_path, read_only_dir):
    r = run("score", "--input", HOSTILE / "formulas.csv", "--output", read_only_dir / "o.csv")
    clean_error(r.returncode, r.stderr, "not writable")


@pytest.mark.parametrize("target,needle", [("dir.nc", "is a directory"), ("f.pkl", "ending in .nc"),
                                           ("missing/f.nc", "does not exist"), ("fifo.nc", "pipe or device")])
def test_fit_out_is_checked_before_sampling(capsys, tmp_path, no_long_work, target, needle):
    (tmp_path / "dir.nc").mkdir()
    os.mkfifo(tmp_path / "fifo.nc")
    code, out, err = main(capsys, "fit", "--cases", _cases(tmp_path), "--out", tmp_path / target)
    clean_error(code, err, needle)
    nothing_written(tmp_path, "dir.nc", "fifo.nc", "cases.csv")
    assert stat.S_ISFIFO(os.stat(tmp_path / "fifo.nc").st_mode)


def test_check_out_onto_an_existing_file_is_refused_before_work(capsys, tmp_path, no_long_work):
    f = tmp_path / "taken"
    f.write_text("mine")
    code, out, err = main(capsys, "check", "--out", f)
    clean_error(code, err, "is not a folder")
    code, out, err = main(capsys, "check", "--out", tmp_path / "no" / "deeper")
    clean_error(code, err, "does not exist")
    assert f.read_text() == "mine"


@pytest.mark.parametrize("check,needle", [("missing", "no such folder"), ("empty_dir", "no summary.json"),
                                          ("summary_malformed.json", "not readable JSON"),
                                          ("summary_list.json", "not a JSON object")])
def test_report_check_is_read_before_work(capsys, tmp_path, no_long_work, check, needle):
    (tmp_path / "empty_dir").mkdir()
    path = HOSTILE / check if check.endswith(".json") else tmp_path / check
    code, out, err = main(capsys, "report", "--state", "CHN", "--case-type", "ordinary", "--check", path,
                          "--out", tmp_path / "r.html")
    clean_error(code, err, needle)
    assert not (tmp_path / "r.html").exists()


def test_report_out_is_checked_before_work(capsys, tmp_path, no_long_work):
    code, out, err = main(capsys, "report", "--state", "CHN", "--case-type", "ordinary",
                          "--out", tmp_path / "nope" / "r.html")
    clean_error(code, err, "does not exist")


def test_build_covariates_output_is_atomic_and_not_written_on_bad_input(tmp_path, capsys):
    out = tmp_path / "cov.csv"
    out.write_text("old")
    code, _, err = main(capsys, "build-covariates", "--pts", HOSTILE / "pts_undecodable.csv", "--out", out)
    clean_error(code, err, "Windows-1252")
    assert out.read_text() == "old"
    nothing_written(tmp_path, "cov.csv")


def header_of(text: str) -> list[str]:
    import csv as _csv

    return next(_csv.reader(text.splitlines()[:1]))


def test_scored_csv_into_a_fifo_is_written_through(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()), daemon=True)
    reader.start()
    r = run("score", "--input", HOSTILE / "formulas.csv", "--output", fifo)
    reader.join(30)
    assert r.returncode == 0, r.stderr
    assert got and header_of(got[0])[:3] == ["receiving_state", "case_type", "note"] and len(got[0].splitlines()) == 4
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    nothing_written(tmp_path, "pipe")


def test_scored_csv_to_dev_stdout_is_written_through(tmp_path):
    link = tmp_path / "stdout"  # a link to /dev/stdout: a regression replaces the link, never /dev/stdout itself
    link.symlink_to("/dev/stdout")
    r = run("score", "--input", HOSTILE / "formulas.csv", "--output", link)
    assert r.returncode == 0, r.stderr
    assert header_of(r.stdout)[:3] == ["receiving_state", "case_type", "note"] and len(r.stdout.splitlines()) == 4
    assert link.is_symlink()
    nothing_written(tmp_path, "stdout")


def test_sigkill_during_a_fit_save_leaves_the_old_file(tmp_path):
    target = tmp_path / "fit.nc"
    shutil.copy(HOSTILE / "tiny_fit.nc", target)
    before = target.read_bytes()
    code = f"""
import time, pathlib
from assurisk.safe_write import atomic_write
def slow(p):
    pathlib.Path(p).write_bytes(b"partial")
    print("writing", flush=True)
    time.sleep(60)
atomic_write({str(target)!r}, slow, streamable=False)
"""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait(20)
    assert target.read_bytes() == before
    assert assurisk.load_fit(target).converged in (True, False)
    # SIGKILL allows no clean-up: the temporary file may stay, under a name no reader looks for.
    assert all(p.name.startswith(".fit.nc.") and p.name.endswith(".tmp") for p in tmp_path.iterdir() if p != target)


# --- the Python API: InputError, never a raw TypeError -----------------------------------------------------
@pytest.mark.parametrize("table,column", [
    (pd.DataFrame([["CHN", "ordinary", "EGY"]], columns=["receiving_state", "case_type", "receiving_state"]),
     "receiving_state"),
    ({"receiving_state": [["CHN"]], "case_type": ["ordinary"]}, "receiving_state"),
    ([{"receiving_state": "CHN", "case_type": {"a": 1}}], "case_type"),
    ([{"receiving_state": "CHN", "case_type": "ordinary", "year": [2011]}], "year"),
    ([{"receiving_state": "CHN", "case_type": "ordinary", "monitoring": {"none"}}], "monitoring"),
    ([{"receiving_state": np.array(["CHN"]), "case_type": "ordinary"}], "receiving_state"),
    (pd.DataFrame({"receiving_state": ["CHN"], "case_type": ["ordinary"], "year": pd.to_datetime(["2011-01-01"])}),
     "year"),
    (pd.DataFrame({"receiving_state": [1 + 2j], "case_type": ["ordinary"]}), "receiving_state"),
])
def test_api_gives_input_error_naming_the_column(bundled, table, column):
    with pytest.raises(InputError) as e:
        bundled.score(table)
    assert e.value.problems[0].column == column


def test_lists_in_carried_columns_are_carried(bundled):
    out = bundled.score([{"receiving_state": "CHN", "case_type": "ordinary", "tags": ["a", "b"]}])
    assert out.tags.iloc[0] == ["a", "b"]


# --- property-based: hostile tables ---------------------------------------------------------------------
hostile_text = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["CHN", " chn ", "ordinary", "high_profile", "honored", "=1+1", "\x1b[2J", "2011", "1e30", "-1", "", "NaN"])
hostile_cell = (hostile_text | st.none() | st.booleans() | st.integers(-2**70, 2**70)
                | st.floats(allow_nan=True, allow_infinity=True) | st.lists(st.integers(), max_size=2)
                | st.dictionaries(st.text(max_size=2), st.integers(), max_size=1) | st.binary(max_size=4))
column_name = st.sampled_from(list(contract.READ_COLUMNS) + list(SCORE_COLUMNS[:3]) + ["notes", "\x1b[31m", ""]) | hostile_text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(column_name, min_size=1, max_size=6), st.data())
def test_hostile_tables_end_in_scores_or_input_error(bundled, columns, data):
    n = data.draw(st.integers(1, 5))
    cells = data.draw(st.lists(st.lists(hostile_cell, min_size=len(columns), max_size=len(columns)), min_size=n,
                               max_size=n))
    base = data.draw(st.booleans())
    if base:  # mostly valid rows with hostile extras, so scoring paths are reached too
        columns = ["receiving_state", "case_type"] + columns
        cells = [["CHN", "ordinary"] + r for r in cells]
    df = pd.DataFrame(cells, columns=columns)
    try:
        out = bundled.score(df)
    except AssuriskError as exc:
        msg = str(exc)
        assert "\n" not in msg and printable(msg)
        return
    p = out[["p_honored", "p_honored_lower", "p_honored_upper"]].to_numpy(dtype=float)
    assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()
    assert len(out) == n


csv_piece = st.sampled_from(["CHN", "EGY", "ordinary", "high_profile", "2011", ",", ",", '"', '""', "\n", "\r\n",
                             "\n\n", " ", "x", "\x00", "é", "\u202e", "=1", "1e30", ";"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["receiving_state,case_type\n", "receiving_state,case_type,year\n", "a,a\n", ",x\n", ""]),
       st.lists(csv_piece, max_size=40))
def test_hostile_csv_text_is_read_exactly_or_refused(tmp_path, header, pieces):
    path = tmp_path / "t.csv"
    path.write_text(header + "".join(pieces), encoding="utf-8")
    try:
        df = contract.to_frame(path)
    except InputError as exc:
        assert "\n" not in str(exc) and printable(str(exc))
        return
    names = list(df.columns)
    assert len(set(names)) == len(names) and all(isinstance(c, str) and c.strip() for c in names)
    with open(path, newline="", encoding="utf-8") as f:  # Python's csv module agrees on every record
        import csv

        records = [r for r in csv.reader(f) if r]
    assert [len(r) for r in records[1:]] == [len(names)] * (len(records) - 1) or '"' in "".join(pieces)
    try:
        assurisk.score(df)
    except AssuriskError as exc:
        assert printable(str(exc))


# --- property-based: hostile fit metadata and draws ------------------------------------------------------
json_value = st.recursive(st.none() | st.booleans() | st.integers(-2**64, 2**64) | st.floats(allow_nan=False)
                          | st.text(max_size=8),
                          lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3),
                          max_leaves=8)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


@pytest.fixture(scope="module")
def tiny_meta():
    return storage.read_meta(HOSTILE / "tiny_fit.nc")


def _try_load(path: Path):
    try:
        fit = assurisk.load_fit(path)
        out = fit.score([{"receiving_state": s, "case_type": t} for s in ("CHN", "NOR") for t in contract.CASE_TYPES])
    except FitFileError as exc:
        assert "\n" not in str(exc) and printable(str(exc))
        return None
    p = out[["p_honored", "p_honored_lower", "p_honored_upper"]].to_numpy(dtype=float)
    assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()
    q = out[["p_breach_unreported", "p_breach_given_unreported", "p_honored_prior"]].to_numpy(dtype=float)
    assert (np.isnan(q) | ((q >= 0) & (q <= 1))).all(), q  # detection and prior columns: probabilities too
    return fit


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_hostile_metadata_is_refused_or_harmless(tmp_path, tiny_meta, data):
    meta = json.loads(json.dumps(tiny_meta))
    paths = [p for p in _paths(meta) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(paths))
        parent = meta
        try:
            for k in where[:-1]:
                parent = parent[k]
            if data.draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(where[-1], None)
            else:
                parent[where[-1]] = data.draw(json_value)
        except (KeyError, IndexError, TypeError):
            continue
    path = tmp_path / "m.nc"
    shutil.copy(HOSTILE / "tiny_fit.nc", path)
    with h5py.File(path, "r+") as f:
        f.attrs["assurisk_meta"] = json.dumps(meta)
    fit = _try_load(path)
    if fit is not None:  # anything that loads meets the schema: the fields every consumer reads are typed
        storage.validate(fit.meta)
        assert isinstance(fit.converged, bool) and 0 < fit.meta["sampler"]["target_accept"] < 1


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["intercept", "sigma_state", "beta_high_profile", "state_effect", "assurance_effect",
                        "detection", "verification", "beta_covariate"]),
       st.sampled_from(["posterior", "prior"]),
       st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([1e300, -1e300, 999.0, -999.0, 1.5, -0.5]),
       st.booleans())
def test_hostile_draws_are_refused_or_give_probabilities(tmp_path, name, group, value, whole):
    path = tmp_path / "d.nc"
    shutil.copy(HOSTILE / "tiny_fit.nc", path)
    with h5py.File(path, "r+") as f:
        ds = f[f"{group}/{name}"]
        a = ds[()]
        if whole:
            a[...] = value
        else:
            a.reshape(-1)[0] = value
        ds[...] = a
    _try_load(path)


# --- every command keeps the contract ------------------------------------------------------------------------
@pytest.mark.parametrize("args,needle", [
    (["score", "--input", "MISSING", "--output", "OUT/o.csv"], "no such file"),
    (["score", "--state", "CHN", "--case-type", "ordinary", "--fit", "DIR"], "not a regular file"),
    (["fit", "--cases", "BAD", "--out", "OUT/f.nc"], "row 2: got 'X,EGY,high_profile,2001'"),
    (["check", "--fit", "BADFIT", "--out", "OUT/chk"], "converged must be boolean"),
    (["report", "--state", "CHN", "--case-type", "ordinary", "--fit", "BADFIT", "--out", "OUT/r.html"],
     "converged must be boolean"),
    (["validate-data", "BAD"], "row 2: got 'X,EGY,high_profile,2001'"),
    (["validate-data", "DIR"], "is a folder"),
    (["build-covariates", "--pts", "PTSBAD", "--out", "OUT/c.csv"], "is not a PTS file"),
])
def test_every_command_keeps_the_error_contract(capsys, tmp_path, args, needle):
    (tmp_path / "OUT").mkdir()
    (tmp_path / "DIR").mkdir()
    repl = {"MISSING": tmp_path / "missing.csv", "DIR": tmp_path / "DIR", "BAD": HOSTILE / "extra_leading_field.csv",
            "BADFIT": HOSTILE / "meta_converged_no.nc", "PTSBAD": HOSTILE / "pts_wrong_columns.csv"}
    args = [str(repl.get(a, a)).replace("OUT/", f"{tmp_path}/OUT/") for a in args]
    code, out, err = main(capsys, *args)
    clean_error(code, err, needle)
    assert list((tmp_path / "OUT").iterdir()) == []


# --- every writer goes through safe_write (exclusive temporaries, atomic rename, pipes written through) -----
def test_every_writer_uses_safe_write(capsys, tmp_path, monkeypatch, bundled, sim_fit):
    from assurisk import safe_write
    from assurisk.check import run_check

    calls: list[str] = []
    real = safe_write.atomic_write

    def spy(path, write, **kw):
        calls.append(Path(path).name)
        return real(path, write, **kw)

    monkeypatch.setattr(safe_write, "atomic_write", spy)
    code, _, err = main(capsys, "score", "--input", HOSTILE / "formulas.csv", "--output", tmp_path / "scored.csv")
    assert code == 0, err
    sim_fit.save(tmp_path / "fit.nc")
    pts = tmp_path / "pts.csv"
    pts.write_text("WordBank_Code_A,Year,PTS_A,PTS_H,PTS_S\nCHN,2001,4,5,NA\nEGY,2001,3,NA,3\n")
    code, _, err = main(capsys, "build-covariates", "--pts", pts, "--out", tmp_path / "cov.csv")
    assert code == 0, err
    run_check(bundled, sbc=0, coverage=0, sensitivity_=False, out=tmp_path / "chk", log=lambda m: None)
    assert calls == ["scored.csv", "scored.csv.meta.json", "fit.nc", "cov.csv", "reliability.png", "summary.json"], calls
    assert sorted(p.name for p in (tmp_path / "chk").iterdir()) == ["reliability.png", "summary.json"]
    nothing_written(tmp_path, "scored.csv", "scored.csv.meta.json", "fit.nc", "pts.csv", "cov.csv", "chk")


def test_a_fit_records_the_sha256_of_the_bytes_it_parsed(tmp_path):
    import hashlib

    from assurisk.fitting import table_sha256

    src = tmp_path / "cases.csv"
    first = b"receiving_state,case_type,outcome\nCHN,ordinary,honored\n"
    src.write_bytes(first)
    df = contract.to_frame(src)
    src.write_bytes(b"receiving_state,case_type,outcome\nCHN,ordinary,breached\n")  # swapped after reading
    assert table_sha256(src, df)[0] == hashlib.sha256(first).hexdigest()


@pytest.mark.parametrize("exc,code,needle", [
    (PermissionError(13, "Permission denied", "/data/fit.nc"), 2, "cannot use '/data/fit.nc': Permission denied"),
    (RuntimeError("bug\x1b[2J"), 3, "internal error: RuntimeError: bug\\x1b[2J"),
])
def test_file_errors_are_bad_input_and_bugs_stay_exit_3(capsys, monkeypatch, exc, code, needle):
    def boom(*a, **k):
        raise exc

    monkeypatch.setattr(cli, "_load", boom)
    rc, out, err = main(capsys, "score", "--state", "CHN", "--case-type", "ordinary")
    clean_error(rc, err, needle, exit=code)
