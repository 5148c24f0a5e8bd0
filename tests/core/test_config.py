"""Typed parameters: unknown keys and wrong types fail with the parameter's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsaudit.core.config import ParamsError, load_params, section
from newsaudit.datasets.fetch import DataParams
from newsaudit.steps.ingest.readers import CorpusParams, IngestParams

PROJECT_PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"


def test_project_params_validate():
    params = load_params(PROJECT_PARAMS)
    assert section(params, "ingest", IngestParams).workers >= 1
    assert section(params, "corpus", CorpusParams).include
    assert section(params, "data", DataParams).mirror == "../shared/data"


def test_unknown_key_is_named():
    with pytest.raises(ParamsError, match=r"ingest\.max_byte: Extra inputs are not permitted"):
        section({"ingest": {"max_byte": 5}}, "ingest", IngestParams)


def test_wrong_type_is_named():
    with pytest.raises(ParamsError, match=r"ingest\.workers: Input should be a valid integer"):
        section({"ingest": {"workers": "two"}}, "ingest", IngestParams)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ParamsError, match=r"nope\.yaml does not exist"):
        load_params(tmp_path / "nope.yaml")
