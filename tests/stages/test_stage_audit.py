"""``newsaudit audit CORPUS --out DIR``: the command's files, its report, its errors."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import newsaudit
from newsaudit import cli

TEXT = (
    "Gunmen attacked a checkpoint in the north of the country on Monday, killing two soldiers, police said."
)


@pytest.fixture()
def corpus(tmp_path):
    root = tmp_path / "crawl"
    root.mkdir()
    (root / "001_a.txt").write_text(TEXT)
    (root / "002_b.txt").write_text("Another page. " + TEXT)
    (root / "003_c.txt").write_text("<script>alert(1)</script> " + TEXT + " The markets were calm.")
    (root / "004_d.txt").write_bytes(b"")
    return root


def _audit(
    params_file, corpus, out, *extra: str, params: str = "execution:\n  workers:\n    ingest: 1\n"
) -> int:
    return cli.main(["--params", params_file(params), "audit", str(corpus), "--out", str(out), *extra])


def test_cli_audit_writes_pages_removed_lines_and_summary(tmp_path, params_file, corpus):
    out = tmp_path / "o"
    assert _audit(params_file, corpus, out, "--models", str(tmp_path / "no-models")) == 0
    assert (out / "pages.parquet").is_file() and (out / "removed_lines.parquet").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ingest"]["inputs"] == 4 and "classify" in summary["skipped_steps"]
    assert not (out / "report.html").exists()
    assert len(pd.read_parquet(out / "pages.parquet")) == 4


def test_report_is_self_contained_and_escapes_the_corpus(tmp_path, params_file, corpus):
    out = tmp_path / "o"
    assert _audit(params_file, corpus, out, "--models", str(tmp_path / "no-models"), "--report") == 0
    html = (out / "report.html").read_text()
    assert "<script>alert(1)</script>" not in html


def test_existing_results_need_force(tmp_path, params_file, corpus, caplog):
    out = tmp_path / "o"
    models = str(tmp_path / "no-models")
    assert _audit(params_file, corpus, out, "--models", models) == 0
    assert _audit(params_file, corpus, out, "--models", models) == 2
    assert "--force" in caplog.text
    assert _audit(params_file, corpus, out, "--models", models, "--force") == 0


def test_errors_exit_2(tmp_path, params_file, corpus, caplog):
    assert _audit(params_file, tmp_path / "missing", tmp_path / "p") == 2
    assert "missing does not exist" in caplog.text
    assert _audit(params_file, corpus, corpus / "audit") == 2
    assert "inside the corpus" in caplog.text
    assert _audit(params_file, corpus, tmp_path / "q", params="execution:\n  engine: spark\n") == 2
    assert "execution.engine 'spark'" in caplog.text
    assert _audit(params_file, corpus, tmp_path / "r", params="ingest:\n  workers: 1\n") == 2
    assert "ingest.workers: Extra inputs are not permitted" in caplog.text


def test_engine_choices_include_the_local_alias(tmp_path, params_file, corpus):
    assert (
        _audit(params_file, corpus, tmp_path / "o", "--engine", "local", "--models", str(tmp_path / "m")) == 0
    )
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["engine"]["name"] == "stream"
    with pytest.raises(SystemExit) as exc:
        _audit(params_file, corpus, tmp_path / "p", "--engine", "spark")
    assert exc.value.code == 2  # argparse refuses it before anything runs


def _outputs(out) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file() and not p.name.startswith(".")
    }


def _start_audit(params: str, corpus, out, *extra: str) -> subprocess.Popen:
    src = str(Path(newsaudit.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    argv = [
        sys.executable,
        "-m",
        "newsaudit.cli",
        "--params",
        params,
        "audit",
        str(corpus),
        "--out",
        str(out),
    ]
    return subprocess.Popen([*argv, *extra], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, f"audit ended before it could be killed: {proc.stderr.read().decode()}"
        assert time.monotonic() < deadline, "the audit never reached the point to kill it at"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_a_killed_audit_leaves_old_results_or_none_and_reruns(tmp_path, params_file, small_corpus):
    """SIGKILL mid-audit: before, ``removed_lines.parquet`` and ``summary.json`` were written in
    place (a killed ``--force`` run mixed new and old files, and ``report.html`` was written after
    the rest with a plain write). Now ``--out`` holds the previous complete results or none."""
    params = params_file("execution:\n  workers:\n    ingest: 1\n    boilerplate: 1\n    duplicates: 1\n")
    out, models = tmp_path / "o", str(tmp_path / "no-models")
    flags = ("--models", models, "--report")
    # 1. a first audit killed once ingest is done: nothing in --out looks like a result
    proc = _start_audit(params, small_corpus, out, *flags)
    _kill_when(proc, lambda: (out / ".steps" / "ingest.parquet").exists())
    assert proc.returncode == -signal.SIGKILL
    assert _outputs(out) == {} and not list(out.glob("*.partial"))
    # 2. the same command again (no --force needed: there were no results) completes
    assert _audit(params_file, small_corpus, out, *flags, params=Path(params).read_text()) == 0
    first = _outputs(out)
    assert set(first) == {"pages.parquet", "removed_lines.parquet", "summary.json", "report.html"}
    summary = json.loads(first["summary.json"])
    assert len(pd.read_parquet(out / "pages.parquet")) == summary["ingest"]["inputs"]
    assert first["report.html"].rstrip().endswith(b"</html>") and not (out / ".steps").exists()
    # 3. a --force audit of a grown corpus killed once boilerplate is done (its removed lines
    # written, duplicates running): the previous results, byte for byte
    grown = tmp_path / "grown"
    shutil.copytree(small_corpus, grown)
    site = grown / "dailyexample.com"
    (site / "999.txt").write_text((site / "001.txt").read_text() + "\n" + TEXT)  # new removed lines too

    def boilerplate_done() -> bool:
        done = (out / ".steps" / "boilerplate.parquet").exists()
        return done and not list(out.rglob("removed_lines.parquet.partial"))

    proc = _start_audit(params, grown, out, *flags, "--force")
    _kill_when(proc, boilerplate_done)
    assert _outputs(out) == first
    # 4. and the rerun replaces them whole
    assert _audit(params_file, grown, out, *flags, "--force", params=Path(params).read_text()) == 0
    second = _outputs(out)
    assert set(second) == set(first) and not (out / ".steps").exists()
    assert json.loads(second["summary.json"])["ingest"]["inputs"] == summary["ingest"]["inputs"] + 1


def test_a_second_audit_on_the_same_out_stops_with_a_clear_error(tmp_path, params_file, corpus, caplog):
    from filelock import FileLock

    out = tmp_path / "o"
    out.mkdir()
    with FileLock(out / ".audit.lock"):  # what a running audit holds
        assert _audit(params_file, corpus, out, "--models", str(tmp_path / "m")) == 2
    assert f"--out {out} is in use by another audit" in caplog.text
    assert _outputs(out) == {}
    assert _audit(params_file, corpus, out, "--models", str(tmp_path / "m")) == 0  # the lock is free again


def test_without_report_an_old_report_does_not_survive_a_forced_rerun(tmp_path, params_file, corpus):
    """Before: ``--force`` without ``--report`` left the old run's report.html beside new results."""
    out, models = tmp_path / "o", str(tmp_path / "m")
    assert _audit(params_file, corpus, out, "--models", models, "--report") == 0
    assert _audit(params_file, corpus, out, "--models", models, "--force") == 0
    assert not (out / "report.html").exists() and (out / "summary.json").is_file()


def test_resume_after_sigkill_gives_the_results_of_an_audit_never_killed(tmp_path, params_file, small_corpus):
    """SIGKILL once boilerplate has finished; ``--resume`` starts at duplicates, and every output
    (report included) is byte for byte that of an audit that ran whole."""
    text = "execution:\n  workers:\n    ingest: 1\n    boilerplate: 1\n    duplicates: 1\n"
    params = params_file(text)
    out, models = tmp_path / "o", str(tmp_path / "no-models")
    flags = ("--models", models, "--report")
    proc = _start_audit(params, small_corpus, out, *flags)
    _kill_when(proc, lambda: (out / ".steps" / "boilerplate.done.json").exists())
    assert (out / ".steps" / "boilerplate.parquet").is_file() and _outputs(out) == {}
    assert _audit(params_file, small_corpus, out, *flags, "--resume", params=text) == 0
    assert _audit(params_file, small_corpus, tmp_path / "whole", *flags, params=text) == 0
    assert _outputs(out) == _outputs(tmp_path / "whole")
    assert not (out / ".steps").exists()
