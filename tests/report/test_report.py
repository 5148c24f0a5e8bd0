"""The HTML report: findings first, the scorecard, pages before and after, every section from the
pipeline's outputs, hostile corpus text kept as text, and the same bytes twice."""

from __future__ import annotations

import argparse
import configparser
import json
import re
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


def text_of(html: str) -> str:
    return " ".join("".join(parse(html).text).split())


def section(html: str, anchor: str) -> str:
    return html.split(f'<section id="{anchor}">')[1].split("</section>")[0]


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


def test_sections_in_reading_order_findings_first_provenance_last(rendered):
    html, figures = rendered
    anchors = re.findall(r'<section id="([^"]+)">', html)
    assert anchors == [
        "findings",
        "sources",
        "pages",
        "boilerplate",
        "errors",
        "duplicates",
        "classifier",
        "leakage",
        "more",
        "provenance",
    ]
    assert "Not produced yet" not in html
    assert set(figures) == set(DVC_FIGURES)
    # Provenance is folded, the dvc.lock hashes and params inside it.
    prov = section(html, "provenance")
    assert prov.count("<details") == 1 and "0123456789abcdef0123456789abcdef" in prov
    assert "duplicates.threshold" in prov
    assert "pages_per_second" in section(html, "more")  # a metrics file no section knows still shows
    assert "months" not in anchors  # pages without dates: nothing is said about dates


def test_findings_are_sentences_from_the_numbers(rendered):
    findings = text_of(section(rendered[0], "findings"))
    for sentence in (
        "6 pages read, 1 rejected (empty 1).",
        "1 is an error page and 1 more had an error notice glued before the article.",
        "3 pages are near or exact copies of another page, in 1 clusters (the largest has 3); "
        "keeping one page per cluster drops 2; 1 pages repeated a paragraph",
        "2 of the 3 pages scored report conflict events (67%); 3 were not scored "
        "(error page 1, language not supported 1, rejected 1).",
    ):
        assert sentence in findings
    # Each sentence links to its section; the alerts name what needs a look.
    links = re.findall(r'<a class="more" href="#([a-z]+)">', section(rendered[0], "findings"))
    assert {"sources", "errors", "boilerplate", "duplicates", "classifier", "rejected"} <= set(links)
    assert "REJECTED 1 inputs rejected: empty 1." in findings
    assert "NOT SCORED 1 page in languages the classifier does not score: de 1." in findings


def test_scorecard_a_row_per_source_largest_first(rendered, hostile):
    card = section(rendered[0], "sources")
    rows = re.findall(r"<tr>(.*?)</tr>", card.split("<tbody>")[1].split("</tbody>")[0])
    firsts = [text_of(r.split("</td>")[0]) for r in rows]
    # a.com has 2 pages; then the single-page sources by name (the rejected input has no source).
    assert firsts == ["a.com", "(no source)", hostile[0], "b.org", "ctl source"]
    cells = [text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", rows[0])]
    # pages, rejected, error pages, boilerplate share, duplicates (d2 copies d1), events, languages
    assert cells == ["a.com", "2", "0", "0", "3%", "1", "2 of 2", "en 2"]
    assert 'style="width:4.60rem"' in rows[0]  # the largest source's pages bar is full width
    assert "Rejected inputs (1)" in card and "empty file &lt;img" in card


def test_scorecard_folds_all_but_the_largest_25_sources(audited_pages):
    pages = pd.concat([audited_pages()] * 20, ignore_index=True)
    pages["doc_id"] = [f"p{i}" for i in range(len(pages))]
    pages["source"] = [f"site{i % 30:02d}.example" for i in range(len(pages))]
    html = render_audit_report(pages, {"corpus": "c", "steps": ["ingest"], "skipped_steps": {}})
    card = section(html, "sources")
    shown, folded = card.split("<details>")[0], card.split("<details>")[1].split("</details>")[0]
    assert "Sources: the 25 largest of 30" in html
    assert shown.count("<tr>") == 26 and folded.count("<tr>") == 6  # header row each
    assert "The other 5 sources (10 pages)" in folded


def test_pages_before_and_after(rendered, hostile):
    pages = section(rendered[0], "pages")
    roles = re.findall(r'<div class="ex" id="ex-([a-z]+)">', pages)
    assert roles == ["prefix", "boilerplate", "flagged", "borderline"]  # no page left with repeats

    def example(role: str) -> str:
        return pages.split(f'id="ex-{role}"')[1].split('<div class="ex"')[0]

    # d6: the access-denied notice struck through with its reason; its repeated paragraph labelled.
    prefix = example("prefix")
    assert "d6 · b.org" in prefix
    assert '<del class="t">Access denied</del><span class="why">error_page</span>' in prefix
    assert '<span class="why">repeated</span>' in prefix
    boilerplate = example("boilerplate")  # d1: most boilerplate among pages with an article left
    assert "d1 · a.com" in boilerplate
    assert '<del class="t">Menu</del><span class="why">site_template</span>' in boilerplate
    flagged = example("flagged")  # d1 is taken: the next highest score
    assert "d2 · a.com · score 0.800; top terms: killed; &lt;script&gt;" in flagged
    assert "&lt;/table&gt;" in flagged
    borderline = example("borderline")
    # the score nearest the threshold of train.json (0.5): d4 at 0.4, with its pattern line
    assert "d4" in borderline and "against a threshold of 0.500 (not flagged)" in borderline
    assert '<del class="t">&lt;script&gt;window.__pwned = 1; alert(1)&lt;/script&gt;</del>' in borderline


def test_long_pages_are_clipped_with_a_count_of_what_is_hidden(audited_pages):
    from newsaudit.report.examples import Example, render_example

    raw = "\n".join(
        [f"menu item {i}" for i in range(30)] + [f"paragraph {i} of the article" for i in range(20)]
    )
    removed = {i + 1: "site_template" for i in range(30)}
    final = "\n".join(f"paragraph {i} of the article" for i in range(20))
    html = render_example(Example("boilerplate", "t", "d", "s", "w"), raw, removed, final, repeats=False)
    # 30 removed lines fold into 2 shown and a marker; 10 rows per side, the rest counted
    assert "… 28 more removed" in html
    assert html.count('<del class="t">') == 2
    assert "… 13 more lines not shown" in html  # left: 2 removed, the marker and 7 of 20 kept lines
    assert "… 10 more lines not shown" in html  # right: 10 of 20 clean lines


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
    assert "missing: data/interim/pages.parquet." in html
    assert "missing: reports/metrics/leakage.json (stage leakage)." in html
    assert figures == {}
    written = write_figures(figures, tmp_path / "figures")
    assert sorted(p.stem for p in written) == sorted(DVC_FIGURES)
    assert "no data yet" in (tmp_path / "figures" / "roc.svg").read_text()


def test_malformed_metrics_and_tables_are_clear_errors(tmp_path):
    (tmp_path / "reports" / "metrics").mkdir(parents=True)
    (tmp_path / "reports" / "metrics" / "duplicates.json").write_text("{oops")
    with pytest.raises(NewsauditError, match=r"duplicates\.json: not valid JSON"):
        render_pipeline_report(tmp_path)
    (tmp_path / "reports" / "metrics" / "duplicates.json").unlink()
    bad = tmp_path / "reports" / "tables" / "leakage" / "datasets.csv"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b'a,b\n"unclosed,1\n')
    with pytest.raises(NewsauditError, match=r"datasets\.csv: not a readable CSV table"):
        render_pipeline_report(tmp_path)


def test_svg_figures_are_deterministic_well_formed_and_carry_no_date(project, rendered, tmp_path):
    _, figures = rendered
    written = write_figures(figures, tmp_path / "a")
    again = write_figures(render_pipeline_report(project, params_of(project))[1], tmp_path / "b")
    for a, b in zip(written, again, strict=True):
        assert a.read_bytes() == b.read_bytes()
        assert b"<dc:date>" not in a.read_bytes()
        ElementTree.fromstring(a.read_bytes())  # a browser shows nothing for malformed XML
    (tmp_path / "a" / "old_figure.svg").write_text("<svg/>")
    write_figures(figures, tmp_path / "a")
    assert not (tmp_path / "a" / "old_figure.svg").exists()  # the folder holds one version's figures


def test_report_file_survives_a_lone_surrogate(project, tmp_path):
    out = tmp_path / "index.html"
    write_html(out, render_pipeline_report(project, params_of(project))[0])
    assert "lone surrogate \ufffd" in out.read_text(encoding="utf-8")


def test_audit_report_has_the_same_structure(hostile, audited_pages):
    script, _, close = hostile
    summary = {
        "corpus": f"crawl/{close}",
        "steps": ["ingest", "boilerplate"],
        "skipped_steps": {"classify": "no model in models/"},
    }
    html = render_audit_report(audited_pages(), summary)
    doc = assert_inert(html)
    assert script in "".join(doc.text)
    anchors = re.findall(r'<section id="([^"]+)">', html)
    assert anchors == ["findings", "sources", "boilerplate", "errors", "duplicates", "classifier", "audit"]
    assert "NOT RUN classify did not run: no model in models/" in text_of(html)
    assert "Not produced yet" not in html
    assert html == render_audit_report(audited_pages(), summary)


def test_audit_of_the_small_corpus(small_audit):
    html = (small_audit / "report.html").read_text(encoding="utf-8")
    assert_inert(html)
    findings = text_of(section(html, "findings"))
    summary = json.loads((small_audit / "summary.json").read_text())
    assert f"{summary['ingest']['inputs']} pages read, 2 rejected (binary 1, empty 1)." in findings
    assert "LARGE CLUSTER" in findings and "NOT RUN classify did not run" in findings
    assert re.findall(r'<div class="ex" id="ex-([a-z]+)">', html) == ["boilerplate", "repeated"]


def test_write_audit_report(tmp_path, hostile, audited_pages):
    summary = {"corpus": "crawl", "ingest": {"inputs": 3}, "steps": ["ingest"], "skipped_steps": {}}
    pd.DataFrame({"doc_id": ["p2"], "line_no": [1], "text": [hostile[2]], "reason": ["pattern"]}).to_parquet(
        tmp_path / "removed_lines.parquet"
    )
    path = write_audit_report(tmp_path, audited_pages(), summary)
    assert path == tmp_path / "report.html"
    assert not list(tmp_path.glob("*.partial"))


GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
    "PATH": "/usr/bin:/bin",
}


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, check=True, capture_output=True)


def test_provenance_reads_git_and_the_lock(project, tmp_path):
    repo = tmp_path / "repo"
    (repo / "reports" / "plots" / "report").mkdir(parents=True)
    (repo / "params.yaml").write_text("a: 1\n")
    (repo / "reports" / "plots" / "report" / "roc.svg").write_text("<svg/>")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "x"]):
        git(repo, *args)
    clean = git_provenance(repo)
    assert len(clean["commit"]) == 40 and clean["dirty"] is False
    # DVC deletes a stage's outputs before running it: the report's own figures are not "dirty".
    (repo / "reports" / "plots" / "report" / "roc.svg").unlink()
    assert git_provenance(repo)["changed"] == ["reports/plots/report/roc.svg"]
    assert git_provenance(repo, ("reports/plots/report", "reports/index.html"))["dirty"] is False
    (repo / "params.yaml").write_text("a: 2\n")
    assert git_provenance(repo, ("reports/plots/report",))["changed"] == ["params.yaml"]
    assert git_provenance(tmp_path / "nowhere")["dirty"] is None
    rows = lock_entries(project / "dvc.lock")
    assert [(r["kind"], r["path"]) for r in rows] == [
        ("dep", "data/external"),
        ("out", "data/interim/pages.parquet"),
    ]


def _stage_args(argv: list[str]) -> argparse.Namespace:
    # The report's own sub-command on a parser like cli.py's, so that a sibling module still in
    # progress cannot hide a failure here (cli.main builds every stage's sub-command).
    parser = argparse.ArgumentParser()
    parser.add_argument("--params", default="params.yaml")
    report_stage.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_cli_report(project, tmp_path):
    out, figures = tmp_path / "index.html", tmp_path / "figures"
    argv = ["--params", str(project / "params.yaml"), "report", "--root", str(project)]
    args = _stage_args([*argv, "--out", str(out), "--figures", str(figures)])
    args.func(args)
    # The DVC stage records no git commit (its output is a pure function of its inputs).
    expected = render_pipeline_report(project, params_of(project), git=False)[0]
    assert out.read_text(encoding="utf-8") == expected
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


def test_the_dvc_stage_shows_the_lock_hashes_of_its_declared_inputs_only(tmp_path):
    # Another stage's code hash or an output the report does not read can change without DVC
    # re-running the report; showing them would leave the committed report stale.
    (tmp_path / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  ingest:\n    cmd: x\n    deps:\n    - path: src/ingest.py\n"
        "      md5: codehash\n    outs:\n    - path: a.parquet\n      md5: readhash\n"
        "    - path: b.parquet\n      md5: unreadhash\n"
    )
    (tmp_path / "dvc.yaml").write_text(
        "stages:\n  report:\n    cmd: newsaudit report\n    deps:\n    - a.parquet\n"
    )
    (tmp_path / "params.yaml").write_text("data: {}\n")
    assert report_stage.declared_inputs(tmp_path / "dvc.yaml") == frozenset({"a.parquet"})
    assert report_stage.declared_inputs(tmp_path / "dvc.yaml", "train") is None
    assert report_stage.declared_inputs(tmp_path / "missing.yaml") is None
    out = tmp_path / "index.html"
    argv = ["--params", str(tmp_path / "params.yaml"), "report", "--root", str(tmp_path), "--out", str(out)]
    args = _stage_args(argv)
    args.func(args)
    stage_html = out.read_text(encoding="utf-8")
    assert "readhash" in stage_html and "codehash" not in stage_html and "unreadhash" not in stage_html
    # By hand (--git) the whole lock is shown.
    args = _stage_args([*argv, "--git"])
    args.func(args)
    assert all(h in out.read_text(encoding="utf-8") for h in ("readhash", "codehash", "unreadhash"))


def test_pages_by_month_only_when_pages_carry_a_date(tmp_path, make_project):
    root = make_project(tmp_path)
    final = root / "data" / "processed" / "pages.parquet"
    pages = pd.read_parquet(final)
    pages["fetch_date"] = ["2024-01-05T10:00:00Z", "2024-01-20", "2024-02-01", "2024-03-09", None, None]
    pages.to_parquet(final, index=False)
    html, figures = render_pipeline_report(root)
    months = section(html, "months")
    assert "By fetch_date" in months and "2 pages have no fetch_date" in months
    assert "by_month" in figures and "2024-03" in figures["by_month"]
    assert "Dated pages run from 2024-01 to 2024-03." in text_of(section(html, "findings"))


def test_benchmarks_show_before_their_corpus_stages_run(tmp_path):
    (tmp_path / "reports/tables/bench_duplicates").mkdir(parents=True)
    (tmp_path / "reports/tables/bench_duplicates/methods.csv").write_text(
        "split,method,ari,pair_precision,pair_recall\ntest,ours,0.99,1.0,0.98\n"
    )
    curve = tmp_path / "reports/plots/duplicates/recall_vs_edit_rate.csv"
    curve.parent.mkdir(parents=True)
    curve.write_text("edit_rate,method,pair_recall\n0.0,ours,1.0\n0.1,ours,0.9\n")
    html, figures = render_pipeline_report(tmp_path)
    dup = section(html, "duplicates")
    assert "missing: reports/metrics/duplicates.json (stage duplicates)" in dup
    assert "ARI 0.990" in dup and set(figures) == {"recall_vs_edit_rate"}


def test_http_status_error_pages_and_soft_404s(audited_pages):
    """Pages from a WARC carry an HTTP status: error statuses and soft 404s (200, but an error page)."""
    pages = audited_pages().assign(
        http_status=[200, 200, None],
        is_error_page=[True, False, False],
        clean_status=["error_page", "ok", None],
    )
    html = render_audit_report(
        pages, {"corpus": "c", "steps": ["ingest", "boilerplate"], "skipped_steps": {}}
    )
    assert "1 is an error page (1 of them a soft 404: HTTP 200 with an error page)." in text_of(
        section(html, "findings")
    )
    assert "Of 2 pages with an HTTP status, 0 answered with an error status; 1 answered 200" in text_of(
        section(html, "errors")
    )
