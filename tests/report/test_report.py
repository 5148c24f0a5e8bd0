"""The HTML report: every section from pipeline outputs, hostile corpus text stays text, same bytes twice."""

from __future__ import annotations

import argparse
import configparser
import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd
import pytest

from newsaudit.core.config import load_params
from newsaudit.core.errors import NewsauditError
from newsaudit.report.data import git_provenance, lock_entries
from newsaudit.report.render import (
    DVC_FIGURES,
    render_audit_report,
    render_pipeline_report,
    write_audit_report,
    write_figures,
    write_html,
)
from newsaudit.stages import report as report_stage


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True))


class Structure(HTMLParser):
    """Tags, attributes and visible text of a document, as a browser's parser sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Structure:
    parser = Structure()
    parser.feed(html)
    return parser


def params_of(root: Path) -> dict:
    """The project's parameters, as the report stage reads them."""
    return load_params(root / "params.yaml")


@pytest.fixture(scope="module")
def rendered(project) -> tuple[str, dict[str, str]]:
    return render_pipeline_report(project, params_of(project))


def assert_inert(html: str) -> Structure:
    """No script, no event handler, no resource but data: URIs; hostile strings visible as text."""
    doc = parse(html)
    tags = {tag for tag, _ in doc.tags}
    assert not tags & {"script", "iframe", "object", "embed", "link", "base", "form"}
    for tag, attrs in doc.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        if tag == "img":
            assert attrs["src"].startswith("data:image/svg+xml;base64,"), attrs["src"][:40]
    assert html.count("<table") == html.count("</table>")
    return doc


def test_hostile_corpus_text_is_shown_as_text(rendered, hostile):
    html, _ = rendered
    doc = assert_inert(html)
    text = "".join(doc.text)
    for markup in hostile:
        assert markup in text
    assert "&lt;script&gt;window.__pwned = 1; alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;window.__pwned = 2; alert(1)&quot;&gt;" in html


def test_every_section_renders_from_pipeline_outputs(rendered):
    html, figures = rendered
    anchors = {attrs.get("id") for _, attrs in parse(html).tags if attrs.get("id")}
    assert {
        "glance",
        "provenance",
        "ingest",
        "boilerplate",
        "errors",
        "duplicates",
        "leakage",
        "classifier",
        "conflibert",
        "predictions",
        "other",
    } <= anchors
    assert "Not produced yet" not in html
    assert set(figures) == set(DVC_FIGURES)
    assert "0123456789abcdef0123456789abcdef" in html  # md5 from dvc.lock
    assert "duplicates.threshold" in html  # params
    assert "Rejected inputs (1)" in html
    assert "pages_per_second" in html.split('id="other"')[1]  # a metrics file no section knows still shows


def test_section_numbers_come_from_the_data(rendered):
    html, _ = rendered
    glance = html.split('id="glance"')[1].split("</table>")[0]
    for label, value in (
        ("inputs rejected", "1"),
        ("error pages", "1"),
        ("classifier f1 (test)", "0.8"),
        ("pages with an exact or near duplicate", "3"),
        ("pages flagged as conflict events", "2"),
        ("pages scored by the classifier", "3"),
    ):
        assert f'{label}</a></td><td class="num">{value}</td>' in glance
    # "Menu" was removed on two pages (two occurrences), from one source.
    assert (
        '<tr><td>Menu</td><td class="num">2</td><td class="num">2</td><td>boilerplate</td>'
        '<td class="num">1</td></tr>' in html
    )
    # Predictions by source: a.com has 2 pages, both scored, both conflict events.
    assert '<tr><td>a.com</td><td class="num">2</td><td class="num">2</td><td class="num">2</td>' in html
    # The comparison table: models as rows, datasets as columns.
    assert '<tr><td>tfidf</td><td class="num">0.95</td><td class="num">0.8</td></tr>' in html
    # Cluster c1 is the largest (3 pages): representative d1 beside its least similar member d4.
    assert "cluster c1: 3 pages" in html
    pair = html.split("cluster c1: 3 pages")[1].split("</h4>")[1].split("<h4>")[0]
    assert "representative: d1" in pair and "member: d4" in pair and "similarity: 0.85" in pair
    # Error pages by kind.
    assert '<tr><td>not_found</td><td class="num">1</td></tr>' in html


def test_same_inputs_give_the_same_bytes_in_a_new_process(project, rendered):
    html, _ = rendered
    again, _ = render_pipeline_report(project, params_of(project))
    assert again == html
    code = (
        "import sys; from pathlib import Path; from newsaudit.core.config import load_params; "
        "from newsaudit.report.render import render_pipeline_report; root = Path(sys.argv[1]); "
        "sys.stdout.write(render_pipeline_report(root, load_params(root / 'params.yaml'))[0])"
    )
    out = subprocess.run([sys.executable, "-c", code, str(project)], capture_output=True, check=True)
    assert out.stdout.decode("utf-8") == html


def test_missing_outputs_are_named_not_fatal(tmp_path):
    html, figures = render_pipeline_report(tmp_path)
    assert_inert(html)
    assert "missing: reports/metrics/leakage.json (stage leakage)." in html
    assert (
        "missing: reports/metrics/boilerplate.json (stage boilerplate); data/interim/pages_clean.parquet."
        in html
    )
    assert figures == {}
    written = write_figures(figures, tmp_path / "figures")
    assert sorted(p.stem for p in written) == sorted(DVC_FIGURES)
    assert "no data yet" in (tmp_path / "figures" / "roc.svg").read_text()


def test_missing_keys_and_odd_shapes_do_not_break_sections(tmp_path):
    metrics = tmp_path / "reports" / "metrics"
    write_json(metrics / "classifier.json", {"confusion_matrix": {"tn": 1, "fp": 2, "fn": 3, "tp": 4}})
    write_json(metrics / "conflibert_benchmark.json", {"note": "no table yet"})
    write_json(metrics / "duplicates.json", [1, 2, 3])
    html, figures = render_pipeline_report(tmp_path)
    assert "confusion_matrix" in figures and "conflibert_comparison" not in figures
    assert "no table yet" in html


def test_malformed_metrics_file_is_a_clear_error(tmp_path):
    (tmp_path / "reports" / "metrics").mkdir(parents=True)
    (tmp_path / "reports" / "metrics" / "duplicates.json").write_text("{oops")
    with pytest.raises(NewsauditError, match=r"duplicates\.json: not valid JSON"):
        render_pipeline_report(tmp_path)


def test_svg_figures_are_deterministic_well_formed_and_carry_no_date(project, rendered, tmp_path):
    _, figures = rendered
    written = write_figures(figures, tmp_path / "a")
    again = write_figures(render_pipeline_report(project, params_of(project))[1], tmp_path / "b")
    for a, b in zip(written, again, strict=True):
        assert a.read_bytes() == b.read_bytes()
        assert b"<dc:date>" not in a.read_bytes()
        ElementTree.fromstring(a.read_bytes())  # a browser shows nothing for malformed XML
    assert "ctl\ufffdsource" in figures["predictions_by_source"]


def test_report_file_survives_a_lone_surrogate(project, tmp_path):
    out = tmp_path / "index.html"
    write_html(out, render_pipeline_report(project, params_of(project))[0])
    assert "lone surrogate \ufffd" in out.read_text(encoding="utf-8")


def test_audit_report_shows_per_page_sections_only(hostile, audited_pages):
    script, _, close = hostile
    summary = {
        "corpus": f"crawl/{close}",
        "ingest": {"inputs": 3, "accepted": 2, "rejected": 1},
        "steps": ["ingest", "boilerplate"],
        "skipped_steps": {"classify": "no model in models/"},
    }
    html = render_audit_report(audited_pages(), summary)
    doc = assert_inert(html)
    assert script in "".join(doc.text)
    anchors = {attrs.get("id") for _, attrs in doc.tags if attrs.get("id")}
    assert anchors == {"glance", "audit", "ingest", "boilerplate", "errors"}
    assert "no model in models/" in html and "Not produced yet" not in html
    assert html == render_audit_report(audited_pages(), summary)


def test_write_audit_report(tmp_path, hostile, audited_pages):
    summary = {"corpus": "crawl", "ingest": {"inputs": 3}, "steps": ["ingest"], "skipped_steps": {}}
    pd.DataFrame({"doc_id": ["p1"], "line_no": [0], "text": [hostile[2]], "reason": ["short"]}).to_parquet(
        tmp_path / "removed_lines.parquet"
    )
    path = write_audit_report(tmp_path, audited_pages(), summary)
    assert path == tmp_path / "report.html"
    assert "&lt;/table&gt;" in path.read_text()


def test_provenance_reads_git_and_the_lock(project, tmp_path):
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
        "PATH": "/usr/bin:/bin",
    }
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "params.yaml").write_text("a: 1\n")
    for args in (["init", "-q"], ["add", "params.yaml"], ["commit", "-qm", "x"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True)
    clean = git_provenance(repo)
    assert len(clean["commit"]) == 40 and clean["dirty"] is False
    (repo / "params.yaml").write_text("a: 2\n")
    assert git_provenance(repo)["changed"] == ["params.yaml"]
    assert git_provenance(tmp_path / "nowhere")["dirty"] is None
    rows = lock_entries(project / "dvc.lock")
    assert [(r["kind"], r["path"]) for r in rows] == [
        ("dep", "data/external"),
        ("out", "data/interim/pages.parquet"),
    ]


def test_cli_report(project, tmp_path):
    # The report's own sub-command on a parser like cli.py's, so that a sibling module still in
    # progress cannot hide a failure here (cli.main builds every stage's sub-command).
    parser = argparse.ArgumentParser()
    parser.add_argument("--params", default="params.yaml")
    report_stage.register(parser.add_subparsers(dest="command", required=True))
    out, figures = tmp_path / "index.html", tmp_path / "figures"
    args = parser.parse_args(
        [
            "--params",
            str(project / "params.yaml"),
            "report",
            "--root",
            str(project),
            "--out",
            str(out),
            "--figures",
            str(figures),
        ]
    )
    args.func(args)
    assert out.read_text(encoding="utf-8") == render_pipeline_report(project, params_of(project))[0]
    assert len(list(figures.glob("*.svg"))) == len(DVC_FIGURES)


def test_dvc_plots_template_is_wired_and_offline():
    root = Path(__file__).resolve().parents[2]
    config = configparser.ConfigParser()
    config.read(root / ".dvc" / "config")
    # DVC resolves a relative template path against the .dvc folder.
    template = (root / ".dvc" / config["plots"]["html_template"]).resolve()
    text = template.read_text(encoding="utf-8")
    assert "{plot_divs}" in text
    # DVC fills {scripts} with <script src=https://cdn...> tags; without the placeholder none appear.
    assert "{scripts}" not in text and "src=" not in text and "http://" not in text


def test_the_report_stage_own_lock_entry_is_left_out(tmp_path):
    # dvc.lock records the md5 of the previous report; embedding it would change every re-run.
    (tmp_path / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  ingest:\n    cmd: x\n    outs:\n    - path: a.parquet\n      md5: aaa\n"
        "  report:\n    cmd: newsaudit report\n    deps:\n    - path: a.parquet\n      md5: aaa\n"
        "    outs:\n    - path: reports/index.html\n      md5: bbb\n"
    )
    html, _ = render_pipeline_report(tmp_path)
    assert "aaa" in html and "bbb" not in html
    assert [r["stage"] for r in lock_entries(tmp_path / "dvc.lock", ("reports/index.html",))] == ["ingest"]


def test_the_stage_list_of_top_lines_replaces_the_computed_one(tmp_path, make_project):
    make_project(tmp_path)
    write_json(
        tmp_path / "reports/metrics/boilerplate.json",
        {
            "top_boilerplate_lines": [{"line": "menu", "pages": 2, "reason": "site_template", "sources": 1}],
        },
    )
    html, _ = render_pipeline_report(tmp_path)
    section = html.split('id="boilerplate"')[1].split('id="errors"')[0]
    assert "site_template" in section and "Top boilerplate lines" not in section


def test_benchmarks_show_before_their_corpus_stages_run(tmp_path):
    write_json(tmp_path / "reports/metrics/bench_duplicates.json", {"dev": {"ari": 0.99}})
    curve = tmp_path / "reports/plots/duplicates/recall_vs_edit_rate.csv"
    curve.parent.mkdir(parents=True)
    curve.write_text("edit_rate,method,pair_recall\n0.0,ours,1.0\n0.1,ours,0.9\n")
    html, figures = render_pipeline_report(tmp_path)
    section = html.split('id="duplicates"')[1].split('id="leakage"')[0]
    assert "missing: reports/metrics/duplicates.json (stage duplicates)" in section
    assert "dev.ari" in section and set(figures) == {"recall_vs_edit_rate"}


def test_generic_metrics_layout():
    from newsaudit.report.html import json_tables

    html = json_tables(
        {
            "duplicates_params": {"threshold": 0.4},
            "dev": {"seed": 11, "methods": {"ours": {"ari": 0.99}, "exact_hash": {"ari": 0.0}}},
            "by_reason": {"empty": 3, "binary": 1, "too_big": 1, "bad_json": 2, "no_text": 5, "other": 1},
        }
    )
    assert html.index("<h4>dev.methods</h4>") < html.index("<details>")  # results before settings
    assert "<summary>duplicates_params</summary>" in html and "duplicates_params.threshold" in html
    # Counts sorted by value, largest first.
    assert html.index("<td>no_text</td>") < html.index("<td>empty</td>") < html.index("<td>bad_json</td>")


def test_leakage_examples_side_by_side(rendered):
    html, _ = rendered
    section = html.split('id="leakage"')[1].split('id="classifier"')[0]
    assert "<h4>datasets.satp_all.rows_with_duplicate_in_other_split</h4>" in section
    pair = section.split('<div class="pair">')[1]
    assert "train:4" in pair and "test:9" in pair and "&lt;/table&gt;" in pair
    assert "<summary>params</summary>" in section


def test_stage_without_a_params_file_says_so(project, tmp_path):
    parser = argparse.ArgumentParser()
    parser.add_argument("--params")
    report_stage.register(parser.add_subparsers(dest="command", required=True))
    out = tmp_path / "index.html"
    args = parser.parse_args(
        [
            "--params",
            str(tmp_path / "absent.yaml"),
            "report",
            "--root",
            str(project),
            "--out",
            str(out),
            "--figures",
            str(tmp_path / "figures"),
        ]
    )
    args.func(args)
    html = out.read_text(encoding="utf-8")
    assert "params.yaml not found." in html and "duplicates.threshold" not in html
    assert html == render_pipeline_report(project, None)[0]
