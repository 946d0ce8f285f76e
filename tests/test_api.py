"""The public API surface: exact __all__, a clean dir(), the real signature of assurisk.fit."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys

import assurisk
from conftest import ROOT

PUBLIC = ["AssuriskError", "ConvergenceWarning", "Fit", "FitFileError", "InputError", "Priors", "__version__",
          "default_fit", "fit", "load_cases", "load_fit", "score", "validate_cases"]


def test_all_is_exact_and_dir_shows_nothing_else():
    assert sorted(assurisk.__all__) == sorted(PUBLIC)
    assert dir(assurisk) == sorted(PUBLIC)
    for name in PUBLIC:
        assert getattr(assurisk, name) is not None


def _fitting_signature() -> list[tuple]:
    """Parameters of assurisk.fitting.fit, read from its source (importing it would import PyMC)."""
    tree = ast.parse((ROOT / "src" / "assurisk" / "fitting.py").read_text())
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "fit")
    a = fn.args
    params = [(p.arg, "POSITIONAL_OR_KEYWORD", None) for p in a.args]
    params += [(p.arg, "KEYWORD_ONLY", ast.literal_eval(d)) for p, d in zip(a.kwonlyargs, a.kw_defaults)]
    return params


def test_fit_wrapper_has_the_real_signature_without_importing_pymc():
    sig = inspect.signature(assurisk.fit)
    got = [(p.name, p.kind.name, None if p.default is inspect.Parameter.empty else p.default)
           for p in sig.parameters.values()]
    assert got == _fitting_signature()
    assert "detection" in assurisk.fit.__doc__ and "Example" in assurisk.fit.__doc__
    code = ("import sys, assurisk, pydoc; t = pydoc.render_doc(assurisk.fit, renderer=pydoc.plaintext);"
            "assert 'draws: int = 1000' in t and 'seed' in t, t; print('pymc' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def test_every_public_function_documents_an_example():
    for name in PUBLIC:
        obj = getattr(assurisk, name)
        if inspect.isfunction(obj):
            assert "Example" in (obj.__doc__ or ""), name
