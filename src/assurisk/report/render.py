"""One self-contained HTML file: figures embedded as PNG, printable on A4, numbers also as JSON."""

from __future__ import annotations

import base64
import html
import io
import json

import numpy as np

CSS = """
@page { size: A4; margin: 16mm 14mm; }
body { font-family: Georgia, 'Times New Roman', serif; color: #1a1a1a; max-width: 182mm; margin: 0 auto;
       padding: 12px; line-height: 1.45; font-size: 11pt; }
h1 { font-size: 19pt; margin-bottom: 2px; } h2 { font-size: 14pt; border-bottom: 1px solid #999;
     margin-top: 22px; page-break-after: avoid; } h3 { font-size: 11.5pt; }
.answer { font-size: 15pt; background: #f3f3ee; border-left: 5px solid #7a2e1f; padding: 10px 14px; }
.caveat { background: #fff6e5; border: 1px solid #e0b050; padding: 8px 12px; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; margin: 8px 0; }
th, td { border: 1px solid #bbb; padding: 3px 5px; vertical-align: top; text-align: left; }
th { background: #eee; } td.num { text-align: right; white-space: nowrap; }
figure { margin: 10px 0; page-break-inside: avoid; } figure img { max-width: 100%; }
figcaption { font-size: 9pt; color: #444; } .small { font-size: 9pt; color: #444; }
a { color: #1f4e8c; word-break: break-all; } code { font-size: 9pt; }
section { page-break-inside: auto; }
table.cases { table-layout: fixed; } table.cases tr.case td { border-bottom: none; }
table.cases tr.case-detail td { border-top: none; background: #fafafa; }
"""


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    _plt().close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def fig_posterior(draws: np.ndarray, lo: float, hi: float, title: str) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 2.6))
    ax.hist(draws, bins=50, range=(0, 1), color="#4477aa", alpha=0.85)
    ax.axvspan(lo, hi, color="#cc6677", alpha=0.15, label="interval")
    ax.axvline(draws.mean(), color="#7a2e1f", lw=2, label=f"mean {draws.mean():.2f}")
    ax.set(xlabel="probability that the assurance is honoured", ylabel="posterior draws", title=title, xlim=(0, 1))
    ax.legend(fontsize=8)
    return png(fig)


def fig_difference(diff: np.ndarray) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 2.4))
    ax.hist(diff, bins=60, range=(-1, 1), color="#117733", alpha=0.85)
    ax.axvline(0, color="black", lw=1)
    ax.set(xlabel="P(honoured | ordinary) - P(honoured | high-profile)", ylabel="posterior draws",
           title="Ordinary minus high-profile, same state")
    return png(fig)


def fig_forest(states, highlight: str) -> str:
    return png(forest_figure(states, highlight))


def forest_figure(states, highlight: str):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 0.24 * len(states) + 1.0))
    for i, r in states.iterrows():
        c = "#7a2e1f" if r.receiving_state == highlight else "#4477aa"
        ax.plot([r.p_honored_lower, r.p_honored_upper], [i, i], color=c, lw=2)
        ax.plot(r.p_honored, i, "o", color=c, ms=4)
    ax.set_yticks(range(len(states)), [f"{r['name']} ({r.n_state_cases})" for _, r in states.iterrows()], fontsize=7)
    ax.set(xlim=(0, 1), xlabel="P(honoured), mean and interval (transfers used in brackets)",
           title="The same question for every state in the record")
    return fig


def fig_robustness(rows: list[dict]) -> str:
    from ..check.figures import robustness_figure

    return png(robustness_figure(rows, "Robustness to analysts' choices"))


def esc(x) -> str:
    return html.escape(str(x))


def sources_html(text: str) -> str:
    """Each source as a link (labelled by its site) when it is a URL, as text when it is a formal citation."""
    from urllib.parse import urlparse

    parts = [p.strip() for p in str(text).split(";") if p.strip()]
    out = []
    for i, p in enumerate(parts, 1):
        if p.startswith(("http://", "https://")):
            site = urlparse(p).netloc.removeprefix("www.") or p
            out.append(f'[{i}] <a href="{esc(p)}">{esc(site)}</a>')
        else:
            out.append(f"[{i}] <span class='citation'>{esc(p)}</span>")
    return "; ".join(out)


def case_table(cases) -> str:
    """Two rows per case: the coding, then the note and its sources across the full width."""
    head = "".join(f"<th>{h}</th>" for h in ("case", "year", "from", "case type", "promised", "monitoring",
                                              "outcome", "evidence"))
    body = []
    for c in cases.itertuples():
        body.append(f"<tr class='case'><td>{esc(c.case_id)}<br><span class='small'>{esc(c.person)}</span></td>"
                    f"<td>{esc(c.year)}</td><td>{esc(c.sending_state)}</td><td>{esc(c.case_type)}</td>"
                    f"<td>{esc(str(c.assurance_types).replace(';', ', '))}</td><td>{esc(c.monitoring)}</td>"
                    f"<td><strong>{esc(c.outcome_detail)}</strong></td><td>{esc(c.evidence_strength)}</td></tr>")
        body.append(f"<tr class='case-detail'><td colspan='8'>{esc(c.notes)}<br><span class='small'>Sources: "
                    f"{sources_html(c.sources)}</span></td></tr>")
    return f"<table class='cases'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def table(headers: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td class='num'>{c}</td>" if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, sections: list[tuple[str, str, str]], data: dict) -> str:
    body = "\n".join(f"<section id='{sid}'><h2>{esc(h)}</h2>\n{content}\n</section>" for sid, h, content in sections)
    blob = json.dumps(data).replace("</", "<\\/")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{esc(title)}</title>"
            f"<style>{CSS}</style></head><body><h1>{esc(title)}</h1>\n{body}\n"
            f"<script type='application/json' id='assurisk-report-data'>{blob}</script></body></html>")
