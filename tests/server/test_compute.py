"""The compute threads setting: applied before Polars sizes its pool, and honest when not."""

from __future__ import annotations

import os
import subprocess
import sys

from watchkeeper.ops.compute import default_threads

SERVE_IMPORTS = (
    "import sys\n"
    "from watchkeeper.cli import main\n"
    "main.register()\n"
    "from watchkeeper.cli.server import settings_from\n"
    "from watchkeeper.ops.logs import configure_logging\n"
    "assert 'polars' not in sys.modules, 'polars is imported before serve sizes its pool'\n"
)


def _run(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "POLARS_MAX_THREADS"}
    done = subprocess.run([sys.executable, "-c", code], env={**clean, **env},
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_half_the_cores_and_at_least_one() -> None:
    assert [default_threads(n) for n in (None, 1, 2, 3, 8, 64)] == [1, 1, 1, 1, 4, 32]


def test_serve_sizes_the_pool_before_polars_is_imported() -> None:
    code = SERVE_IMPORTS + (
        "from watchkeeper.ops.compute import configure_compute\n"
        "print(configure_compute(3))\n"
        "import polars as pl\n"
        "print(pl.thread_pool_size())\n"
    )
    assert _run(code).split() == ["3", "3"]


def test_a_users_variable_wins_and_a_late_call_says_so() -> None:
    code = ("from watchkeeper.ops.compute import configure_compute\n"
            "print(configure_compute(3))\n")
    assert _run(code, POLARS_MAX_THREADS="2") == "2"
    late = ("import logging, polars\n"
            "logging.basicConfig(level=logging.INFO, format='%(message)s')\n"
            "from watchkeeper.ops.compute import configure_compute\n"
            "print(configure_compute(3))\n")
    clean = {k: v for k, v in os.environ.items() if k != "POLARS_MAX_THREADS"}
    done = subprocess.run([sys.executable, "-c", late], env={**clean, "POLARS_MAX_THREADS": "1"},
                          capture_output=True, text=True, check=False)
    assert done.stdout.strip() == "1"
    assert "Polars was imported already: it keeps 1 threads, not 3" in done.stderr


def test_the_allocator_keeps_freed_pages_unless_the_user_says_otherwise() -> None:
    code = ("import os\n"
            "from watchkeeper.ops.compute import configure_compute\n"
            "configure_compute(1)\n"
            "print(os.environ['_RJEM_MALLOC_CONF'])\n")
    clean = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    done = subprocess.run([sys.executable, "-c", code], env=clean, capture_output=True,
                          text=True, check=False)
    # Polars puts its own defaults in front; jemalloc applies options in order, so the
    # last ones are in force
    assert done.stdout.strip().endswith("dirty_decay_ms:20000,muzzy_decay_ms:20000")
    users = _run(code, _RJEM_MALLOC_CONF="narenas:2")
    assert users.endswith("narenas:2")
    assert "20000" not in users
