"""Write the hostile fixture set in this folder (run from the repository root):

    PYTHONPATH=src python tests/hostile/make_fixtures.py

Every file is small (the largest is a few tens of KB): hostile fit files *declare* huge arrays
(chunked, compressed, never written) instead of holding them. ``manifest.json`` lists each file with
the class of bad input it belongs to, the command that reads it and a fragment of the one-line error
it must give (``tests/test_hostile.py`` runs them all). The fit files are derived from a tiny valid
fit, ``tiny_fit.nc`` (2 chains x 5 draws, 3 states, cut from the bundled fit), which must load and score.

Deterministic: the same code gives the same files (no timestamps are stored in the HDF5 objects).
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import h5py
import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
STATES = ["CHN", "EGY", "USA"]
CHAINS, DRAWS, PRIOR_DRAWS = 2, 5, 10
MANIFEST: list[dict] = []


def entry(name: str, klass: str, command: list[str], expect: str, *, exit: int = 2) -> None:
    MANIFEST.append({"file": name, "class": klass, "command": command, "expect": expect, "exit": exit})


# --- fits ----------------------------------------------------------------------------------------
def base_parts():
    """(meta, posterior arrays, prior arrays) of the tiny valid fit, cut from the bundled one."""
    from assurisk import storage
    from assurisk.model import (ASSURANCE_PARAM, DETECTION_PARAM, SCALAR_PARAMS, STATE_PARAMS,
                                VERIFICATION_PARAM)

    src = ROOT / "data" / "default_fit.nc"
    meta = storage.read_meta(src)
    names = SCALAR_PARAMS + STATE_PARAMS + (ASSURANCE_PARAM, DETECTION_PARAM, VERIFICATION_PARAM)
    with h5py.File(src, "r") as f:
        all_states = [s.decode() for s in f["posterior/state"][()]]
        idx = [all_states.index(s) for s in STATES]
        post, prior = {}, {}
        for n in names:
            if f"posterior/{n}" not in f:  # e.g. beta_time: the bundled model has no time effect
                continue
            a = f[f"posterior/{n}"][:CHAINS, :DRAWS]
            b = f[f"prior/{n}"][:1, :PRIOR_DRAWS]
            if n in STATE_PARAMS:
                a, b = a[..., idx], b[..., idx]
            post[n], prior[n] = a, b
    meta["sampler"].update(chains=CHAINS, draws=DRAWS)
    meta["data"]["state_transfers"] = {s: meta["data"]["state_transfers"][s] for s in STATES}
    meta["data"]["state_type_transfers"] = {s: meta["data"]["state_type_transfers"][s] for s in STATES}
    if "item_state_known" in meta["data"]:
        meta["data"]["item_state_known"] = {s: meta["data"]["item_state_known"][s] for s in STATES}
    return meta, post, prior


def write_fit(name: str, meta, post: dict, prior: dict, *, raw_meta: str | None = None, edit=None) -> None:
    """Write a fit file with h5py only (the layout the scorer reads); ``edit(f)`` may then change it."""
    from assurisk._version import FIT_FORMAT

    path = HERE / name
    path.unlink(missing_ok=True)
    with h5py.File(path, "w", libver="latest") as f:
        f.attrs["assurisk_format"] = np.array([FIT_FORMAT])
        f.attrs["assurisk_meta"] = raw_meta if raw_meta is not None else json.dumps(meta, sort_keys=True)
        for group, arrays in (("posterior", post), ("prior", prior)):
            g = f.create_group(group)
            g.create_dataset("state", data=np.array(STATES, dtype=object), dtype=h5py.string_dtype())
            for n, a in arrays.items():
                g.create_dataset(n, data=a)
        if edit is not None:
            edit(f)


def copy(d: dict) -> dict:
    return json.loads(json.dumps(d))


def fits() -> None:
    meta, post, prior = base_parts()
    score = ["score", "--state", "CHN", "--case-type", "ordinary", "--fit"]
    write_fit("tiny_fit.nc", meta, post, prior)
    entry("tiny_fit.nc", "valid", score, "P(assurance honoured)", exit=0)

    def meta_variant(name, change, expect):
        m = copy(meta)
        change(m)
        write_fit(name, m, post, prior)
        entry(name, "fit metadata", score, expect)

    meta_variant("meta_converged_no.nc", lambda m: m.__setitem__("converged", "no"), "converged must be boolean")
    meta_variant("meta_target_accept.nc", lambda m: m["sampler"].__setitem__("target_accept", 1.5),
                 "sampler.target_accept must be < 1")
    meta_variant("meta_seed_text.nc", lambda m: m["sampler"].__setitem__("seed", "7"), "sampler.seed must be integer")
    meta_variant("meta_no_spec.nc", lambda m: m.pop("spec"), "lacks ['spec']")
    meta_variant("meta_priors_list.nc", lambda m: m["spec"].__setitem__("priors", []), "spec.priors must be object")
    meta_variant("meta_negative_count.nc", lambda m: m["data"]["state_transfers"].__setitem__("CHN", -1),
                 "data.state_transfers.CHN must be >= 0")
    meta_variant("meta_state_not_iso.nc", lambda m: m["data"].update(
        state_transfers={"CHN": 15, "EGY": 3, "ZZZ": 7}, state_type_transfers={"CHN": [2, 13], "EGY": [0, 3], "ZZZ": [3, 4]}),
        "not ISO 3166-1")
    meta_variant("meta_detection_flag_text.nc", lambda m: m["spec"].__setitem__("detection", "yes"),
                 "spec.detection must be boolean")
    meta_variant("meta_nested_missing.nc", lambda m: m["spec"]["defaults"].pop("monitoring"),
                 "spec.defaults lacks the required key 'monitoring'")
    meta_variant("meta_escape_sequence.nc", lambda m: m.__setitem__("created", "\x1b[2J\x1b[31mowned"),
                 "created must match")
    meta_variant("meta_huge_draws.nc", lambda m: m["sampler"].update(chains=4, draws=100_000_000),
                 "sampler.draws must be <= 40000")

    for name, raw, expect in (("meta_deep_json.nc", "[" * 20_000, "not valid JSON"),
                              ("meta_nan.nc", '{"converged": NaN}', "not valid JSON"),
                              ("meta_not_object.nc", "[1, 2, 3]", "the metadata must be object")):
        write_fit(name, meta, post, prior, raw_meta=raw)
        entry(name, "fit metadata", score, expect)

    def array_variant(name, edit, expect, klass="fit arrays"):
        write_fit(name, meta, post, prior, edit=edit)
        entry(name, klass, score, expect)

    def replace(group, n, **kw):
        def edit(f):
            del f[f"{group}/{n}"]
            f[group].create_dataset(n, **kw)
        return edit

    # A tiny file declaring arrays of 4 x 10^8 draws (3.2 GB each): never written, so the file stays small.
    def declare_huge(f):
        for group in ("posterior",):
            for n in list(f[group]):
                if n == "state":
                    continue
                shape = f[f"{group}/{n}"].shape
                del f[f"{group}/{n}"]
                f[group].create_dataset(n, shape=(4, 100_000_000) + shape[2:], dtype="f8",
                                        chunks=(1, 1_000_000) + shape[2:], compression="gzip", fillvalue=0.0)
    m = copy(meta)
    m["sampler"].update(chains=4, draws=100_000_000)
    write_fit("huge_declared_arrays.nc", m, post, prior, edit=declare_huge)
    entry("huge_declared_arrays.nc", "memory", score, "sampler.draws must be <= 40000")
    array_variant("huge_array_small_meta.nc", replace("posterior", "intercept", shape=(CHAINS, 10**9), dtype="f8",
                                                      chunks=(1, 10**6), compression="gzip"),
                  "has shape (2, 1000000000), expected (2, 5)", klass="memory")
    array_variant("huge_state_coordinate.nc", replace("posterior", "state", shape=(10**8,), dtype=h5py.string_dtype(),
                                                      chunks=(10**5,), compression="gzip"),
                  "posterior/state has shape (100000000,)", klass="memory")
    array_variant("huge_prior.nc", replace("prior", "intercept", shape=(1, 10**9), dtype="f8", chunks=(1, 10**6),
                                           compression="gzip"),
                  "at most 10000 draws", klass="memory")
    array_variant("absurd_posterior.nc", replace("posterior", "intercept", data=np.full((CHAINS, DRAWS), 1e300)),
                  "outside [-1000.0, 1000.0]")
    array_variant("absurd_detection.nc", replace("posterior", "detection", data=np.full((CHAINS, DRAWS, 4, 2), 1.5)),
                  "outside [0.0, 1.0]")
    array_variant("negative_scale.nc", replace("posterior", "sigma_state", data=np.full((CHAINS, DRAWS), -1.0)),
                  "outside [0.0, 1000.0]")
    array_variant("nan_posterior.nc", replace("posterior", "beta_covariate", data=np.full((CHAINS, DRAWS), np.nan)),
                  "non-finite")
    array_variant("integer_posterior.nc", replace("posterior", "intercept", data=np.zeros((CHAINS, DRAWS), "i8")),
                  "not floating-point")
    array_variant("text_posterior.nc", replace("posterior", "intercept", data=np.full((CHAINS, DRAWS), b"x")),
                  "not floating-point")
    array_variant("missing_array.nc", lambda f: f.__delitem__("posterior/verification"), "lacks ['verification']")
    array_variant("states_differ.nc", replace("posterior", "state", data=np.array(["CHN", "EGY", "FRA"], dtype=object),
                                              dtype=h5py.string_dtype()),
                  "does not list the states of its metadata")
    array_variant("no_posterior.nc", lambda f: f.__delitem__("posterior"), "has no posterior group")

    # Links and storage outside the file: data read from another file would reach the scores.
    (HERE / "outside.bin").write_bytes(np.zeros(CHAINS * DRAWS, "f8").tobytes())
    array_variant("external_storage.nc", replace("posterior", "intercept", shape=(CHAINS, DRAWS), dtype="f8",
                                                 external=[("outside.bin", 0, CHAINS * DRAWS * 8)]),
                  "takes its data from outside the file", klass="links")

    def external_link(f):
        del f["posterior/intercept"]
        f["posterior/intercept"] = h5py.ExternalLink("tiny_fit.nc", "/posterior/intercept")
    array_variant("external_link.nc", external_link, "is a link to another file", klass="links")

    def soft_link(f):
        del f["posterior/intercept"]
        f["posterior/intercept"] = h5py.SoftLink("/prior/intercept")
    array_variant("soft_link.nc", soft_link, "is a link to another object", klass="links")

    def group_link(f):
        del f["posterior"]
        f["posterior"] = h5py.ExternalLink("tiny_fit.nc", "/posterior")
    array_variant("external_group.nc", group_link, "is a link to another file", klass="links")

    # Format attribute of the wrong kind.
    write_fit("format_text.nc", meta, post, prior, edit=lambda f: f.attrs.__setitem__("assurisk_format", "3"))
    entry("format_text.nc", "fit metadata", score, "uses fit format '3'")
    write_fit("format_array.nc", meta, post, prior,
              edit=lambda f: f.attrs.__setitem__("assurisk_format", np.arange(1000)))
    entry("format_array.nc", "fit metadata", score, "attribute is an array")

    # What held up and must keep holding: a pickle named .nc, truncated, random and foreign files.
    class Payload:
        def __reduce__(self):
            import os

            return (os.makedirs, ("/tmp/assurisk-hostile-pickle-was-loaded",))

    (HERE / "pickle_renamed.nc").write_bytes(pickle.dumps(Payload()))
    entry("pickle_renamed.nc", "foreign file", score, "not a netCDF-4/HDF5 file")
    (HERE / "truncated.nc").write_bytes((HERE / "tiny_fit.nc").read_bytes()[:3000])
    entry("truncated.nc", "foreign file", score, "not an assurisk fit")
    (HERE / "random.nc").write_bytes(np.random.default_rng(0).bytes(4096))
    entry("random.nc", "foreign file", score, "not a netCDF-4/HDF5 file")
    with h5py.File(HERE / "foreign.nc", "w") as f:
        f.create_dataset("x", data=np.arange(3))
    entry("foreign.nc", "foreign file", score, "not an assurisk fit")


# --- tables ----------------------------------------------------------------------------------------
def csvs() -> None:
    def table(name, text, klass, expect, *, purpose=None, raw: bytes | None = None):
        (HERE / name).write_bytes(raw if raw is not None else text.encode("utf-8"))
        if purpose == "validate":
            entry(name, klass, ["validate-data", "--purpose", "score"], expect, exit=1)
        else:
            entry(name, klass, ["score", "--input"], expect)

    head = "receiving_state,case_type,year\n"
    table("extra_leading_field.csv", head + "CHN,ordinary,2011\nX,EGY,high_profile,2001\n", "csv shape",
          "row 2: got 'X,EGY,high_profile,2001', expected 3 fields")
    table("extra_field_first_row.csv", head + "X,CHN,ordinary,2011\nEGY,high_profile,2001\n", "csv shape",
          "row 1: got 'X,CHN,ordinary,2011', expected 3 fields")
    table("short_row.csv", head + "CHN,ordinary,2011\nEGY,2001\n", "csv shape", "row 2: got 'EGY,2001', expected 3 fields")
    table("duplicate_header.csv", "receiving_state,case_type,receiving_state\nCHN,ordinary,EGY\n", "csv shape",
          "the header repeats it (columns 1, 3)")
    table("blank_header.csv", "receiving_state,case_type,,notes\nCHN,ordinary,x,y\n", "csv shape",
          "the header's column 3 has no name")
    table("unclosed_quote.csv", head + 'CHN,ordinary,"2011\nEGY,high_profile,2001\nUSA,ordinary,2010\n', "csv shape",
          "odd number of double quotes")
    table("not_utf8.csv", "", "csv shape", "row 1, column 2: text that is not UTF-8",
          raw=b"receiving_state,case_type\nCHN,ordin\xffary\n")
    table("empty.csv", "", "csv shape", "the file is empty")
    table("header_only.csv", head, "csv shape", "the table has no rows")
    table("control_chars_header.csv", "receiving_state,case_type,\x1b[2J\x1b[31mnote\nCHN,ordinary\x1b]0;owned\x07,x\n",
          "control characters", "got 'ordinary\\x1b]0;owned\\x07'")
    (HERE / "control_chars_column_name.csv").write_text("receiving_state,\x1b[2J\x1b[31mcase_type\nCHN,ordinary\n")
    entry("control_chars_column_name.csv", "control characters", ["validate-data", "--purpose", "score"],
          "'\\x1b[2J\\x1b[31mcase_type'", exit=1)
    table("bidi_value.csv", head + "CHN\u202e,ordinary,2011\n", "control characters", "'CHN\\u202e'")
    table("newline_in_value.csv", head + '"CHN\nEGY",ordinary,2011\n', "control characters", "'CHN\\nEGY'")
    table("huge_counts.csv", "receiving_state,case_type,n_transfers,n_breaches\nCHN,ordinary,1e30,0\n"
          "CHN,ordinary,9223372036854775808,0\nCHN,ordinary,1000001,0\n", "counts",
          "row 1, column 'n_transfers': got '1e30', expected a whole number >= 0 and <= 1000000", purpose="validate")
    table("negative_counts_score.csv", "receiving_state,case_type,n_transfers,n_breaches\nCHN,ordinary,-1,0\n", "counts",
          "row 1, column 'n_transfers': got '-1'")
    table("inconsistent_counts_score.csv", "receiving_state,case_type,n_transfers,n_breaches\nCHN,ordinary,2,5\n",
          "counts", "no more than n_transfers")
    table("breaches_without_transfers.csv", "receiving_state,case_type,n_breaches\nCHN,ordinary,2\n", "counts",
          "missing required column 'n_transfers'")
    table("score_column_p_honored.csv", "receiving_state,case_type,p_honored\nCHN,ordinary,0.99\n", "score columns",
          "column 'p_honored': the table already has this score column")
    table("score_column_converged.csv", "receiving_state,case_type,converged\nCHN,ordinary,True\n", "score columns",
          "column 'converged'")
    table("nul_byte.csv", "", "control characters", "'CHN\\x00'", raw=b"receiving_state,case_type\nCHN\x00,ordinary\n")
    # Carried through untouched by default; escaped with --escape-formulas (tests check both).
    (HERE / "formulas.csv").write_text(
        'receiving_state,case_type,note,=HYPERLINK("http://x")\n'
        'CHN,ordinary,"=HYPERLINK(""http://evil.example"",""click"")",-3\n'
        "EGY,high_profile,+1+1,@SUM(A1:A9)\n"
        "USA,ordinary,-2+3,\t=1\n", encoding="utf-8")
    entry("formulas.csv", "formulas", ["score", "--input"], "", exit=0)

    # build-covariates: files that are not the PTS file.
    (HERE / "pts_wrong_columns.csv").write_text("a,b\n1,2\n")
    entry("pts_wrong_columns.csv", "build-covariates", ["build-covariates", "--pts"], "is not a PTS file: it lacks")
    (HERE / "pts_undecodable.csv").write_bytes(b"WordBank_Code_A,Year,PTS_A,PTS_H,PTS_S\nCHN,2001,\x81,NA,NA\n")
    entry("pts_undecodable.csv", "build-covariates", ["build-covariates", "--pts"], "is not Windows-1252 text")
    (HERE / "pts_bad_score.csv").write_text("WordBank_Code_A,Year,PTS_A,PTS_H,PTS_S\nCHN,2001,9,NA,NA\n")
    entry("pts_bad_score.csv", "build-covariates", ["build-covariates", "--pts"], "line 2, column 'PTS_A': got '9'")
    (HERE / "pts_bad_year.csv").write_text("WordBank_Code_A,Year,PTS_A,PTS_H,PTS_S\nCHN,two,3,NA,NA\n")
    entry("pts_bad_year.csv", "build-covariates", ["build-covariates", "--pts"], "column 'Year': got 'two'")

    # report --check: a summary.json that is not one.
    for name, text, expect in (("summary_malformed.json", '{"sbc": ', "is not readable JSON"),
                               ("summary_list.json", "[1, 2]", "not a JSON object")):
        (HERE / name).write_text(text)
        entry(name, "report --check", ["report", "--state", "CHN", "--case-type", "ordinary", "--check"], expect)


def main() -> None:
    fits()
    csvs()
    (HERE / "manifest.json").write_text(json.dumps(MANIFEST, indent=1, ensure_ascii=True) + "\n")
    sizes = sorted((p.stat().st_size, p.name) for p in HERE.iterdir() if p.is_file())
    print(f"{len(MANIFEST)} fixtures; largest {sizes[-1][1]} ({sizes[-1][0]} bytes); total "
          f"{sum(s for s, _ in sizes) // 1024} KB")


if __name__ == "__main__":
    main()
