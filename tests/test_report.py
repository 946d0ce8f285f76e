"""The expert-witness report: numbers equal score's, every section present, sources linked, renders in Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from assurisk.report import SECTION_IDS, build_report

from conftest import ROOT, run_cli

Q = dict(state="CHN", case_type="ordinary", year=2022)


def report_data(html: str) -> dict:
    m = re.search(r"<script type='application/json' id='assurisk-report-data'>(.*?)</script>", html, re.S)
    return json.loads(m.group(1).replace("<\\/", "</"))


@pytest.fixture(scope="module")
def html(bundled):
    return build_report(bundled, **Q)  # includes the face-value comparison refit


def test_numbers_equal_score(bundled, html):
    data = report_data(html)
    s = bundled.score({"receiving_state": "CHN", "case_type": "ordinary", "year": 2022}).iloc[0]
    for k in ("p_honored", "p_honored_lower", "p_honored_upper", "p_breach", "p_breach_unreported"):
        assert data[k] == pytest.approx(float(s[k]), rel=1e-12), k
    assert data["n_state_cases"] == s.n_state_cases and data["state_seen"] is True
    assert f"<strong>{s.p_honored:.2f}</strong>" in html
    assert f"{s.p_honored_lower:.2f} to {s.p_honored_upper:.2f}" in html


def test_every_section_present_in_order(html):
    positions = [html.find(f"<section id='{sid}'>") for sid in SECTION_IDS]
    assert all(p > 0 for p in positions), dict(zip(SECTION_IDS, positions))
    assert positions == sorted(positions)
    for needle in ("Othman (Abu Qatada) v. United", "No number replaces judgement", "sha256", "Not run for this report"):
        assert needle in html


def test_every_case_row_links_its_sources(html):
    cases = pd.read_csv(ROOT / "data" / "cases.csv", dtype=str, keep_default_na=False)
    chn = cases[cases.receiving_state == "CHN"]
    assert len(chn) > 0
    for _, c in chn.iterrows():
        assert c.case_id in html
        for src in (p.strip() for p in c.sources.split(";") if p.strip()):
            if src.startswith("http"):
                assert f'href="{src.replace("&", "&amp;")}"' in html, (c.case_id, src)
            else:
                assert src.replace("&", "&amp;") in html, (c.case_id, src)


def test_face_value_comparison_is_reported(html):
    data = report_data(html)
    other = data["other_model"]
    assert other["model"] == "face_value" and 0 <= other["lower"] <= other["p_honored"] <= other["upper"] <= 1
    assert f"{other['p_honored']:.2f}" in html


def test_check_results_are_included_when_given(bundled, tmp_path):
    summary = {"sbc": {"n_sims": 3, "passed": True, "params": {"intercept": {"chi2_p": 0.5}}},
               "coverage": {"levels": {"0.90": {"coverage": 0.88}}},
               "robustness": {"question": {"receiving_state": "CHN", "case_type": "ordinary"},
                              "rows": [{"alternative": "as fitted", "p_honored": 0.3, "lower": 0.1, "upper": 0.6}]}}
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    html = build_report(bundled, "CHN", "ordinary", check=tmp_path, compare_models=False)
    assert "Simulation-based calibration, 3 simulated datasets" in html and "Not run for this report" not in html
    assert "88.0% of the time" in html


def test_unseen_state_report(bundled):
    html = build_report(bundled, "NOR", "high_profile", compare_models=False)
    assert "no transfer in the record" in html
    assert "The record holds no assurance given by Norway" in html


def test_cli_report(tmp_path):
    out = tmp_path / "r.html"
    r = run_cli("report", "--state", "EGY", "--case-type", "high_profile", "--out", out)
    assert r.returncode == 0, r.stderr
    assert "Egypt" in out.read_text()
    bad = run_cli("report", "--state", "XXX", "--case-type", "ordinary", "--out", tmp_path / "bad.html")
    assert bad.returncode == 2 and "'XXX'" in bad.stderr and not (tmp_path / "bad.html").exists()


def test_report_renders_in_headless_chromium(html, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: .ci/run should install it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    shot = tmp_path / "shot.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars", "--window-size=1000,1400",
                    f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120, check=True)
    import matplotlib.image as mpimg

    img = mpimg.imread(shot)[..., :3]
    assert img.shape[0] >= 1000 and img.shape[1] >= 900
    dark = (img.mean(axis=2) < 0.5).mean()
    assert 0.005 < dark < 0.5, dark  # text and figures, not a blank page
    assert np.unique((img * 255).astype(int).reshape(-1, 3), axis=0).shape[0] > 50  # more than a few flat colours


def test_forest_plot_labels_states_by_name_and_count(bundled):
    from assurisk.report import content, render

    states = content.all_states(bundled, {"receiving_state": "CHN", "case_type": "ordinary"}, 0.9)
    fig = render.forest_figure(states, "CHN")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert f"China ({bundled.state_counts['CHN']})" in labels and len(labels) == len(bundled.draws.states)
    assert list(states.p_honored) == sorted(states.p_honored)
