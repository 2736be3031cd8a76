"""A real Dask cluster on this machine, as the tests and the parallel benchmark use it."""

from __future__ import annotations

import concurrent.futures
import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def dask_executor() -> Iterator[concurrent.futures.Executor]:
    """The executor of a Dask LocalCluster of 2 process workers, one thread each, reachable only
    from this machine and without a dashboard (nothing listens on a fixed port)."""
    import distributed

    with (
        distributed.LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
        ) as cluster,
        distributed.Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        yield client.get_executor()
