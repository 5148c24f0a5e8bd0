"""Typed parameters: unknown keys, wrong types and malformed YAML fail with the parameter's name or
the line; the ``execution`` section (engine, workers, Dask) and its command-line overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsaudit.core.config import Execution, ParamsError, execution, load_params, section
from newsaudit.datasets.fetch import DataParams
from newsaudit.steps.ingest.readers import CorpusParams, IngestParams

PROJECT_PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"


def test_project_params_validate():
    params = load_params(PROJECT_PARAMS)
    assert section(params, "ingest", IngestParams).row_group_size >= 1
    assert section(params, "corpus", CorpusParams).include
    assert section(params, "data", DataParams).mirror == "../shared/data"
    ex = execution(params)
    assert ex.engine in ("memory", "stream", "dask") and ex.workers.ingest >= 1


def test_unknown_key_is_named():
    with pytest.raises(ParamsError, match=r"ingest\.max_byte: Extra inputs are not permitted"):
        section({"ingest": {"max_byte": 5}}, "ingest", IngestParams)


def test_wrong_type_is_named():
    with pytest.raises(ParamsError, match=r"ingest\.max_bytes: Input should be a valid integer"):
        section({"ingest": {"max_bytes": "two"}}, "ingest", IngestParams)
    with pytest.raises(ParamsError, match=r"execution\.workers\.ingest: Input should be a valid integer"):
        execution({"execution": {"workers": {"ingest": "two"}}})


def test_a_section_that_is_not_a_mapping_is_named():
    with pytest.raises(ParamsError, match="section 'ingest' must be a mapping, got list"):
        section({"ingest": [1, 2]}, "ingest", IngestParams)
    assert section({"ingest": None}, "ingest", IngestParams) == IngestParams()


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ParamsError, match=r"nope\.yaml does not exist"):
        load_params(tmp_path / "nope.yaml")


def test_malformed_yaml_names_the_line(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(
        "ingest:\n  max_bytes: 10\n  text_column: [text\nduplicates:\n  bands: 4\n", encoding="utf-8"
    )
    with pytest.raises(ParamsError, match=r"params\.yaml: line \d+, column \d+: not valid YAML") as err:
        load_params(path)
    assert "line 4" in str(err.value)


def test_yaml_that_is_not_a_mapping_or_not_utf8_is_refused(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ParamsError, match="expected a mapping of sections"):
        load_params(path)
    path.write_bytes(b"ingest:\n  text_column: caf\xe9\n")
    with pytest.raises(ParamsError, match="not UTF-8"):
        load_params(path)
    path.write_text("", encoding="utf-8")
    assert load_params(path) == {}


def test_execution_defaults_and_the_local_alias():
    assert execution({}).engine == "stream"
    assert execution({"execution": {"engine": "local"}}).engine == "stream"
    assert execution({"execution": {"engine": "memory"}}, engine="local").engine == "stream"
    assert Execution(engine="local").engine == "stream"


def test_unknown_engine_is_an_error_naming_execution_engine():
    with pytest.raises(ParamsError, match=r"execution\.engine 'spark'"):
        execution({"execution": {"engine": "spark"}})
    with pytest.raises(ParamsError, match=r"engine 'spark' \(--engine\)"):
        execution({}, engine="spark")


def test_command_line_overrides_engine_and_scheduler():
    params = {"execution": {"engine": "stream", "dask": {"partition_rows": 7, "scheduler": "local"}}}
    ex = execution(params, engine="dask", scheduler="tcp://host:8786")
    assert ex.engine == "dask"
    assert ex.dask.scheduler == "tcp://host:8786" and ex.dask.partition_rows == 7
    assert execution(params).dask.scheduler == "local"  # the parameters are left as they were


def test_workers_are_per_step():
    ex = execution({"execution": {"workers": {"boilerplate": 3}}})
    assert (ex.workers.ingest, ex.workers.boilerplate, ex.workers.duplicates, ex.workers.classify) == (
        2,
        3,
        2,
        1,
    )
    with pytest.raises(ParamsError, match=r"execution\.workers\.predict: Extra inputs"):
        execution({"execution": {"workers": {"predict": 1}}})
