"""Watchkeeper: an open-source SecOps platform.

The public API is re-exported here; everything else lives in private-by-convention
modules of one package per capability (``parsers``, ``detection``, ``hunt``).
"""

from watchkeeper.errors import WatchkeeperError

__version__ = "0.1.0"

__all__ = ["WatchkeeperError", "__version__"]
