"""Typed access to ``params.yaml``.

Every stage reads its own section of ``params.yaml`` through a pydantic model declared in the
stage's module. Unknown or mistyped keys fail with a message that names the parameter, so a typo
in ``params.yaml`` never silently falls back to a default buried in code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from newsaudit.core.errors import NewsauditError

DEFAULT_PARAMS = Path("params.yaml")


class Section(BaseModel):
    """Base for one ``params.yaml`` section: unknown keys are errors, values are validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)


S = TypeVar("S", bound=Section)


class ParamsError(NewsauditError):
    """A parameter is missing, unknown or of the wrong type."""


def load_params(path: str | Path = DEFAULT_PARAMS) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ParamsError(
            f"parameter file {path} does not exist (run from the project root or pass --params)"
        )
    try:
        with path.open(encoding="utf-8") as fh:
            params = yaml.safe_load(fh) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ParamsError(f"{path}:{where}: not valid YAML ({what})") from None
    except UnicodeDecodeError as exc:
        raise ParamsError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not isinstance(params, dict):
        raise ParamsError(f"{path}: expected a mapping of sections at the top level")
    return params


def section(params: dict[str, Any], name: str, model: type[S], source: str = "params.yaml") -> S:
    """Validate ``params[name]`` against ``model``; errors name ``section.key`` and the problem."""
    raw = params.get(name, {})
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ParamsError(f"{source}: section '{name}' must be a mapping, got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            problems.append(f"{name}.{key}: {err['msg']}")
        raise ParamsError(f"{source}: invalid parameters: " + "; ".join(problems)) from None


ENGINES = ("memory", "stream", "dask")
_ENGINE_ALIASES = {"local": "stream"}  # the name before the in-memory engine existed


class StepWorkers(Section):
    """Processes per step on the stream engine (they change speed and memory, never outputs)."""

    ingest: int = 2
    boilerplate: int = 2
    duplicates: int = 2
    classify: int = 1


class DaskSettings(Section):
    """Where the Dask cluster is and how the pages are partitioned."""

    scheduler: str = "local"  # "local" starts a LocalCluster; else an address, e.g. tcp://host:8786
    workers: int = 0  # LocalCluster workers (processes); 0 = one per core / threads_per_worker
    threads_per_worker: int = 1
    partition_rows: int = 2000  # pages per partition
    # Verified near-duplicate edges gathered on the client for connected components.
    client_edges_max: int = 50_000_000


class Execution(Section):
    """``execution`` section: how to run (engine, workers, cluster), not what to compute. No DVC stage
    lists it, so changing it reruns nothing."""

    engine: str = "stream"
    workers: StepWorkers = StepWorkers()
    dask: DaskSettings = DaskSettings()

    def model_post_init(self, __context: Any) -> None:
        name = _ENGINE_ALIASES.get(self.engine, self.engine)
        if name not in ENGINES:
            raise ParamsError(f"execution.engine {self.engine!r}: expected one of {ENGINES}")
        object.__setattr__(self, "engine", name)


def execution(params: dict[str, Any], engine: str | None = None, scheduler: str | None = None) -> Execution:
    """The ``execution`` section, with a command line's ``--engine`` / ``--scheduler`` applied."""
    moved = [k for k in ("engine", "dask") if k in params]
    if moved:
        raise ParamsError(
            f"params.yaml: top-level {' and '.join(repr(k) for k in moved)} moved into the 'execution' "
            "section (execution.engine, execution.dask), which no DVC stage tracks"
        )
    ex = section(params, "execution", Execution)
    update: dict[str, Any] = {}
    if engine:
        name = _ENGINE_ALIASES.get(engine, engine)
        if name not in ENGINES:
            raise ParamsError(f"engine {engine!r} (--engine): expected one of {ENGINES}")
        update["engine"] = name
    if scheduler:
        update["dask"] = ex.dask.model_copy(update={"scheduler": scheduler})
    return ex.model_copy(update=update) if update else ex
