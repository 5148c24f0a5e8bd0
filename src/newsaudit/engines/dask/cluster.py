"""The Dask cluster: connect (or start a LocalCluster), keep pandas' string dtypes, broadcast."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dask
import dask.dataframe as dd
from distributed import Client, LocalCluster

from newsaudit.core.config import DaskSettings

log = logging.getLogger(__name__)


@contextmanager
def connect(params: DaskSettings) -> Iterator[Client]:
    """A client of ``params.scheduler``; for "local", of a LocalCluster started (and stopped) here.

    Worker processes, not threads: the stages are mostly Python code holding the GIL. Inside the
    block Dask keeps pandas' string dtypes (see :func:`_plain_strings`).
    """
    with plain_strings():
        if params.scheduler != "local":
            with Client(params.scheduler) as client:
                log.info("dask: connected to %s", params.scheduler)
                yield client
            return
        n = params.workers or max(1, (os.cpu_count() or 1) // params.threads_per_worker)
        with (
            LocalCluster(
                n_workers=n, threads_per_worker=params.threads_per_worker, processes=True
            ) as cluster,
            Client(cluster) as client,
        ):
            log.info("dask: LocalCluster with %d workers x %d threads", n, params.threads_per_worker)
            yield client


@contextmanager
def plain_strings() -> Iterator[None]:
    """Graphs built inside keep pandas' own string dtypes (Dask would turn them into pyarrow
    ``string``, whose missing values compare differently): the local functions see what they see
    locally."""
    with dask.config.set({"dataframe.convert-string": False}):
        yield


def broadcast(client: Client, obj: Any) -> Any:
    """One copy of ``obj`` on every worker (a future), sent once rather than with every task."""
    if obj is None:
        return None
    return client.scatter([obj], broadcast=True, hash=False)[0]


def split_out(ddf: dd.DataFrame) -> int:
    """Output partitions of a hash aggregation: 1 (a tree reduction) for small inputs."""
    return max(1, ddf.npartitions // 16)
