"""How the columnar engine (Polars) runs in a long-running process: threads and memory.

Both are fixed when Polars is first imported, from environment variables, so this runs
before anything imports it (``serve`` calls it first thing).

- Threads: in ``serve`` the pipeline shares the machine with the receivers, the API and
  the store writer. One Polars thread per core would make them compete, and parallel
  operators on micro-batches spend more CPU per event than they save in time. Half the
  cores, at least one, leaves the rest to them.
- Memory: every batch allocates and frees a few hundred megabytes. Polars configures
  its allocator (jemalloc) to hand freed pages back to the operating system after half
  a second to a second, and the next batch faults them in again: that showed as a fifth
  of the server's CPU time in system calls. Keeping freed pages for 20 s removes most
  of it, at the price of resident memory staying near its peak between batches. (Polars
  puts its defaults in front of the variable; jemalloc applies the last of each option.)

Figures: ``benchmarks/bench_serve.py``. A variable the user set is left alone.
"""

from __future__ import annotations

import logging
import os
import sys

THREADS_ENV = "POLARS_MAX_THREADS"
ALLOCATOR_ENV = "_RJEM_MALLOC_CONF"
"""The configuration variable of the jemalloc that Polars is built with."""
ALLOCATOR_CONF = "dirty_decay_ms:20000,muzzy_decay_ms:20000"
log = logging.getLogger(__name__)


def default_threads(cores: int | None) -> int:
    """Half the cores, at least one."""
    return max(1, (cores or 1) // 2)


def configure_compute(threads: int) -> int:
    """Size Polars' thread pool (``0``: :func:`default_threads`) and set its allocator's
    decay; returns the pool's size.

    Variables set by the user win, and once Polars is imported neither can change: both
    are logged rather than silently ignored.
    """
    wanted = threads or default_threads(os.cpu_count())
    if "polars" in sys.modules:
        import polars as pl

        size = pl.thread_pool_size()
        if size != wanted:
            log.warning("Polars was imported already: it keeps %d threads, not %d", size, wanted)
        return size
    if THREADS_ENV in os.environ:
        log.info("%s=%s set in the environment: compute_threads is not applied",
                 THREADS_ENV, os.environ[THREADS_ENV])
    else:
        os.environ[THREADS_ENV] = str(wanted)
    os.environ.setdefault(ALLOCATOR_ENV, ALLOCATOR_CONF)
    import polars as pl

    return pl.thread_pool_size()
