"""The documentation: builds with no warnings (mkdocs --strict), covers every public name with an
example, and its Python examples run."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import pytest

import assurisk
from conftest import ROOT

API = sorted((ROOT / "docs" / "api").glob("*.md"))
RUN = API + [ROOT / "docs" / "formats.md"]
NOT_RUN = "<!-- not run -->"


def test_docs_build_strictly_with_no_warnings(tmp_path):
    for mod in ("mkdocs", "mkdocstrings", "mkdocstrings_handlers.python"):
        if importlib.util.find_spec(mod.split(".")[0]) is None or importlib.util.find_spec(mod) is None:
            pytest.skip(f"{mod} is not installed (pip install 'assurisk[docs]')")
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                        "-d", str(tmp_path / "site")], capture_output=True, text=True, timeout=600,
                       env={**__import__("os").environ, "PYTHONPATH": str(ROOT / "src")})
    assert r.returncode == 0, r.stderr
    assert "WARNING" not in r.stderr, r.stderr
    page = (tmp_path / "site" / "api" / "index.html").read_text()
    assert "draws: int = 1000" in re.sub(r"<[^>]+>", "", page)  # fit's real signature, from its docstring page
    assert (tmp_path / "site" / "score-output.schema.json").is_file()


def _directives() -> set[str]:
    names = set()
    for page in API:
        for target in re.findall(r"^::: (\S+)", page.read_text(), flags=re.M):
            names.add(target.split(".")[-1])
    return names


def test_every_public_name_is_in_the_api_reference_with_an_example():
    documented = _directives()
    text = "\n".join(p.read_text() for p in API)
    for name in assurisk.__all__:
        if name == "__version__":
            assert "assurisk.__version__" in text
            continue
        assert name in documented, f"{name} has no ::: directive in docs/api"
        obj = getattr(assurisk, name)
        has_example = "Example" in (obj.__doc__ or "") or re.search(
            rf"```python\n(?:(?!```).)*\b{name}\b", text, flags=re.S)
        assert has_example, f"{name} has no example"


def _blocks(page):
    text = page.read_text()
    for m in re.finditer(r"(<!-- not run -->\n)?```python\n(.*?)```", text, flags=re.S):
        if not m.group(1):
            yield m.group(2)


@pytest.mark.parametrize("page", RUN, ids=lambda p: p.name)
def test_python_examples_in_the_docs_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    for code in _blocks(page):
        exec(compile(code, str(page), "exec"), ns)


def test_docstring_examples_of_the_light_functions_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("score", "default_fit", "load_fit", "load_cases", "validate_cases"):
        doc = getattr(assurisk, name).__doc__
        (code,) = re.findall(r"```python\n(.*?)```", doc, flags=re.S)
        exec(compile(__import__("textwrap").dedent(code), name, "exec"), {})
