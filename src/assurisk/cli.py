"""The ``assurisk`` command line: score, fit, check, report, validate-data, build-covariates.

Exit status (also in the README and the docs' CLI page):

- 0: success;
- 1: ``validate-data`` found problems in the table;
- 2: bad input or usage: a bad value, row, column, file or option (one line on stderr saying what
  and where; no output file is written or replaced);
- 3: an unexpected internal error (set ASSURISK_DEBUG=1 to see the traceback);
- 4: ``fit``: the sampler's diagnostics failed (R-hat, ESS or divergences); nothing is written
  unless ``--accept-unconverged`` is given, which writes the fit (marked unconverged) and exits 0;
- 130: interrupted (Ctrl-C).

``-`` stands for standard input (``--input -``) or standard output (``--output -``).

Every message that can hold text from input (values, column names, file names) is printed through
:func:`say`, which escapes control characters and keeps it on one line.
"""

from __future__ import annotations

import argparse
import json

import pandas as pd
import os
import sys
import warnings
from pathlib import Path

from ._version import __version__
from .errors import AssuriskError, ConvergenceWarning, safe_text

EXIT_OK, EXIT_PROBLEMS, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_UNCONVERGED, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
JSON_KEYS = ("receiving_state", "case_type", "p_honored", "p_honored_lower", "p_honored_upper", "p_breach",
             "state_seen", "n_state_cases", "converged")
CASE_TYPES = ("ordinary", "high_profile")
MONITORING = ("none", "consular", "independent")


class UsageError(AssuriskError):
    pass


def say(message: str, *, file=None) -> None:
    """Print one line to stderr (or ``file``), control characters escaped."""
    print(safe_text(message), file=file or sys.stderr)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse echoes unrecognised arguments raw
        self.print_usage(sys.stderr)
        self.exit(2, safe_text(f"{self.prog}: error: {message}") + "\n")


def _load(fit_path):
    import assurisk

    return assurisk.load_fit(fit_path) if fit_path else assurisk.default_fit()


def _plain(v):
    """A JSON-ready Python value: NaN and <NA> -> None, NumPy scalars -> int/float/bool."""
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return None
    if hasattr(v, "item"):
        v = v.item()
        if isinstance(v, float) and v != v:
            return None
    return v


def json_record(r: pd.Series, fit, interval: float) -> dict:
    """One scored row as the JSON object ``score --json`` prints (docs/score-output.schema.json)."""
    from .schema import SCORE_COLUMNS, provenance

    out = {k: _plain(r[k]) for k in JSON_KEYS}
    out["receiving_state"] = str(r["receiving_state_code"])
    out["case_type"] = str(r["case_type"]).strip().lower()
    for k in ("year", "assurance_types", "monitoring"):
        if k in r.index:
            out[k] = _plain(r[k])
    for k in SCORE_COLUMNS:
        out.setdefault(k, _plain(r[k]))
    out.update(provenance(fit, interval))
    return out


def _emit(text: str, output: str | None) -> None:
    """Print ``text`` to stdout, or write it to ``output`` (atomically; ``-`` is stdout)."""
    if not output or output == "-":
        sys.stdout.write(text)
        return
    from .safe_write import write_text

    write_text(output, text)
    say(f"-> {output}")


def _score_batch(args, fit) -> int:
    from . import tables_io

    if args.state or args.case_type:
        raise UsageError("give either --input (batch) or --state and --case-type, not both")
    if not args.output:
        raise UsageError("--input needs --output (a file, or - for standard output)")
    out_fmt = args.format
    if args.json:
        if out_fmt and out_fmt != "jsonl":
            raise UsageError(f"--json means JSON Lines for a batch; it contradicts --format {out_fmt}")
        out_fmt = "jsonl"
    defaults = {}
    if args.year is not None:
        defaults["year"] = str(args.year)
    if args.assurance:
        defaults["assurance_types"] = args.assurance
    if args.monitoring:
        defaults["monitoring"] = args.monitoring
    for flag, v in (("--chunk-rows", args.chunk_rows), ("--threads", args.threads)):
        if v < 1:
            raise UsageError(f"{flag} must be at least 1, got {v}")
    record = tables_io.score_file(args.input, args.output, fit, in_fmt=args.input_format, out_fmt=out_fmt,
                                  interval=args.interval, defaults=defaults, chunk_rows=args.chunk_rows,
                                  meta=args.meta, threads=args.threads, escape_formulas=args.escape_formulas,
                                  replace_scores=args.replace_scores)
    where = "standard output" if args.output == "-" else args.output
    meta = args.meta or record.get("sidecar")
    say(f"scored {record['rows']} rows ({record['patterns_scored']} distinct patterns) -> {where}"
        + (f"; provenance -> {meta}" if meta else ""))
    return 0


def cmd_score(args) -> int:
    from .fit import CAVEAT
    from .states import display_name, resolve

    fit = _load(args.fit)
    if args.input:
        return _score_batch(args, fit)
    if not (args.state and args.case_type):
        raise UsageError("give --state and --case-type (or --input and --output for a table)")
    if args.format or args.input_format or args.meta:
        raise UsageError("--format, --input-format and --meta are for batch scoring (--input); use --json for one case")
    row = {"receiving_state": args.state, "case_type": args.case_type}
    if args.year is not None:
        row["year"] = args.year
    if args.assurance:
        row["assurance_types"] = args.assurance
    if args.monitoring:
        row["monitoring"] = args.monitoring
    r = fit.score(row, interval=args.interval).iloc[0]
    if args.json:
        _emit(json.dumps(json_record(r, fit, args.interval)) + "\n", args.output)
        return 0
    code = str(r["receiving_state_code"])
    kind = str(r["case_type"]).strip().lower().replace("_", "-")
    pct = round(args.interval * 100)
    seen = (f"{int(r['n_state_cases'])} transfer(s) to {code} used by the model, "
            f"{int(r['n_state_type_cases'])} of them {kind}"
            if r["state_seen"] else f"no transfer to {code} in the record: this is the population estimate for an unseen state")
    lines = [f"{display_name(code)} ({code}), {kind} case" + (f", {args.year}" if args.year else "")]
    if resolve(args.state) == code and args.state.strip().upper() != code:
        lines.append(f"  state: {args.state.strip()!r} read as {code}")
    lines.append(f"  P(assurance honoured) = {r['p_honored']:.2f}   {pct}% interval {r['p_honored_lower']:.2f} to {r['p_honored_upper']:.2f}")
    lines.append(f"  P(breach)             = {r['p_breach']:.2f}")
    if not pd.isna(r["p_honored_prior"]):
        verdict = ("the record barely moves it: this number is set by the prior, not by the record"
                   if r["prior_dominated"] else "the record moves it away from the prior")
        lines.append(f"  prior alone           = {r['p_honored_prior']:.2f}   ({verdict}; the record removes "
                     f"{max(0.0, float(r['prior_contraction'])):.0%} of the prior's uncertainty)")
    if not pd.isna(r["n_direct"]):
        own = int(r["n_direct_state"])
        lines.append(f"  direct evidence: {int(r['n_direct'])} {kind} transfer(s) in the record with a known outcome for "
                     f"this promise; {own} of them to {code}"
                     + ("" if own else f" (none to {code}: the number borrows from other states and other cases)"))
    contrast = fit.case_type_contrast(code, **{k: v for k, v in row.items() if k not in ("receiving_state", "case_type")})
    lines.append(f"  ordinary minus high-profile (same state and promise): {contrast['difference_mean']:+.2f} "
                 f"(90% interval {contrast['difference_lower']:+.2f} to {contrast['difference_upper']:+.2f}); "
                 f"P(ordinary fares better) = {contrast['p_ordinary_better']:.2f}"
                 + ("" if contrast["p_ordinary_better_prior"] is None
                    else f", prior alone {contrast['p_ordinary_better_prior']:.2f}"))
    promised = args.assurance or f"{fit.meta['spec']['defaults']['assurance_types']} (default)"
    watched = args.monitoring or f"{fit.meta['spec']['defaults']['monitoring']} (default)"
    lines.append(f"  promise: {promised}; monitoring: {watched}")
    if fit.uses_detection:
        lines.append(f"  P(a breach would go unreported under this monitoring) = {r['p_breach_unreported']:.2f}")
        lines.append(f"  P(a breach happened | none was reported, for a person already sent) = {r['p_breach_given_unreported']:.2f}")
        lines.append("  monitoring: assumed to change only what is seen, not whether the promise is kept (no deterrence)")
        lines.append("  detection: the model assumes breaches enter the record only when someone is placed to see them, "
                     "so 'no breach reported' is not read as 'honoured'")
    else:
        lines.append("  face-value model: transfers with no known outcome are left out and every breach is assumed reported")
    lines.append(f"  based on: {seen}")
    if r["covariate_imputed"]:
        lines.append(f"  note: no {str(fit.covariate_name).upper()} score for {code}; its covariate is drawn from the "
                     "world distribution (uncertainty carried, not a point value)")
    elif r["covariate_year_outside"] is True:
        lines.append(f"  note: {args.year} is outside the years with a Political Terror Scale score for {code}; "
                     "the nearest scored year was used")
    for e in fit.meta["spec"]["priors"].get("elicitation", []):
        lines.append(f"  expert prior: {e['about']}: centre {e['center']}, {e['mass']:.0%} in [{e['lower']}, {e['upper']}]")
    lines.append(f"  sampler converged: {'yes' if r['converged'] else 'NO - do not rely on this number'}")
    lines.append(f"  caveat: {CAVEAT}")
    _emit("\n".join(lines) + "\n", args.output)
    return 0


def cmd_fit(args) -> int:
    import assurisk

    from .storage import check_fit_destination

    check_fit_destination(args.out)  # before sampling, not after
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        covariates = None if args.no_covariate or args.covariate == "none" else args.covariate
        fit = assurisk.fit(args.cases, covariates=covariates, time_effect=args.time_effect,
                           detection=not args.no_detection, deterrence=args.deterrence, draws=args.draws,
                           tune=args.tune, chains=args.chains, seed=args.seed, progressbar=not args.quiet)
    for w in caught:
        say(f"assurisk: warning: {w.message}")
    if not fit.converged and not args.accept_unconverged:
        print(fit)
        say(f"assurisk: the sampler's diagnostics failed; {args.out} was not written. Rerun with more --tune "
            "and --draws, or pass --accept-unconverged to keep this fit (its scores say converged: no)")
        return EXIT_UNCONVERGED
    fit.save(args.out)
    print(fit)
    say(f"saved -> {args.out}", file=sys.stdout)
    return 0


def cmd_check(args) -> int:
    import contextlib
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from .check import format_summary, run_check

    _check_out_folder(args.out)
    fit = _load(args.fit)
    question = {"receiving_state": args.state.strip().upper(), "case_type": args.case_type}
    fit.score(question)  # validates the question before any long computation
    with contextlib.ExitStack() as stack:
        spawn = multiprocessing.get_context("spawn")  # forking a process that runs Numba/threads is unsafe
        executor = stack.enter_context(ProcessPoolExecutor(args.workers, mp_context=spawn)) if args.workers > 1 else None
        summary = run_check(fit, cases=args.cases, sbc=args.sbc, coverage=args.coverage,
                            sensitivity_=not args.no_sensitivity, question=question, out=args.out,
                            executor=executor, seed=args.seed, log=say)
    print(format_summary(summary))
    say(f"summary and figures -> {args.out}", file=sys.stdout)
    return 0


def _check_out_folder(folder: str) -> Path:
    """A folder ``check`` may write into: an existing writable folder, or a new one in an existing
    writable folder. Checked before any long computation."""
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out {folder!r} exists and is not a folder; give a folder for summary.json and figures")
    target = path if path.is_dir() else path.parent
    if not target.is_dir():
        raise UsageError(f"--out {folder!r}: folder {str(target)!r} does not exist")
    if not os.access(target, os.W_OK | os.X_OK):
        raise UsageError(f"--out {folder!r}: folder {str(target)!r} is not writable")
    return path


def _check_summary(check: str) -> None:
    """``report --check``: the folder (or file) exists and its summary.json is a JSON object."""
    path = Path(check)
    if not path.exists():
        raise UsageError(f"--check {check!r}: no such folder or file (write one with `assurisk check --out DIR`)")
    summary = path / "summary.json" if path.is_dir() else path
    if not summary.is_file():
        raise UsageError(f"--check {check!r}: no summary.json in it (write one with `assurisk check --out DIR`)")
    try:
        if summary.stat().st_size > 64 << 20:
            raise UsageError(f"--check {str(summary)!r} is larger than 64 MiB: not a summary written by assurisk check")
        data = json.loads(summary.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise UsageError(f"--check {str(summary)!r} is not readable JSON ({type(exc).__name__}); "
                         "rerun `assurisk check --out DIR`") from None
    if not isinstance(data, dict):
        raise UsageError(f"--check {str(summary)!r} is not a summary written by assurisk check (not a JSON object)")


def cmd_report(args) -> int:
    from .safe_write import check_destination

    if args.check:
        _check_summary(args.check)
    out = check_destination(args.out)
    fit = _load(args.fit)
    if args.check and not Path(args.check).exists():
        raise UsageError(f"--check {args.check!r}: no such folder or file (write one with `assurisk check --out DIR`)")
    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm", ".pdf"):
        raise UsageError(f"--out {str(out)!r}: give a name ending in .html or .pdf")
    fit.report(args.state, args.case_type, year=args.year, assurance=args.assurance, monitoring=args.monitoring,
               cases=args.cases, check=args.check, interval=args.interval, out=out, quick=args.quick, force=args.force,
               log=lambda m: print(m, file=sys.stderr))
    say(f"report -> {out}" + (" (quick: no sensitivity refits)" if args.quick else ""), file=sys.stdout)
    return 0


def cmd_validate(args) -> int:
    from .dataset import table_problems

    problems = table_problems(args.path, args.purpose)
    if not problems:
        say(f"{args.path}: no problems", file=sys.stdout)
        return 0
    for p in problems:
        say(f"{args.path}: {p}", file=sys.stdout)
    say(f"{len(problems)} problem(s)")
    return 1


def cmd_build_covariates(args) -> int:
    from .covariates import build_state_covariates, write_state_covariates
    from .safe_write import check_destination

    if not Path(args.pts).is_file():
        raise UsageError(f"PTS file {args.pts!r} does not exist")
    check_destination(args.out)
    rows = build_state_covariates(args.pts)
    write_state_covariates(rows, args.out)
    say(f"{len(rows)} state-years -> {args.out}", file=sys.stdout)
    return 0


def _probability(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"expected a number strictly between 0 and 1, got {text!r}")
    return v


def _choice(allowed, what: str):
    """An argparse type: case-insensitive, '-' and ' ' read as '_' (so 'High-Profile' is high_profile)."""
    def parse(text: str) -> str:
        v = text.strip().lower().replace("-", "_").replace(" ", "_")
        if v not in allowed:
            raise argparse.ArgumentTypeError(f"invalid choice {text!r} for {what} (choose from {', '.join(allowed)}; any case)")
        return v
    parse.__name__ = what
    return parse


def _state_code(text: str) -> str:
    """An argparse type for report and check: a state's name read as its code (unknown text is left
    for the contract to report)."""
    from .states import resolve

    return resolve(text) or text


def _fmt(text: str) -> str:
    return _choice(("csv", "jsonl", "parquet"), "format")(text)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="assurisk", description="How likely is a state to honour a diplomatic assurance?",
                                epilog="exit status: 0 ok, 1 validate-data found problems, 2 bad input or usage, "
                                       "3 internal error, 4 fit did not converge, 130 interrupted")
    p.add_argument("--version", action="version", version=f"assurisk {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    case_type = _choice(CASE_TYPES, "case type")
    monitoring = _choice(MONITORING, "monitoring")

    s = sub.add_parser("score", help="probability that an assurance is honoured (bundled fit unless --fit)",
                       description="Score one case (--state, --case-type) or a table (--input, --output). "
                                   "In batch mode --year, --assurance and --monitoring apply to every row, and are "
                                   "refused when the table has that column.")
    s.add_argument("--state", help="the state giving the assurance: ISO 3166-1 alpha-3 code (CHN) or name (China)")
    s.add_argument("--case-type", type=case_type, metavar="{ordinary,high_profile}", help="any case; high-profile also read")
    s.add_argument("--year", type=int, help="year of transfer (default: latest year with a PTS score)")
    s.add_argument("--assurance", help="what was promised: ';'-separated from torture, detention_conditions, "
                   "death_penalty, fair_trial, consular_access, specialty, other (default: torture)")
    s.add_argument("--monitoring", type=monitoring, metavar="{none,consular,independent}",
                   help="verification after transfer (default: none)")
    s.add_argument("--input", help="table of cases to score (batch mode): a file, or - for standard input")
    s.add_argument("--output", help="where to write: a file, or - for standard output (batch: required; "
                   "one case: default standard output)")
    s.add_argument("--format", type=_fmt, metavar="{csv,jsonl,parquet}",
                   help="batch output format (default: from --output's suffix, else the input's format)")
    s.add_argument("--input-format", type=_fmt, metavar="{csv,jsonl,parquet}",
                   help="batch input format (default: from --input's suffix; csv for standard input)")
    s.add_argument("--meta", help="batch: where to write the provenance sidecar (default for CSV files: "
                   "<output>.meta.json; give it to get one for standard output or other formats)")
    s.add_argument("--chunk-rows", type=int, default=262_144, help="batch: rows read and scored at a time (default 262144)")
    s.add_argument("--threads", type=int, default=min(4, os.cpu_count() or 1),
                   help="batch: threads for tables with many distinct patterns (default: cores, at most 4)")
    s.add_argument("--fit", help="a fit file written by `assurisk fit` (default: the bundled fit)")
    s.add_argument("--interval", type=_probability, default=0.9, help="central interval probability (default 0.9)")
    s.add_argument("--json", action="store_true", help="one case: print one JSON object; batch: write JSON Lines")
    s.add_argument("--escape-formulas", action="store_true",
                   help="batch mode, for files opened in a spreadsheet: prefix text cells that a spreadsheet "
                        "would run as a formula (starting with = + - @) with a single quote")
    s.add_argument("--replace-scores", action="store_true",
                   help="batch mode, to rescore earlier output: drop the input's score columns (otherwise a "
                        "column named like a score column is refused, never overwritten)")
    s.set_defaults(func=cmd_score)

    f = sub.add_parser("fit", help="fit the model to a case table and save it")
    f.add_argument("--cases", required=True, help="case table (CSV)")
    f.add_argument("--out", required=True, help="fit file to write (.nc)")
    f.add_argument("--seed", type=int, help="random seed (recorded; default: drawn and recorded)")
    f.add_argument("--draws", type=int, default=1000)
    f.add_argument("--tune", type=int, default=1500)
    f.add_argument("--chains", type=int, default=4)
    f.add_argument("--covariate", choices=("pts", "fariss", "none"), default="pts",
                   help="state-year covariate: Political Terror Scale (default), Fariss latent scores with their "
                        "uncertainty, or none")
    f.add_argument("--no-covariate", action="store_true", help="same as --covariate none")
    f.add_argument("--time-effect", action="store_true", help="add a linear time trend (per decade)")
    f.add_argument("--deterrence", action="store_true",
                   help="let monitoring change compliance itself (default: it changes only what is seen)")
    f.add_argument("--no-detection", action="store_true",
                   help="face-value model: drop unknown outcomes and assume every breach was reported")
    f.add_argument("--quiet", action="store_true", help="hide the sampler's progress")
    f.add_argument("--accept-unconverged", action="store_true",
                   help="write the fit even when the diagnostics fail (otherwise: nothing written, exit status 4)")
    f.set_defaults(func=cmd_fit)

    c = sub.add_parser("check", help="calibration and validation: LOO, SBC, coverage, sensitivity")
    c.add_argument("--fit", help="fit file (default: the bundled fit)")
    c.add_argument("--cases", help="the case table the fit was made from (default: the bundled cases.csv)")
    c.add_argument("--sbc", type=int, default=200, help="simulations for SBC (0 to skip; default 200)")
    c.add_argument("--coverage", type=int, default=100, help="simulations for interval coverage (0 to skip; default 100)")
    c.add_argument("--no-sensitivity", action="store_true", help="skip power-scaling and the robustness table")
    c.add_argument("--state", default="CHN", type=_state_code, help="question for the robustness table (default CHN)")
    c.add_argument("--case-type", default="ordinary", type=case_type, metavar="{ordinary,high_profile}")
    c.add_argument("--out", default="assurisk-check", help="folder for summary.json and figures")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--workers", type=int, default=1, help="processes for the refits (default 1: in this process)")
    c.set_defaults(func=cmd_check)

    rp = sub.add_parser("report", help="expert-witness report: one self-contained HTML file, or a PDF")
    rp.add_argument("--state", required=True, type=_state_code, help="ISO 3166-1 alpha-3 code (CHN) or name (China)")
    rp.add_argument("--case-type", required=True, type=case_type, metavar="{ordinary,high_profile}")
    rp.add_argument("--year", type=int)
    rp.add_argument("--assurance", help="what was promised (default: torture)")
    rp.add_argument("--monitoring", type=monitoring, metavar="{none,consular,independent}")
    rp.add_argument("--fit", help="fit file (default: the bundled fit)")
    rp.add_argument("--cases", help="the fit's own case table (default: the bundled cases.csv)")
    rp.add_argument("--check", help="folder written by `assurisk check` (adds calibration and sensitivity)")
    rp.add_argument("--interval", type=_probability, default=0.9)
    rp.add_argument("--out", default="report.html", help="report.html (default) or report.pdf (needs Chromium)")
    rp.add_argument("--quick", action="store_true", help="skip the sensitivity refits (the report says so)")
    rp.add_argument("--force", action="store_true", help="replace --out if it already exists")
    rp.set_defaults(func=cmd_report)

    v = sub.add_parser("validate-data", help="check a case table against the contract and codebook")
    v.add_argument("path")
    v.add_argument("--purpose", choices=("fit", "score"), default="fit")
    v.set_defaults(func=cmd_validate)

    b = sub.add_parser("build-covariates", help="derive data/state_covariates.csv from the official PTS file")
    b.add_argument("--pts", required=True, help="the PTS CSV (e.g. PTS-2024.csv)")
    b.add_argument("--out", required=True)
    b.set_defaults(func=cmd_build_covariates)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except AssuriskError as exc:
        say(f"assurisk: error: {exc}")
        return 2
    except BrokenPipeError:  # output piped into a program that stopped reading (e.g. `| head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # a file the user named cannot be read or written: bad input, not a bug
        if exc.filename is None:
            return _internal(exc)
        say(f"assurisk: error: cannot use {str(exc.filename)!r}: {exc.strerror or exc}")
        return 2
    except KeyboardInterrupt:
        print("assurisk: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never show a traceback to a CLI user unless asked
        return _internal(exc)


def _internal(exc: Exception) -> int:
    if os.environ.get("ASSURISK_DEBUG"):
        raise exc
    say(f"assurisk: internal error: {type(exc).__name__}: {exc} (set ASSURISK_DEBUG=1 for details)")
    return 3


if __name__ == "__main__":
    sys.exit(main())
