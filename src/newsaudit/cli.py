"""The ``newsaudit`` command line: one sub-command per pipeline stage, plus ``audit``.

Each stage module registers its own sub-command through ``register_cli(subparsers)``; this module
only wires them together, sets up logging and turns the project's own errors into a clear message
and exit code 2 (no traceback for bad input or bad parameters).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from newsaudit.errors import NewsauditError

log = logging.getLogger("newsaudit")

# Modules that contribute sub-commands, in pipeline order. A module listed here must define
# ``register_cli(subparsers)``; modules that are not there yet are skipped so the CLI still works.
STAGE_MODULES = (
    "newsaudit.fetch",
    "newsaudit.ingest",
    "newsaudit.boilerplate",
    "newsaudit.duplicates",
    "newsaudit.labels",
    "newsaudit.train",
    "newsaudit.evaluate",
    "newsaudit.predict",
    "newsaudit.audit",
    "newsaudit.report",
    "newsaudit.bench",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsaudit", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--params", default="params.yaml", help="parameter file (default: params.yaml)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in STAGE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register_cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        args.func(args)
    except NewsauditError as exc:
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
