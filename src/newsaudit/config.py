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

from newsaudit.errors import NewsauditError

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
    with path.open(encoding="utf-8") as fh:
        params = yaml.safe_load(fh) or {}
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


ENGINES = ("local", "dask")


def engine_of(params: dict[str, Any], engine: str | None = None) -> str:
    """The engine asked for (``--engine``), else params.yaml's ``engine``; a clear error otherwise."""
    name = engine or params.get("engine", "local")
    if name not in ENGINES:
        raise ParamsError(f"engine {name!r} (params.yaml 'engine' or --engine): expected one of {ENGINES}")
    return name
