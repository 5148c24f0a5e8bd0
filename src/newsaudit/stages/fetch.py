"""Stage ``fetch``: copy or download the registered datasets into ``data/external/``, verified.

Reads params section ``data``; the work is :func:`newsaudit.datasets.fetch.fetch`.
"""

from __future__ import annotations

import argparse
import logging

from newsaudit.core.config import load_params, section
from newsaudit.datasets.fetch import DataParams, fetch

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fetch", help="copy or download the registered datasets into data/external/, verified")
    p.add_argument("--mirror", help="mirror folder (overrides data.mirror)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    params = section(load_params(args.params), "data", DataParams)
    if args.mirror:
        params = params.model_copy(update={"mirror": args.mirror})
    counts = fetch(params)
    log.info("fetched %s", ", ".join(f"{k}: {v} files" for k, v in counts.items()))
