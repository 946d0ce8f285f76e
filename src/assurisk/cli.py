"""The ``assurisk`` command line: score, fit, check, report, validate-data, build-covariates.

Exit status: 0 success; 1 ``validate-data`` found problems; 2 bad input (one line on stderr saying
what and where); 3 an unexpected internal error (set ASSURISK_DEBUG=1 to see the traceback).
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

from .errors import AssuriskError, ConvergenceWarning, safe_text

JSON_KEYS = ("receiving_state", "case_type", "p_honored", "p_honored_lower", "p_honored_upper", "p_breach",
             "state_seen", "n_state_cases", "converged")


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


def cmd_score(args) -> int:
    from .fit import CAVEAT

    from .safe_write import check_destination, write_csv

    if args.input:
        if args.state or args.case_type:
            raise UsageError("give either --input (batch) or --state and --case-type, not both")
        if not args.output:
            raise UsageError("--input needs --output (where to write the scored CSV)")
        out = check_destination(args.output)
    fit = _load(args.fit)
    if args.input:
        scored = fit.score(args.input, interval=args.interval)
        write_csv(scored, out, escape_formulas=args.escape_formulas)
        say(f"scored {len(scored)} rows -> {out}")
        return 0
    if not (args.state and args.case_type):
        raise UsageError("give --state and --case-type (or --input and --output for a CSV)")
    row = {"receiving_state": args.state, "case_type": args.case_type}
    if args.year is not None:
        row["year"] = args.year
    if args.assurance:
        row["assurance_types"] = args.assurance
    if args.monitoring:
        row["monitoring"] = args.monitoring
    r = fit.score(row, interval=args.interval).iloc[0]
    if args.json:
        out = {k: r[k] for k in JSON_KEYS}
        out["receiving_state"] = str(out["receiving_state"]).strip().upper()
        out["case_type"] = str(out["case_type"]).strip().lower()
        for k in ("p_honored", "p_honored_lower", "p_honored_upper", "p_breach"):
            out[k] = float(out[k])
        out["state_seen"], out["converged"] = bool(out["state_seen"]), bool(out["converged"])
        out["n_state_cases"] = int(out["n_state_cases"])
        for k in ("p_breach_unreported", "p_breach_given_unreported", "p_honored_prior"):
            out[k] = None if pd.isna(r[k]) else float(r[k])
        out["prior_dominated"] = None if pd.isna(r["prior_dominated"]) else bool(r["prior_dominated"])
        print(json.dumps(out))
        return 0
    from .codes import state_name

    code = str(r["receiving_state"]).strip().upper()
    kind = str(r["case_type"]).strip().lower().replace("_", "-")
    pct = round(args.interval * 100)
    seen = (f"{int(r['n_state_cases'])} transfer(s) to {code} used by the model, "
            f"{int(r['n_state_type_cases'])} of them {kind}"
            if r["state_seen"] else f"no transfer to {code} in the record: this is the population estimate for an unseen state")
    print(f"{state_name(code)} ({code}), {kind} case" + (f", {args.year}" if args.year else ""))
    print(f"  P(assurance honoured) = {r['p_honored']:.2f}   {pct}% interval {r['p_honored_lower']:.2f} to {r['p_honored_upper']:.2f}")
    print(f"  P(breach)             = {r['p_breach']:.2f}")
    if not pd.isna(r["p_honored_prior"]):
        verdict = ("the record barely moves it: this number is set by the prior, not by the record"
                   if r["prior_dominated"] else "the record moves it away from the prior")
        print(f"  prior alone           = {r['p_honored_prior']:.2f}   ({verdict})")
    promised = args.assurance or f"{fit.meta['spec']['defaults']['assurance_types']} (default)"
    watched = args.monitoring or f"{fit.meta['spec']['defaults']['monitoring']} (default)"
    print(f"  promise: {promised}; monitoring: {watched}")
    if fit.uses_detection:
        print(f"  P(a breach would go unreported under this monitoring) = {r['p_breach_unreported']:.2f}")
        print(f"  P(a breach happened | none was reported, for a person already sent) = {r['p_breach_given_unreported']:.2f}")
        print("  monitoring: assumed to change only what is seen, not whether the promise is kept (no deterrence)")
        print("  detection: the model assumes breaches enter the record only when someone is placed to see them, "
              "so 'no breach reported' is not read as 'honoured'")
    else:
        print("  face-value model: transfers with no known outcome are left out and every breach is assumed reported")
    print(f"  based on: {seen}")
    if r["covariate_imputed"]:
        print(f"  note: no Political Terror Scale score for {code}; the world average was used")
    for e in fit.meta["spec"]["priors"].get("elicitation", []):
        print(f"  expert prior: {e['about']}: centre {e['center']}, {e['mass']:.0%} in [{e['lower']}, {e['upper']}]")
    print(f"  sampler converged: {'yes' if r['converged'] else 'NO - do not rely on this number'}")
    print(f"  caveat: {CAVEAT}")
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


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="assurisk", description="How likely is a state to honour a diplomatic assurance?")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("score", help="probability that an assurance is honoured (bundled fit unless --fit)")
    s.add_argument("--state", help="ISO 3166-1 alpha-3 code of the state giving the assurance, e.g. CHN")
    s.add_argument("--case-type", choices=("ordinary", "high_profile"))
    s.add_argument("--year", type=int, help="year of transfer (default: latest year with a PTS score)")
    s.add_argument("--assurance", help="what was promised: ';'-separated from torture, detention_conditions, "
                   "death_penalty, fair_trial, consular_access, specialty, other (default: torture)")
    s.add_argument("--monitoring", choices=("none", "consular", "independent"),
                   help="verification after transfer (default: none)")
    s.add_argument("--input", help="CSV of cases to score (batch mode)")
    s.add_argument("--output", help="where to write the scored CSV (batch mode)")
    s.add_argument("--fit", help="a fit file written by `assurisk fit` (default: the bundled fit)")
    s.add_argument("--interval", type=_probability, default=0.9, help="central interval probability (default 0.9)")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--escape-formulas", action="store_true",
                   help="batch mode, for files opened in a spreadsheet: prefix text cells that a spreadsheet "
                        "would run as a formula (starting with = + - @) with a single quote")
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
    f.set_defaults(func=cmd_fit)

    c = sub.add_parser("check", help="calibration and validation: LOO, SBC, coverage, sensitivity")
    c.add_argument("--fit", help="fit file (default: the bundled fit)")
    c.add_argument("--cases", help="the case table the fit was made from (default: the bundled cases.csv)")
    c.add_argument("--sbc", type=int, default=200, help="simulations for SBC (0 to skip; default 200)")
    c.add_argument("--coverage", type=int, default=100, help="simulations for interval coverage (0 to skip; default 100)")
    c.add_argument("--no-sensitivity", action="store_true", help="skip power-scaling and the robustness table")
    c.add_argument("--state", default="CHN", help="question for the robustness table (default CHN)")
    c.add_argument("--case-type", default="ordinary", choices=("ordinary", "high_profile"))
    c.add_argument("--out", default="assurisk-check", help="folder for summary.json and figures")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--workers", type=int, default=1, help="processes for the refits (default 1: in this process)")
    c.set_defaults(func=cmd_check)

    rp = sub.add_parser("report", help="expert-witness report: one self-contained HTML file, or a PDF")
    rp.add_argument("--state", required=True, help="ISO 3166-1 alpha-3 code, e.g. CHN")
    rp.add_argument("--case-type", required=True, choices=("ordinary", "high_profile"))
    rp.add_argument("--year", type=int)
    rp.add_argument("--assurance", help="what was promised (default: torture)")
    rp.add_argument("--monitoring", choices=("none", "consular", "independent"))
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
