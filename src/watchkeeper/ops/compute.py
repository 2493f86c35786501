"""How many threads the columnar engine (Polars) gets in a long-running process.

Polars sizes its thread pool once, when it is first imported, from
``POLARS_MAX_THREADS``; so this runs before anything imports it. In ``serve`` the
pipeline shares the machine with the receivers, the API and the store writer: one
Polars thread per core would make them compete, and parallel operators on
micro-batches spend more CPU per event than they save in time (measured in
``benchmarks/bench_serve.py``). Half the cores, at least one, leaves the rest to them.
"""

from __future__ import annotations

import logging
import os
import sys

ENV = "POLARS_MAX_THREADS"
log = logging.getLogger(__name__)


def default_threads(cores: int | None) -> int:
    """Half the cores, at least one."""
    return max(1, (cores or 1) // 2)


def limit_compute_threads(threads: int) -> int:
    """Size Polars' thread pool (``0``: :func:`default_threads`); returns the size it has.

    A ``POLARS_MAX_THREADS`` set by the user wins, and once Polars is imported its pool
    cannot change: both are logged rather than silently ignored.
    """
    wanted = threads or default_threads(os.cpu_count())
    if "polars" in sys.modules:
        import polars as pl

        size = pl.thread_pool_size()
        if size != wanted:
            log.warning("Polars was imported already: it keeps %d threads, not %d", size, wanted)
        return size
    if ENV in os.environ:
        log.info("%s=%s set in the environment: compute_threads is not applied",
                 ENV, os.environ[ENV])
    else:
        os.environ[ENV] = str(wanted)
    import polars as pl

    return pl.thread_pool_size()
