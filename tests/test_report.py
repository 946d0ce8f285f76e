"""The expert-witness report as a court document (issue 12) and its security (issue 11).

Most tests use quick reports (no refits, a few seconds each); one module-scoped full report runs the
robustness refits once. The Chromium tests render the page (layout on A4) and print it to PDF.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

import assurisk
from assurisk import AssuriskError, InputError
from assurisk.fit import Fit
from assurisk.report import SECTION_IDS, build_report, render, sources

from conftest import ROOT, run_cli

Q = dict(state="CHN", case_type="ordinary", year=2022)
STAGING = Path("/work/staging")


# --- helpers ------------------------------------------------------------------------------------
def report_data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="assurisk-report-data">(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


def resolve(data, path: str):
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


FMT = {  # written out again here, independently of render.FORMATS
    "f2": lambda v: f"{v:.2f}", "f3": lambda v: f"{v:.3f}", "f1": lambda v: f"{v:.1f}",
    "s2": lambda v: f"{v:+.2f}".replace("-", "\u2212"), "pct": lambda v: f"{v * 100:.0f}%",
    "pct1": lambda v: f"{v * 100:.1f}%", "int": lambda v: str(int(round(v))), "g": lambda v: f"{v:g}",
}
LITERALS = {"sha256"}  # names with digits in them, not numbers
VOID = {"img", "br", "meta", "col", "hr", "input", "link", "wbr"}


class Walk(HTMLParser):
    """Every piece of text with the tracked span (number, string, numbering) it sits in, if any."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.numbers, self.strings, self.stray, self.pn = [], [], [], [], []
        self.tags, self.intervals, self.section = [], [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "section":
            self.section = a.get("id")
        if tag in VOID:
            return
        cls = set((a.get("class") or "").split())
        entry = {"tag": tag, "cls": cls, "attrs": a, "text": "", "section": self.section}
        self.stack.append(entry)
        if tag == "span" and "iv" in cls:
            self.intervals.append(entry)
            entry["parts"] = []

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        while self.stack:
            e = self.stack.pop()
            if e["tag"] == tag:
                break
        if e["tag"] == "span" and "n" in e["cls"]:
            self.numbers.append((e["attrs"]["data-k"], e["attrs"]["data-f"], e["text"], e["section"]))
            for iv in reversed(self.stack):
                if "parts" in iv:
                    iv["parts"].append(e["attrs"]["data-k"])
                    break
        elif e["tag"] == "span" and "s" in e["cls"]:
            self.strings.append((e["attrs"]["data-k"], e["text"]))
        elif "pn" in e["cls"]:
            self.pn.append(e["text"])

    def handle_data(self, data):
        for e in reversed(self.stack):
            if e["tag"] in ("script", "style", "title"):
                return
            if "lit" in e["cls"]:
                assert data.strip() in LITERALS, data
                return
            if (e["tag"] == "span" and ({"n", "s"} & e["cls"])) or "pn" in e["cls"]:
                e["text"] += data
                return
        if re.search(r"\d", data):
            self.stray.append((self.section, data.strip()[:80]))


def walk(html: str) -> Walk:
    w = Walk()
    w.feed(html)
    return w


def check_numbers(html: str) -> dict:
    """Every number in the text is a tagged span whose text is its facts value, formatted; nothing else has digits."""
    data = report_data(html)
    w = walk(html)
    assert w.numbers, "no tagged numbers at all"
    for path, fmt, text, _ in w.numbers:
        assert text == FMT[fmt](resolve(data, path)), (path, fmt, text)
    for path, text in w.strings:
        assert text == str(resolve(data, path)), (path, text)
    assert not w.stray, w.stray[:10]  # digits outside tagged numbers, strings and numbering
    for iv in w.intervals:  # an interval's label, lower and upper come from one object
        parent = iv["attrs"]["data-k"].rsplit(".", 1)[0]
        assert iv["parts"] and all(p.rsplit(".", 1)[0] == parent for p in iv["parts"]), iv["parts"]
    return data


def section_text(html: str, sid: str) -> str:
    m = re.search(rf'<section id="{sid}"[^>]*>(.*?)</section>', html, re.S)
    assert m, sid
    text = re.sub(r"<img[^>]*>", "", m.group(1))
    text = re.sub(r"</?(?:span|a|strong|em|small|code)\b[^>]*>", "", text)  # inline: no space
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)))


def browser():
    b = shutil.which("chromium") or shutil.which("chromium-browser")
    if b is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: scripts/test.sh should install it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return b


class TableFit(Fit):
    """The bundled posterior presented as a fit of another case table (same draws, other sha256 and metadata)."""


def fit_for(bundled, table_path: Path, **meta_changes) -> Fit:
    meta = json.loads(json.dumps(bundled.meta))
    meta["data"]["sha256"] = hashlib.sha256(table_path.read_bytes()).hexdigest()
    for path, value in meta_changes.items():
        d = meta
        keys = path.split("__")
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value
    return TableFit(bundled.draws, meta, prior=bundled.prior)


# --- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def quick(bundled):
    return build_report(bundled, **Q, quick=True)


@pytest.fixture(scope="module")
def full(bundled):
    return build_report(bundled, **Q)  # the robustness refits: one compile, about a dozen re-runs


@pytest.fixture(scope="module")
def norway(bundled):
    return build_report(bundled, "NOR", "ordinary", quick=True)


# --- 1. page 1 tells the truth about the evidence -----------------------------------------------
def test_numbers_equal_score(bundled, quick):
    data = report_data(quick)
    s = bundled.score({"receiving_state": "CHN", "case_type": "ordinary", "year": 2022}).iloc[0]
    a = data["answer"]
    for k, col in (("p_honored", "p_honored"), ("lower", "p_honored_lower"), ("upper", "p_honored_upper"),
                   ("p_breach", "p_breach"), ("p_breach_unreported", "p_breach_unreported"),
                   ("p_honored_prior", "p_honored_prior")):
        assert a[k] == pytest.approx(float(s[col]), rel=1e-12), k
    assert a["prior_dominated"] is bool(s.prior_dominated) and a["n_state_cases"] == s.n_state_cases


def _record_counts(state, case_type, groups):
    """Transfers in data/cases.csv of this state and case type whose promise has one of ``groups``, by outcome."""
    cases = pd.read_csv(ROOT / "data" / "cases.csv", dtype=str, keep_default_na=False)
    c = cases[(cases.transferred == "yes") & (cases.case_type == case_type)]
    if state is not None:
        c = c[c.receiving_state == state]
    has = c.assurance_types.map(lambda t: bool(set(t.split(";")) & set(groups)))
    return c[has].outcome.value_counts().to_dict(), int(has.sum())


def test_page_one_says_what_direct_evidence_there_is_and_gives_the_prior(quick):
    data = report_data(quick)
    page1 = section_text(quick, "summary")
    by, n = _record_counts("CHN", "ordinary", {"torture", "detention_conditions"})
    ev = data["evidence"]
    assert ev["direct"] == n
    assert ev["direct_counts"]["honoured"] == by.get("honored", 0) and ev["direct_counts"]["breached"] == by.get("breached", 0)
    if by.get("honored", 0) + by.get("breached", 0) == 0:  # the record holds no ordinary torture-promise outcome for China
        assert "there is no direct evidence for this question" in page1
        assert "by way of other cases" in page1
    prior = data["answer"]["prior"]
    assert f"the model put it at {prior['mean']:.2f}" in page1
    # the nearest evidence: China's ordinary and high-profile transfers and every state's ordinary ones, by promise
    groups = [g["label"] for g in ev["table"]["groups"]]
    assert groups == ["China, ordinary", "China, high-profile", "all states, ordinary"]
    rows = {r["item"]: r["cells"] for r in ev["table"]["rows"]}
    for k, (state, ct) in enumerate((("CHN", "ordinary"), ("CHN", "high_profile"), (None, "ordinary"))):
        by, n = _record_counts(state, ct, {"death_penalty"})
        assert rows["death_penalty"][k]["transfers"] == n, (state, ct)
        assert rows["death_penalty"][k]["honoured"] == by.get("honored", 0), (state, ct)
    c = data["contrast"]
    assert f"before seeing the record the model put it at {c['p_ordinary_better_prior']:.2f}" in page1
    assert "Not run: this is a quick report" in page1


def test_prior_dominated_cell_is_said_in_plain_words(bundled):
    class PriorOnly(Fit):
        def score(self, table, interval=0.9):
            out = super().score(table, interval)
            out["prior_dominated"] = pd.array([True] * len(out), dtype="boolean")
            out["prior_contraction"] = 0.125  # columns the revised model may add
            out["n_direct"] = 0
            return out

    html = build_report(PriorOnly(bundled.draws, bundled.meta, prior=bundled.prior), **Q, quick=True)
    page1 = section_text(html, "summary")
    prior = report_data(html)["answer"]["prior"]["mean"]
    assert "This figure rests on the prior, not on the record" in page1
    assert f"already put it at {prior:.2f}" in page1
    assert "narrows the prior's uncertainty about this figure by 12%" in page1  # 0.125 printed as a percentage
    assert report_data(html)["answer"]["n_direct"] == 0
    check_numbers(html)


def test_unseen_state_page_one(norway):
    page1 = section_text(norway, "summary")
    assert "The record holds no assurance given by Norway" in page1 and "not a finding about Norway" in page1
    legal = section_text(norway, "legal")
    assert "Norway is a party to the European Convention on Human Rights" in legal
    assert "The record holds no transfer to Norway" in legal
    # The record widens this cell (contraction below 0): said in words, never "narrows ... by -17%".
    answer = report_data(norway)["answer"]
    if answer["prior_contraction"] < 0:
        assert "does not narrow the prior's uncertainty" in page1 and "by -" not in page1
    else:
        assert "narrows the prior's uncertainty" in page1
    # "about N in ten" agrees with the printed two-decimal probability, rounded half up.
    shown = float(f"{answer['p_breach_unreported']:.2f}")
    assert f"about {int(shown * 10 + 0.5 + 1e-9)} in ten" in page1
    check_numbers(norway)


# --- 2. sensitivity by default ------------------------------------------------------------------
def test_full_report_has_robustness_rows_with_convergence(full):
    data = report_data(full)
    sens = data["sensitivity"]
    assert sens["run"] and not sens["quick"]
    names = [r["alternative"] for r in sens["rows"]]
    for needle in ("partly breached", "detection:", "verification:", "case-type effect", "item effect",
                   "covariate", "face value", "China's own rows"):
        assert any(needle in n for n in names), needle
    assert not any(n.startswith("without ") for n in names)  # curated: not every state left out
    for r in sens["rows"]:
        assert isinstance(r["converged"], bool) and isinstance(r["divergences"], int)
        assert 0 <= r["lower"] <= r["p_honored"] <= r["upper"] <= 1 and r["level"] == 0.9
    table = section_text(full, "sensitivity")
    assert "divergences" in table and "converged" in table
    page1 = section_text(full, "summary")
    assert f"ranges from {sens['min']:.2f}" in page1 and f"to {sens['max']:.2f}" in page1
    check_numbers(full)


def test_prior_as_data_model_has_the_same_log_density(bundled):
    """The refits' one compiled model, given another prior's numbers as data, equals a model built for that prior."""
    from dataclasses import replace

    import pymc as pm

    from assurisk.check import replay
    from assurisk.model import prior_data

    spec = replay.spec_from_fit(bundled)
    alt = replace(spec.priors, high_profile_sigma=2.0, assurance_sigma=0.75,
                  detection={k: (a + 1, b) for k, (a, b) in spec.priors.detection.items()})
    shared = spec.build()
    with shared:
        pm.set_data(prior_data(alt))
    const = replace(spec, priors=alt).build()
    point = const.initial_point()
    assert shared.compile_logp()(point) == pytest.approx(const.compile_logp()(point), rel=1e-9)
    assert spec.key() == replace(spec, priors=alt).key()  # so the refits share one compile
    assert spec.build().compile_logp()(point) != pytest.approx(const.compile_logp()(point), rel=1e-6)


def test_quick_report_says_it_skipped_the_refits(quick):
    assert report_data(quick)["sensitivity"] == {"run": False, "quick": True}
    assert "Not run: quick report" in section_text(quick, "sensitivity")


# --- 3. one source for every number -------------------------------------------------------------
def test_every_number_in_the_text_comes_from_the_facts(quick):
    check_numbers(quick)


def test_interval_label_follows_the_interval(bundled):
    html = build_report(bundled, **Q, quick=True, interval=0.5)
    data = check_numbers(html)
    assert data["answer"]["level"] == 0.5 and data["contrast"]["difference"]["level"] == 0.5
    for sid in ("summary", "question", "record", "case-types", "sensitivity", "states", "legal"):
        assert "90%" not in section_text(html, sid), sid
    assert "50% interval" in section_text(html, "summary")


def test_printed_difference_is_the_difference_of_printed_numbers(quick):
    data = report_data(quick)
    c = data["contrast"]
    text = section_text(quick, "case-types")
    o, h = f"{c['ordinary']:.2f}", f"{c['high_profile']:.2f}"
    d = FMT["s2"](float(o) - float(h))
    assert f"ordinary cases {o}, high-profile cases {h}. The difference of the two printed figures is {d}" in text
    assert c["ordinary"] == data["answer"]["p_honored"]  # the asked case type: the answer's own number


# --- 4. limitations and disclosure --------------------------------------------------------------
def test_disclosure_of_coding_and_agreement(quick):
    from assurisk.dataset import agreement_table

    text = section_text(quick, "limitations")
    assert "AI research assistants working from stored copies of public documents" in text
    assert "third reading" in text
    data = report_data(quick)
    assert data["coding"]["computed"]
    dc = pd.read_csv(ROOT / "data" / "double_check.csv", dtype=str, keep_default_na=False)
    expected = agreement_table(dc)
    got = data["coding"]["stats"]
    assert [(s["column"], s["n"]) for s in got] == [(e["column"], e["n"]) for e in expected]
    for s, e in zip(got, expected):
        assert s["kappa"] == pytest.approx(e["kappa"], abs=1e-12) and s["agreement"] == pytest.approx(e["agreement"], abs=1e-12)
    assert "monitoring is assumed not to deter breaches" in text and "Selection into the public record" in text
    assert "No deterrence is assumed" in section_text(quick, "model")
    # a China row whose two readings disagreed on the outcome is shown under its case, with its resolution
    chn = dc[dc.case_id.str.startswith("chn-") & (dc.pass1_outcome_detail != dc.pass2_outcome_detail)]
    record = section_text(quick, "record")
    if len(chn):
        r = chn.iloc[0]
        case = next(c for c in data["record"]["cases"] if c["case_id"] == r.case_id)
        assert case["double_check"]["disagreements"]
        assert any(d["column"] == "outcome" for d in case["double_check"]["disagreements"])
        assert r.resolution[:40] in record

def test_official_links_by_rule():
    hudoc = sources.official_links("Othman (Abu Qatada) v. United Kingdom, no. 8139/09, ECtHR 17 January 2012")
    assert hudoc == [{"label": "HUDOC 8139/09",
                      "url": "https://hudoc.echr.coe.int/eng#%7B%22appno%22%3A%5B%228139%2F09%22%5D%7D"}]
    two = sources.official_links("Mamatkulov and Askarov v. Turkey, nos. 46827/99 and 46951/99, ECtHR Grand Chamber")
    assert [x["label"] for x in two] == ["HUDOC 46827/99", "HUDOC 46951/99"]
    assert sources.official_links("Léon Mugesera v. Rwanda, African Court, Application 012/2017") == []
    ew = sources.official_links("Brown (aka Bajinya) v. Government of Rwanda [2009] EWHC 770 (Admin)")
    assert [x["url"] for x in ew] == ["https://www.bailii.org/ew/cases/EWHC/Admin/2009/770.html",
                                      "https://caselaw.nationalarchives.gov.uk/ewhc/admin/2009/770"]
    ca = sources.official_links("AS and DD (Libya) v SSHD [2008] EWCA Civ 289")
    assert ca[0]["url"] == "https://www.bailii.org/ew/cases/EWCA/Civ/2008/289.html"
    siac = sources.official_links("BB v SSHD [2006] UKSIAC 39/2005")
    assert siac[0]["url"] == "https://www.bailii.org/uk/cases/SIAC/2006/39_2005.html"
    nz = sources.official_links("Minister of Justice v Kim (No 2) [2022] NZSC 44")
    assert nz == [{"label": "NZLII", "url": "https://www.nzlii.org/nz/cases/NZSC/2022/44.html"}]
    nl = sources.official_links("District Court of The Hague, ECLI:NL:RBDHA:2022:12271")
    assert nl[0]["url"] == "https://uitspraken.rechtspraak.nl/inziendocument?id=ECLI:NL:RBDHA:2022:12271"
    un = sources.official_links("Agiza v. Sweden, CAT/C/34/D/233/2003 (2005)")
    assert un[0]["url"].startswith("https://tbinternet.ohchr.org/") and "CAT%2FC%2F34%2FD%2F233%2F2003" in un[0]["url"]
    assert sources.official_links("Alzery v. Sweden, CCPR/C/88/D/1416/2005")[0]["label"].endswith("CCPR/C/88/D/1416/2005")


def test_weak_sources_https_and_archive_copies():
    weak = sources.weak_reason
    assert weak("http://standoffattiananmen.blogspot.com/2017/x.html") == "blog"
    assert weak("https://someone.wordpress.com/post") == "blog"
    assert weak("https://en.wikipedia.org/wiki/X") == "wiki"
    assert weak("https://wikileaks.org/plusd/cables/06CAIRO1.html") == "leaked cable"
    assert weak("https://laodanwei.org/wp/front-page") == "blog"
    assert weak("https://www.yumpu.com/en/document/view/1") == "document mirror"
    assert weak("https://www.bailii.org/uk/cases/SIAC/2006/39_2005.html") is None
    assert weak("https://www.hrw.org/report/2005") is None
    assert sources.prefer_https("http://www.scmp.com/article/1") == "https://www.scmp.com/article/1"
    assert sources.prefer_https("http://example.net/x") == "http://example.net/x"
    arch = sources.archive_info("https://web.archive.org/web/20150102030405/http://www.example.org/page")
    assert arch == {"original": "http://www.example.org/page", "captured": "2015-01-02"}
    for bad in ("javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", "/relative", "http://", "ftp://x.org/",
                'https://x.org/"><script>'):
        assert sources.safe_url(bad) is None, bad


def test_references_printed_in_full_and_linked(quick):
    data = report_data(quick)
    refs = data["references"]
    cases = pd.read_csv(ROOT / "data" / "cases.csv", dtype=str, keep_default_na=False)
    listed = section_text(quick, "references")
    for src in (p.strip() for s in cases[cases.receiving_state == "CHN"].sources for p in s.split(";") if p.strip()):
        if src.startswith("http"):
            shown = sources.prefer_https(src)
            assert shown.replace("&", "&amp;") in quick and shown in listed.replace("&amp;", "&"), src
    liu = next(r for r in refs if r["text"].startswith("Liu v. Poland"))
    assert liu["official"][0]["url"].startswith("https://hudoc.echr.coe.int/")
    # every case row points at numbered references that exist
    for case in data["record"]["cases"]:
        assert case["sources"] and all(1 <= n <= len(refs) for n in case["sources"])
        for n in case["sources"]:
            assert f'href="#ref-{n}"' in quick
    assert any(r["weak"] for r in refs)  # the record cites blogs; they are marked


# --- 6. the legal frame -------------------------------------------------------------------------
def test_othman_factors_complete_and_checked_against_the_staged_text(quick):
    from assurisk.report import legal

    numerals = [f[0] for f in legal.OTHMAN_FACTORS]
    assert numerals == ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi"]
    assert [c[0] for c in legal.BB_CONDITIONS] == ["i", "ii", "iii", "iv"]
    for n in numerals:
        assert f'id="othman-{n}"' in quick
    text = section_text(quick, "legal")
    assert "8139/09" in text and "[2006] UKSIAC 39/2005" in text and "China is not a party" in text
    assert "paragraph number could not be verified" in text
    staged = STAGING / "othman_189.md"
    if staged.is_file():  # key words of each factor as the retrieved sources give them
        raw = staged.read_text().lower()
        keys = ["disclosed", "specific", "bind", "local authorities", "lawful or unlawful", "contracting state",
                "bilateral relations", "objectively verified", "effective system of protection", "ill-treated",
                "domestic courts"]
        for (num, factor, *_), key in zip(legal.OTHMAN_FACTORS, keys):
            assert key.split()[0] in raw, key
            assert key.split()[0].replace("lawful", "legal") in factor.lower() or key.split()[0] in factor.lower(), (num, key)
    bb = STAGING / "siac_bb_conditions.md"
    if bb.is_file():
        raw = bb.read_text().lower()
        assert "39_2005.html" in raw and all(w in raw for w in ("good faith", "objective basis", "verif"))


# --- 7. court form ------------------------------------------------------------------------------
def test_court_form(quick):
    data = report_data(quick)
    positions = [quick.find(f'<section id="{sid}"') for sid in SECTION_IDS]
    assert all(p > 0 for p in positions) and positions == sorted(positions)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["date"]) and f"Report dated {data['date']}" in re.sub(r"<[^>]+>", "", quick)
    ids = [int(n) for n in re.findall(r'<p id="para-(\d+)" class="para', quick)]
    assert ids == list(range(1, len(ids) + 1)) and len(ids) > 20
    for n in ids:
        assert f'<a class="pn" href="#para-{n}">{n}</a>' in quick
    assert "@page" in quick and "counter(page)" in quick and "@top-left" in quick
    assert "size: A4" in quick
    assert len(data["glossary"]) >= 10 and '<dl class="glossary">' in quick
    decl = section_text(quick, "declaration")
    assert "does not sign" in decl and "Signature" in decl and "Statement of truth" in decl
    visible = re.sub(r'<span class="(?:s|mono)"[^>]*>.*?</span>', "", re.sub(r"<(script|style)[^>]*>.*?</\1>", "", quick, flags=re.S))
    visible = re.sub(r"<[^>]+>", " ", visible)
    for code in ("high_profile", "partly_breached", "public_record", "not_transferred", "case_specific"):
        assert code not in visible, code  # plain words, never codes (identifiers and column names aside)


def test_footer_identifies_the_software_data_and_fit(bundled, quick):
    footer = re.search(r'<footer class="ids">(.*?)</footer>', quick, re.S).group(1)
    for v in (assurisk.__version__, bundled.meta["model_id"], bundled.meta["data"]["sha256"],
              str(bundled.meta["sampler"]["seed"])):
        assert v in footer
    assert bundled.meta["data"]["sha256"] in re.search(r"@bottom-left \{ content: ([^;]*);", quick).group(1).replace("\\", "")


def test_forest_plot_labels_states_by_name_and_count(bundled, quick):
    states = report_data(quick)["states"]
    fig = render.forest_figure(states, "CHN", 0.9)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert f"China ({bundled.state_counts['CHN']})" in labels and len(labels) == len(bundled.draws.states)
    assert [s["p_honored"] for s in states] == sorted(s["p_honored"] for s in states)
    assert "90% interval" in fig.axes[0].get_xlabel()


def test_a4_layout_in_chromium(quick, tmp_path):
    """In A4 width: no text overflows its table cell, no cells overlap, page 1 fits one page and is not half empty."""
    b = browser()
    probe = """<div id="mm" style="width:100mm"></div><script>
    (function () {
      const res = {overflow: [], overlap: [], wide: []};
      const body = document.body.getBoundingClientRect();
      document.querySelectorAll('td, th').forEach(el => {
        if (el.scrollWidth > el.clientWidth + 1) res.overflow.push(el.textContent.trim().slice(0, 60));
      });
      document.querySelectorAll('tr').forEach(tr => {
        const c = [...tr.children].map(x => x.getBoundingClientRect());
        for (let i = 1; i < c.length; i++) if (c[i - 1].right > c[i].left + 1) res.overlap.push(tr.textContent.slice(0, 60));
      });
      document.querySelectorAll('table, figure, p, ol, dl').forEach(el => {
        if (el.getBoundingClientRect().right > body.right + 1) res.wide.push(el.tagName + ' ' + el.textContent.slice(0, 40));
      });
      const top = document.querySelector('header.doc').getBoundingClientRect().top;
      res.page1 = document.getElementById('summary').getBoundingClientRect().bottom - top;
      res.mm = document.getElementById('mm').getBoundingClientRect().width / 100;
      res.bodyWidth = body.width;
      document.body.setAttribute('data-layout', JSON.stringify(res));
    })();
    </script>"""
    page = tmp_path / "layout.html"
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", quick)  # let the probe run
    page.write_text(html.replace("</body>", probe + "</body>"), encoding="utf-8")
    r = subprocess.run([b, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'p'}",
                        "--window-size=794,1123", "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                       capture_output=True, text=True, timeout=120)
    m = re.search(r"data-layout=\"([^\"]*)\"", r.stdout)
    assert m, r.stderr[-500:]
    res = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert res["bodyWidth"] == pytest.approx(182 * res["mm"], rel=0.01)  # A4 less 14 mm margins
    assert not res["overflow"] and not res["overlap"] and not res["wide"], res
    page_height = (297 - 2 * 17) * res["mm"]
    assert 0.6 * page_height < res["page1"] <= page_height, (res["page1"], page_height)


# --- 8. PDF, overwriting, Chromium missing --------------------------------------------------------
def test_pdf_has_the_same_content_and_refuses_to_overwrite(bundled, tmp_path):
    browser()
    import pypdf

    out = tmp_path / "report.pdf"
    html = build_report(bundled, **Q, quick=True, out=out)
    assert out.read_bytes()[:5] == b"%PDF-"
    pdf = pypdf.PdfReader(out)
    pages = [p.extract_text() for p in pdf.pages]
    data = report_data(html)
    assert len(pages) > 3 and f"Page 1 of {len(pages)}" in pages[0]
    assert f"{data['answer']['p_honored']:.2f}" in pages[0] and "No number replaces judgement" in pages[0]
    assert "The question as asked" in pages[1]  # page 1 is the summary alone, not cut
    assert data["ids"]["model_id"] in pages[-1] and "does not sign" in "".join(pages)
    with pytest.raises(AssuriskError, match="already exists"):
        build_report(bundled, **Q, quick=True, out=out)
    build_report(bundled, **Q, quick=True, out=out, force=True)
    assert out.read_bytes()[:5] == b"%PDF-"
    assert not list(tmp_path.glob(".report.pdf.*"))  # no temporary left behind


def test_pdf_without_chromium_fails_clearly(bundled, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSURISK_CHROMIUM", str(tmp_path / "no-such-browser"))
    with pytest.raises(AssuriskError, match="not an executable"):
        build_report(bundled, **Q, quick=True, out=tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()
    env = dict(os.environ, ASSURISK_CHROMIUM=str(tmp_path / "no-such-browser"))
    r = subprocess.run([os.sys.executable, "-m", "assurisk.cli", "report", "--state", "CHN", "--case-type", "ordinary",
                        "--quick", "--out", str(tmp_path / "r.pdf")], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 2 and "Chromium" in r.stderr, r.stderr


def test_cli_report(tmp_path):
    out = tmp_path / "r.html"
    r = run_cli("report", "--state", "EGY", "--case-type", "high_profile", "--quick", "--out", out)
    assert r.returncode == 0, r.stderr
    assert "Egypt" in out.read_text() and "quick" in r.stdout
    again = run_cli("report", "--state", "EGY", "--case-type", "high_profile", "--quick", "--out", out)
    assert again.returncode == 2 and "--force" in again.stderr
    assert run_cli("report", "--state", "EGY", "--case-type", "high_profile", "--quick", "--force", "--out", out).returncode == 0
    bad = run_cli("report", "--state", "XXX", "--case-type", "ordinary", "--out", tmp_path / "bad.html")
    assert bad.returncode == 2 and "'XXX'" in bad.stderr and not (tmp_path / "bad.html").exists()


# --- 9. licence and citation --------------------------------------------------------------------
def test_license_and_citation_files():
    lic = (ROOT / "LICENSE").read_text()
    assert "MIT License" in lic and "data/README.md" in lic
    cff = (ROOT / "CITATION.cff").read_text()
    assert "cff-version:" in cff and f"version: {assurisk.__version__}" in cff


# --- any valid case table; v2 columns when present -------------------------------------------------
def test_report_from_a_table_with_only_the_contract_columns(bundled, tmp_path):
    cases = pd.read_csv(ROOT / "data" / "cases.csv", dtype=str, keep_default_na=False)
    t = cases[cases.transferred == "yes"][["receiving_state", "case_type", "outcome"]]
    path = tmp_path / "minimal.csv"
    t.to_csv(path, index=False)
    html = build_report(fit_for(bundled, path), **Q, cases=path, quick=True)
    data = check_numbers(html)
    assert data["record"]["available"] and data["evidence"]["n_transfers"] == len(t)
    assert "This case table has no judgement-call column" in section_text(html, "limitations")
    assert "The case table does not record the form" in section_text(html, "legal")
    assert data["coding"]["computed"] is False  # no double_check.csv beside it: the codebook's printed figures


def test_report_uses_v2_columns(bundled, tmp_path):
    cases = pd.read_csv(ROOT / "data" / "cases.csv", dtype=str, keep_default_na=False)
    for col in ("formality", "promise_context", "item_outcomes", "breach_gravity", "citations", "accessed",
                "judgement_call", "case_type_criteria"):
        cases[col] = ""
    i = cases.index[cases.case_id == "chn-can-lai-2011"][0]
    cases.loc[i, ["formality", "promise_context", "judgement_call", "accessed", "citations"]] = [
        "diplomatic_note", "transfer_condition", "Coded high-profile because of the state's declared interest.",
        "2026-12-03", "Othman (Abu Qatada) v. United Kingdom, no. 8139/09, ECtHR; [2009] EWHC 770 (Admin)"]
    cases.loc[i, "item_outcomes"] = "death_penalty=kept;torture=unknown;fair_trial=unknown;consular_access=unknown"
    j = cases.index[cases.case_id == "chn-swe-gui-2018"][0]
    cases.loc[j, ["breach_gravity", "item_outcomes", "sources"]] = [
        "grave", "consular_access=broken;other=unknown",
        cases.loc[j, "sources"] + "; https://web.archive.org/web/20200101000000/https://www.example.org/gui"]
    path = tmp_path / "v2.csv"
    cases.to_csv(path, index=False)
    dc = pd.read_csv(ROOT / "data" / "double_check.csv", dtype=str, keep_default_na=False)
    dc["pass1_case_type"] = dc["pass2_case_type"] = cases.set_index("case_id").loc[dc.case_id, "case_type"].to_numpy()
    dc.loc[dc.case_id == "chn-can-lai-2011", "pass2_case_type"] = "ordinary"
    dc.to_csv(tmp_path / "double_check.csv", index=False)
    html = build_report(fit_for(bundled, path), **Q, cases=path, quick=True)
    data = check_numbers(html)
    record = section_text(html, "record")
    assert "diplomatic note" in record and "given to obtain this transfer" in record
    assert "Judgement call: Coded high-profile" in record and "grave" in record
    assert "consular access: broken" in record
    refs = section_text(html, "references")
    assert "Accessed 2026-12-03" in refs and "archive copy of" in refs and "captured 2020-01-01" in refs
    assert "https://www.bailii.org/ew/cases/EWHC/Admin/2009/770.html" in refs and "hudoc.echr.coe.int" in refs
    stats = {s["column"]: s for s in data["coding"]["stats"]}
    assert "case_type" in stats and stats["case_type"]["agreement"] < 1
    assert "case type: first reading \u201chigh-profile\u201d, second reading \u201cordinary\u201d" in record
    assert data["record"]["n_judgement_calls"] == 1


# --- security: hostile content everywhere ---------------------------------------------------------
HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def test_hostile_content_is_escaped_everywhere(bundled, tmp_path):
    cases = pd.read_csv(ROOT / "data" / "cases.csv", dtype=str, keep_default_na=False)
    chn = cases.receiving_state == "CHN"
    cases.loc[chn, "notes"] = "note </script><script>alert(3)</script> & 'quotes' \"double\""
    cases.loc[chn, "person"] = HOSTILE
    cases.loc[chn, "case_id"] = [f"chn-{k}-<b>bold</b>" for k in range(int(chn.sum()))]
    cases.loc[chn, "sources"] = ("javascript:alert(4); https://example.org/\"><script>alert(5)</script>; "
                                 "data:text/html,<script>alert(6)</script>; https://ok.example.org/page?a=1&b=2")
    cases["judgement_call"] = ""
    cases.loc[chn, "judgement_call"] = HOSTILE
    path = tmp_path / "hostile.csv"
    cases.to_csv(path, index=False)
    fit = fit_for(bundled, path, sampler__name=HOSTILE, model_id="</style><script>alert(7)</script>",
                  created=HOSTILE, versions={HOSTILE: HOSTILE})
    check = tmp_path / "check"
    check.mkdir()
    (check / "summary.json").write_text(json.dumps({
        "sbc": {"n_sims": 3, "passed": True, "params": {HOSTILE: {"chi2_p": 0.5}}},
        "predictive": {"scores": {"</script><script>alert(8)</script>": {"log_score": -0.5}}},
        "robustness": {"question": {"receiving_state": HOSTILE, "case_type": "ordinary"},
                       "rows": [{"alternative": "javascript:alert(9)", "p_honored": 0.3, "lower": 0.1, "upper": 0.6}]},
        "fit": {"model_id": HOSTILE}}))
    html = build_report(fit, **Q, cases=path, check=check, quick=True)
    w = walk(html)
    scripts = [a for t, a in w.tags if t == "script"]
    assert scripts == [{"type": "application/json", "id": "assurisk-report-data"}]
    for tag, attrs in w.tags:
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        for k in ("href", "src"):
            v = attrs.get(k)
            if v is not None:
                assert v.startswith(("#", "https://", "http://", "data:image/png;base64,")), (tag, v)
                assert "javascript:" not in v.lower() and "<" not in v and '"' not in v
    for needle in ("<script>alert", "<img src=x", "</style><script>", "<b>bold</b>"):
        assert needle not in html, needle
    data = report_data(html)  # the embedded JSON still holds the hostile text, verbatim and inert
    assert data["ids"]["model_id"] == "</style><script>alert(7)</script>"
    assert data["diagnostics"]["sampler"] == HOSTILE and data["check"]["sbc"]["params"][0]["name"] == HOSTILE
    refs = {r["text"]: r for r in data["references"]}
    assert refs["javascript:alert(4)"]["url"] is None and refs["https://ok.example.org/page?a=1&b=2"]["url"]
    assert 'href="https://ok.example.org/page?a=1&amp;b=2"' in html
    check_numbers(html)


def test_malformed_check_folder_fails_before_any_refit(bundled, tmp_path, monkeypatch):
    from assurisk.report import robust

    def boom(*a, **k):
        raise AssertionError("refits started before the check folder was validated")

    monkeypatch.setattr(robust, "robustness", boom)
    with pytest.raises(InputError, match="no summary.json"):
        build_report(bundled, **Q, check=tmp_path)
    (tmp_path / "summary.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        build_report(bundled, **Q, check=tmp_path)
    (tmp_path / "summary.json").write_text(json.dumps({"sbc": {"n_sims": "many", "params": {}}}))
    with pytest.raises(InputError, match="sbc.n_sims must be a number"):
        build_report(bundled, **Q, check=tmp_path)
    (tmp_path / "summary.json").write_text(json.dumps([1, 2]))
    with pytest.raises(InputError, match="JSON object"):
        build_report(bundled, **Q, check=tmp_path)
    r = run_cli("report", "--state", "CHN", "--case-type", "ordinary", "--check", tmp_path, "--out", tmp_path / "r.html")
    assert r.returncode == 2 and "JSON object" in r.stderr and not (tmp_path / "r.html").exists()


def test_check_results_are_included_when_given(bundled, tmp_path):
    summary = {"sbc": {"n_sims": 3, "passed": True, "params": {"intercept": {"chi2_p": 0.5}}},
               "coverage": {"levels": {"0.9": {"coverage": 0.88}}},
               "robustness": {"question": {"receiving_state": "CHN", "case_type": "ordinary"},
                              "rows": [{"alternative": "as fitted", "p_honored": 0.3, "lower": 0.1, "upper": 0.6}]}}
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    html = build_report(bundled, **Q, check=tmp_path, quick=True)
    text = section_text(html, "validation")
    assert "Simulation-based calibration, 3 simulated data sets" in text and "88.0% of the time" in text
    assert "does not record whether its refits converged" in text  # an old summary: said, not hidden
    check_numbers(html)


def test_check_refits_convergence_is_shown_beside_calibration(bundled, tmp_path):
    summary = {"sbc": {"n_sims": 4, "passed": True, "params": {"intercept": {"chi2_p": 0.5}},
                       "divergent_fits": 1, "unconverged_fits": 3},
               "coverage": {"n_sims": 5, "levels": {"0.9": {"coverage": 0.88}}, "divergent_fits": 0, "unconverged_fits": 2}}
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    text = section_text(build_report(bundled, **Q, check=tmp_path, quick=True), "validation")
    assert "1 had divergent transitions, and 3 of 4 miss the convergence thresholds" in text
    assert "0 had divergent transitions, and 2 of 5 miss the convergence thresholds" in text
    (tmp_path / "summary.json").write_text(json.dumps(dict(summary, coverage=dict(summary["coverage"], unconverged_fits=-1))))
    with pytest.raises(InputError, match="unconverged_fits"):
        build_report(bundled, **Q, check=tmp_path, quick=True)


def test_report_without_the_fits_own_case_table(bundled, tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("receiving_state,case_type,outcome\nCHN,ordinary,honored\n")
    html = build_report(bundled, **Q, cases=other)  # not quick, but nothing can be refitted without the table
    data = check_numbers(html)
    assert data["record"]["available"] is False and data["sensitivity"]["run"] is False
    assert "different sha256" in section_text(html, "record")
    assert "nothing could be refitted" in section_text(html, "summary")
    assert "transfer(s) to CHN" in section_text(html, "summary")
