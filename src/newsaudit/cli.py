"""The ``newsaudit`` command line: one sub-command per pipeline stage, plus ``audit``, ``predict``, ``bench``.

Each stage module (``newsaudit.stages.<name>``) registers its own sub-command through
``register(subparsers)``; this module only wires them together, sets up logging and turns the
project's own errors into a clear message and exit code 2 (no traceback for bad input or bad
parameters).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from newsaudit.core.errors import NewsauditError
from newsaudit.stages import REGISTRY

log = logging.getLogger("newsaudit")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsaudit", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--params", default="params.yaml", help="parameter file (default: params.yaml)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in dict.fromkeys(REGISTRY.values()):
        importlib.import_module(module).register(sub)
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
