"""One templating path for the report: Jinja2 with autoescaping, numbers tagged with their source.

Everything from a case table, a fit file or a check folder is untrusted. It reaches the page only through
the template (``autoescape=True``); the only markup the code itself makes is built here from escaped
parts (:func:`number`, :func:`link`), and a link is made only for an http(s) URL. Every number is a
:class:`Num` that knows its path in the facts; filters format it and wrap it in
``<span class="n" data-k="path" data-f="format">``, so a test can check each printed number against
the JSON embedded in the same page.
"""

from __future__ import annotations

import base64
import io
import json
import re
from importlib import resources

import numpy as np
from markupsafe import Markup, escape

from .sources import safe_url

FORMATS = {
    "f2": lambda v: f"{v:.2f}",
    "f3": lambda v: f"{v:.3f}",
    "f1": lambda v: f"{v:.1f}",
    "s2": lambda v: f"{v:+.2f}".replace("-", "\u2212"),
    "pct": lambda v: f"{v * 100:.0f}%",
    "pct1": lambda v: f"{v * 100:.1f}%",
    "int": lambda v: f"{int(round(v))}",
    "g": lambda v: f"{v:g}",
}


class Num:
    """A number from the facts, with its path; print it only through a format filter."""

    __slots__ = ("value", "path")

    def __init__(self, value, path: str):
        self.value, self.path = value, path

    def __html__(self):
        if isinstance(self.value, int):
            return str(number(self, "int"))
        raise TypeError(f"number {self.path} printed without a format filter")

    def __str__(self):
        return self.__html__()

    def __float__(self):
        return float(self.value)

    def __bool__(self):
        return bool(self.value)

    def _v(self, other):
        return other.value if isinstance(other, Num) else other

    def __lt__(self, o): return self.value < self._v(o)  # noqa: E704
    def __le__(self, o): return self.value <= self._v(o)  # noqa: E704
    def __gt__(self, o): return self.value > self._v(o)  # noqa: E704
    def __ge__(self, o): return self.value >= self._v(o)  # noqa: E704
    def __eq__(self, o): return self.value == self._v(o)  # noqa: E704
    def __hash__(self): return hash(self.value)  # noqa: E704


class Text(str):
    """A string from the facts that may hold digits (a date, an id, a note): printed with its path."""

    path: str

    def __new__(cls, value: str, path: str):
        s = super().__new__(cls, value)
        s.path = path
        return s

    def __html__(self):
        return Markup(f'<span class="s" data-k="{escape(self.path)}">') + escape(str(self)) + Markup("</span>")


def tag(obj, path: str = ""):
    """The facts with every number a :class:`Num` and every string a :class:`Text` (paths as JSON pointers)."""
    if isinstance(obj, bool) or obj is None:
        return obj
    if isinstance(obj, (int, float)):
        return Num(obj, path)
    if isinstance(obj, str):
        return Text(obj, path)
    if isinstance(obj, dict):
        return {k: tag(v, f"{path}.{k}" if path else str(k)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [tag(v, f"{path}.{i}") for i, v in enumerate(obj)]
    return obj


def number(x, fmt: str):
    if x is None:
        return Markup('<span class="na">not available</span>')
    if not isinstance(x, Num):
        raise TypeError(f"expected a number from the facts, got {x!r}")
    return (Markup(f'<span class="n" data-k="{escape(x.path)}" data-f="{fmt}">')
            + escape(FORMATS[fmt](x.value)) + Markup("</span>"))


def link(url, text=None):
    """A link for an http(s) URL; anything else printed as escaped text."""
    u = safe_url(str(url)) if url is not None else None
    body = text if text is not None else url
    if u is None:
        return escape(body) if not hasattr(body, "__html__") else body
    return Markup('<a href="') + escape(u) + Markup('">') + (body if hasattr(body, "__html__") else escape(body)) + Markup("</a>")


class Counter:
    def __init__(self):
        self.n = 0

    def next(self) -> int:
        self.n += 1
        return self.n


def css_string(text: str) -> str:
    """A CSS string literal: every character outside a safe set as a hex escape (no quote, no '<' survives)."""
    return '"' + "".join(c if re.match(r"[A-Za-z0-9 ,.:()\-]", c) else f"\\{ord(c):x} " for c in str(text)) + '"'


def environment():
    import jinja2

    def load(name):
        return resources.files("assurisk.report").joinpath("templates", name).read_text("utf-8")

    env = jinja2.Environment(loader=jinja2.FunctionLoader(load), autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    for fmt in FORMATS:
        env.filters[fmt] = lambda x, _f=fmt: number(x, _f)
    env.globals.update(link=link, css_string=css_string, plain=lambda x: "" if x is None else str(
        x.value if isinstance(x, Num) else x))
    return env


def render(facts: dict, figures: dict, sections: list[tuple[str, str]]) -> str:
    env = environment()
    blob = json.dumps(facts, sort_keys=True, ensure_ascii=True).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    header = css_string(f"{facts['question']['state_name']}, {facts['question']['case_type_words']} - "
                        f"assurisk {facts['ids']['assurisk_version']}, fit {facts['ids']['model_id']}")
    ids = facts["ids"]
    footer = css_string(f"assurisk {ids['assurisk_version']} / fit model {ids['model_id']} / seed {ids['seed']} / "
                        f"data sha256 {ids['data_sha256']}")
    return env.get_template("report.html.j2").render(
        f=tag(facts), fig=figures, data_json=Markup(blob), counter=Counter(), sections=sections,
        section_no={sid: i + 1 for i, (sid, _) in enumerate(sections)}, running_header=Markup(header),
        running_footer=Markup(footer))


# --- figures (PNG, embedded) ----------------------------------------------------------------------
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    _plt().close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def fig_posterior(draws: np.ndarray, prior_draws, answer: dict, title: str) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.6, 2.3))
    ax.hist(draws, bins=50, range=(0, 1), density=True, color="#4477aa", alpha=0.85, label="after the record (posterior)")
    if prior_draws is not None:
        ax.hist(prior_draws, bins=50, range=(0, 1), density=True, histtype="step", color="#222222", lw=1.2,
                label="before the record (prior)")
    ax.axvspan(answer["lower"], answer["upper"], color="#cc6677", alpha=0.15, label=f"{answer['level']:.0%} interval")
    ax.axvline(answer["p_honored"], color="#7a2e1f", lw=2, label=f"estimate {answer['p_honored']:.2f}")
    ax.set(xlabel="probability that the assurance is honoured", ylabel="density", title=title, xlim=(0, 1))
    ax.legend(fontsize=7, loc="upper left")
    return png(fig)


def fig_difference(diff: np.ndarray, level: float) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.6, 2.0))
    ax.hist(diff, bins=60, range=(-1, 1), density=True, color="#117733", alpha=0.85)
    lo, hi = np.quantile(diff, [(1 - level) / 2, (1 + level) / 2])
    ax.axvspan(lo, hi, color="#999999", alpha=0.2, label=f"{level:.0%} interval")
    ax.axvline(0, color="black", lw=1)
    ax.set(xlabel="P(honoured | ordinary) minus P(honoured | high-profile), same state", ylabel="density")
    ax.legend(fontsize=7)
    return png(fig)


def forest_figure(states: list[dict], highlight: str, level: float):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.6, 0.22 * len(states) + 0.9))
    for i, r in enumerate(states):
        c = "#7a2e1f" if r["code"] == highlight else "#4477aa"
        ax.plot([r["lower"], r["upper"]], [i, i], color=c, lw=2)
        ax.plot(r["p_honored"], i, "o", color=c, ms=4)
    ax.set_yticks(range(len(states)), [f"{r['name']} ({r['n']})" for r in states], fontsize=7)
    ax.set(xlim=(0, 1), xlabel=f"P(honoured): estimate and {level:.0%} interval (transfers used in brackets)")
    return fig


def fig_forest(states, highlight: str, level: float) -> str:
    return png(forest_figure(states, highlight, level))


def fig_robustness(rows: list[dict], level: float) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.6, 0.24 * len(rows) + 0.8))
    y = np.arange(len(rows))[::-1]
    for yi, r in zip(y, rows):
        color = "#cc3311" if r["kind"] == "fit" else ("#999999" if not r["converged"] else "#4477aa")
        ax.plot([r["lower"], r["upper"]], [yi, yi], color=color, lw=2)
        ax.plot(r["p_honored"], yi, "o", color=color, ms=4)
    ax.set_yticks(y, [str(r["alternative"])[:62] for r in rows], fontsize=6.5)
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"P(assurance honoured): estimate and {level:.0%} interval", fontsize=8)
    return fig_to_png(fig)


def fig_to_png(fig) -> str:
    return png(fig)
