"""``newsaudit report --baseline REV``: what changed since a revision, by DVC's own diff, in a
temporary git + DVC repository where one parameter changes and the pipeline is reproduced."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from newsaudit.core.errors import NewsauditError
from newsaudit.report.changes import baseline_changes
from newsaudit.stages import report as report_stage

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
    "DVC_NO_ANALYTICS": "1",
}
# A one-stage pipeline whose headline metric follows a parameter, as duplicates' rate follows its
# threshold: the metric moves only because the parameter did.
SCORE = """
import json, yaml
threshold = yaml.safe_load(open("params.yaml"))["duplicates"]["threshold"]
metrics = {"near_duplicate_rate": round(1 - threshold, 4), "pages": 10}
json.dump(metrics, open("reports/metrics/duplicates.json", "w"))
"""


def run(repo: Path, *cmd: str) -> None:
    subprocess.run(cmd, cwd=repo, env=ENV, check=True, capture_output=True)


def dvc(repo: Path, *args: str) -> None:
    run(repo, sys.executable, "-m", "dvc", *args)


def set_threshold(repo: Path, value: float) -> None:
    (repo / "params.yaml").write_text(f"duplicates:\n  threshold: {value}\n  bands: 42\n")


@pytest.fixture
def repo(tmp_path, make_project) -> Path:
    """A copy of the report fixtures' project as a git + DVC repository, committed at threshold 0.8."""
    (tmp_path / "repo").mkdir()
    repo = make_project(tmp_path / "repo")
    (repo / "dvc.lock").unlink()
    (repo / "score.py").write_text(SCORE)
    (repo / "dvc.yaml").write_text(
        "metrics:\n- reports/metrics/duplicates.json\nstages:\n  duplicates:\n"
        f"    cmd: {sys.executable} score.py\n    deps:\n    - score.py\n    params:\n    - duplicates\n"
        "    outs:\n    - reports/metrics/duplicates.json:\n        cache: false\n"
    )
    set_threshold(repo, 0.8)
    run(repo, "git", "init", "-q")
    dvc(repo, "init", "-q")
    dvc(repo, "repro", "-q")
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-qm", "threshold 0.8")
    return repo


def report(repo: Path, *extra: str) -> Path:
    parser = argparse.ArgumentParser()
    parser.add_argument("--params", default="params.yaml")
    report_stage.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["--params", str(repo / "params.yaml"), "report", "--root", str(repo), *extra])
    args.func(args)
    return repo / "reports" / "changes.html"


def row(html: str, first: str) -> list[str]:
    """The cells of the table row whose first cell is ``first``."""
    for match in re.findall(r"<tr>(.*?)</tr>", html):
        cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", match)]
        if cells and cells[0] == first and len(cells) > 2:
            return cells
    raise AssertionError(f"no row starting with {first}")


def test_the_delta_row_after_one_parameter_change(repo):
    set_threshold(repo, 0.5)
    dvc(repo, "repro", "-q")
    out = report(repo, "--baseline")  # default: the last commit
    html = out.read_text(encoding="utf-8")
    label = re.search(r"What changed since (HEAD \([0-9a-f]+\))", html).group(1)
    assert row(html, "reports/metrics/duplicates.json") == [
        "reports/metrics/duplicates.json",
        "near_duplicate_rate",
        "0.2",
        "0.5",
        "0.3",
    ]
    assert row(html, "params.yaml") == ["params.yaml", "duplicates.threshold", "0.8", "0.5"]
    assert "1 of 2 headline figures moved; 1 parameters changed" in html
    assert f"<th>{label}</th>" in html
    # The hand-run report leaves the DVC stage's outputs alone.
    assert not (repo / "reports" / "index.html").exists() and not (repo / "reports/plots/report").exists()


def test_baseline_head_1_after_committing_the_change(repo):
    set_threshold(repo, 0.5)
    dvc(repo, "repro", "-q")
    run(repo, "git", "commit", "-qam", "threshold 0.5")
    changes = baseline_changes(repo, "HEAD~1")
    assert changes["baseline"].startswith("HEAD~1 (")
    [param] = changes["params"]
    assert (param["path"], param["param"], param["old"], param["new"]) == (
        "params.yaml",
        "duplicates.threshold",
        0.8,
        0.5,
    )
    moved = [r for r in changes["metrics"] if r["old"] != r["new"]]
    assert [(r["metric"], r["old"], r["new"]) for r in moved] == [("near_duplicate_rate", 0.2, 0.5)]


def test_an_unknown_revision_is_a_clear_error(repo):
    with pytest.raises(NewsauditError, match=r"--baseline nosuchrev: not a git revision"):
        baseline_changes(repo, "nosuchrev")


def test_the_stage_itself_does_not_look_at_head(repo):
    """Without --baseline the report is the DVC stage's: the same bytes before and after a commit
    that changes nothing it reads."""
    report(repo)
    first = (repo / "reports" / "index.html").read_bytes()
    (repo / "NOTES.md").write_text("an unrelated file\n")
    run(repo, "git", "add", "NOTES.md")
    run(repo, "git", "commit", "-qm", "notes")
    report(repo)
    again = (repo / "reports" / "index.html").read_bytes()
    strip = re.compile(rb"[0-9a-f]{40}|[0-9a-f]{12}")  # the provenance names the commit it ran at
    assert strip.sub(b"", first) == strip.sub(b"", again)
    assert b"What changed" not in again
