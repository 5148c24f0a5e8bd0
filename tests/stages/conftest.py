"""Fixtures of the stage tests: the labelled-corpus classifier saved as the train stage saves it."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def model_file(labels_bundle, tmp_path_factory) -> Path:
    from newsaudit.steps.classify.model import save_model

    path = tmp_path_factory.mktemp("models") / "conflict_clf.skops"
    save_model(labels_bundle, path)
    return path


@pytest.fixture()
def params_file(tmp_path):
    """``params_file(text)``: a params.yaml holding ``text`` (YAML), its path as a string."""

    def write(text: str = "{}\n") -> str:
        path = tmp_path / "params.yaml"
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write
