"""``audit(..., resume=True)``: an audit that died after some steps starts after the last one it
finished, and only when the corpus, parameters, models and code are those of the run that died."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest

from newsaudit.pipeline import audit as audit_module
from newsaudit.pipeline.audit import audit
from newsaudit.pipeline.outdir import STAGING
from newsaudit.pipeline.resume import run_fingerprint

TEXT = (
    "Gunmen attacked a checkpoint in the north of the country on Monday, killing two soldiers, police said."
)
PARAMS = {"execution": {"workers": {"ingest": 1, "boilerplate": 1, "duplicates": 1}}}


class Died(RuntimeError):
    """Stands in for the kill: the process stops inside a step, its markers stay on disk."""


def make_corpus(root: Path) -> Path:
    root.mkdir()
    story = "\n\n".join(
        f"{TEXT} Paragraph {i} adds that officials gave no further details." for i in range(5)
    )
    (root / "001.txt").write_text("403\nSorry!!\nPage not found.\n" + story)
    (root / "002.txt").write_text(story)
    (root / "003.txt").write_text("The central bank kept interest rates unchanged on Wednesday. " * 4)
    return root


def die_in(monkeypatch, step_name: str) -> None:
    """The audit's ``run_step`` raises once it reaches ``step_name``: the steps before it finished."""
    real = audit_module.run_step

    def run_step(step, *args, **kwargs):
        if step.name == step_name:
            raise Died(f"killed in {step_name}")
        return real(step, *args, **kwargs)

    monkeypatch.setattr(audit_module, "run_step", run_step)


def results(out: Path) -> tuple[pd.DataFrame, dict]:
    return pd.read_parquet(out / "pages.parquet"), json.loads((out / "summary.json").read_text())


@pytest.fixture()
def corpus(tmp_path) -> Path:
    return make_corpus(tmp_path / "crawl")


@pytest.fixture()
def reference(tmp_path, corpus) -> tuple[pd.DataFrame, dict]:
    """The same audit run whole, never killed."""
    audit(corpus, tmp_path / "whole", PARAMS, tmp_path / "no-models")
    return results(tmp_path / "whole")


def test_a_resumed_audit_starts_after_the_last_finished_step_and_equals_a_whole_run(
    tmp_path, corpus, reference, monkeypatch
):
    out = tmp_path / "out"
    with monkeypatch.context() as m:
        die_in(m, "duplicates")
        with pytest.raises(Died):
            audit(corpus, out, PARAMS, tmp_path / "no-models", measure_steps=True)
    staged = sorted(p.name for p in (out / STAGING).iterdir())
    # ingest's table went once boilerplate had finished; boilerplate's stays for the next step
    assert staged == [
        "boilerplate.done.json",
        "boilerplate.parquet",
        "ingest.done.json",
        "removed_lines.parquet",
    ]
    assert not (out / "summary.json").exists()
    ctx = audit(corpus, out, PARAMS, tmp_path / "no-models", measure_steps=True, resume=True)
    assert ctx.resumed == ["ingest", "boilerplate"]
    assert set(ctx.measurements) == {"ingest", "boilerplate", "duplicates"}  # reused figures too
    pages, summary = results(out)
    pd.testing.assert_frame_equal(pages, reference[0])
    assert summary == reference[1]
    assert pd.read_parquet(out / "removed_lines.parquet").equals(
        pd.read_parquet(tmp_path / "whole" / "removed_lines.parquet")
    )
    assert not (out / STAGING).exists()


def test_resume_may_change_the_engine_and_workers(tmp_path, corpus, reference, monkeypatch):
    """Execution settings are not part of the fingerprint: every engine writes the same tables."""
    out = tmp_path / "out"
    with monkeypatch.context() as m:
        die_in(m, "boilerplate")
        with pytest.raises(Died):
            audit(corpus, out, PARAMS, tmp_path / "no-models")
    ctx = audit(corpus, out, {}, tmp_path / "no-models", engine="memory", resume=True)
    assert ctx.resumed == ["ingest"]
    pages, summary = results(out)
    pd.testing.assert_frame_equal(pages, reference[0])
    assert summary["engine"]["name"] == "memory" and summary["ingest"] == reference[1]["ingest"]


@pytest.mark.parametrize("change", ["params", "corpus file", "new file"])
def test_changed_inputs_run_every_step_again(tmp_path, corpus, monkeypatch, change):
    out, models = tmp_path / "out", tmp_path / "models"
    models.mkdir()
    with monkeypatch.context() as m:
        die_in(m, "duplicates")
        with pytest.raises(Died):
            audit(corpus, out, PARAMS, models)
    params = PARAMS
    if change == "params":
        params = {**PARAMS, "boilerplate": {"fallback_min_words": 7}}
    elif change == "corpus file":
        path = corpus / "003.txt"
        path.write_text(path.read_text() + " Markets were calm.")
    else:
        (corpus / "004.txt").write_text(TEXT)
    ctx = audit(corpus, out, params, models, resume=True)
    assert ctx.resumed == []
    pages, summary = results(out)
    assert summary["steps"] == ["ingest", "boilerplate", "duplicates"]
    assert len(pages) == (4 if change == "new file" else 3)


def test_the_fingerprint_follows_model_bytes_and_params_but_not_execution(tmp_path, corpus):
    models = tmp_path / "models"
    models.mkdir()
    base = run_fingerprint(corpus, PARAMS, models)
    assert run_fingerprint(corpus, {}, models) == base  # PARAMS holds only execution settings
    assert run_fingerprint(corpus, {"duplicates": {"threshold": 0.5}}, models) != base
    (models / "line_model.skops").write_bytes(b"model one")
    one = run_fingerprint(corpus, PARAMS, models)
    (models / "line_model.skops").write_bytes(b"model two")
    assert len({base, one, run_fingerprint(corpus, PARAMS, models)}) == 3


def test_without_resume_the_unfinished_work_is_discarded_and_said(tmp_path, corpus, monkeypatch, caplog):
    out = tmp_path / "out"
    with monkeypatch.context() as m:
        die_in(m, "duplicates")
        with pytest.raises(Died):
            audit(corpus, out, PARAMS, tmp_path / "no-models")
    with caplog.at_level(logging.WARNING):
        ctx = audit(corpus, out, PARAMS, tmp_path / "no-models")
    assert ctx.resumed == [] and "--resume reuses it" in caplog.text


def test_a_missing_table_or_a_damaged_marker_is_not_trusted(tmp_path, corpus, reference, monkeypatch):
    out = tmp_path / "out"
    for damage in ("table", "marker"):
        with monkeypatch.context() as m:
            die_in(m, "duplicates")
            with pytest.raises(Died):
                audit(corpus, out, PARAMS, tmp_path / "no-models", force=True)
        staged = out / STAGING
        if damage == "table":  # boilerplate's table gone (ingest's was deleted after it): no start
            (staged / "boilerplate.parquet").unlink()
        else:  # ingest's marker cut short: the chain of finished steps is broken at its start
            (staged / "ingest.done.json").write_text('{"fingerprint": "trunc')
        ctx = audit(corpus, out, PARAMS, tmp_path / "no-models", force=True, resume=True)
        assert ctx.resumed == [], damage
        pd.testing.assert_frame_equal(results(out)[0], reference[0])


def test_killed_after_the_last_step_resumes_with_every_step_done(tmp_path, corpus, reference, monkeypatch):
    """Killed after the last table became ``pages.parquet`` and before the results were moved into
    --out: every step is reused (classify, skipped for want of a model, stays skipped)."""
    out = tmp_path / "out"
    with monkeypatch.context() as m:

        def die_before_commit(staged, out_dir):
            raise Died("killed before the results were moved")

        m.setattr(audit_module, "commit_outputs", die_before_commit)
        with pytest.raises(Died):
            audit(corpus, out, PARAMS, tmp_path / "no-models")
    assert (out / STAGING / "pages.parquet").is_file() and not (out / "pages.parquet").exists()
    ctx = audit(corpus, out, PARAMS, tmp_path / "no-models", resume=True)
    assert ctx.resumed == ["ingest", "boilerplate", "duplicates", "classify"]
    pages, summary = results(out)
    pd.testing.assert_frame_equal(pages, reference[0])
    assert summary == reference[1] and "no trained classifier" in summary["skipped_steps"]["classify"]
