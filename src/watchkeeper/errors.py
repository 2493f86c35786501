"""The error tree of Watchkeeper.

Every error the project raises on purpose descends from :class:`WatchkeeperError`,
knows where it happened (``location``: a file, a line, a rule id) and which HTTP
status an API should answer with.

    WatchkeeperError                 500
    ├── UsageError                   400  wrong arguments, options or configuration
    ├── InputError                   422  a log file or record that cannot be read
    ├── RuleError                    422  a Sigma rule that cannot load or compile
    │   └── MappingError             422  a broken logsource or field mapping file
    └── NotFoundError                404
"""

from __future__ import annotations


class WatchkeeperError(Exception):
    """Root of every error Watchkeeper raises on purpose."""

    http_status = 500

    def __init__(self, message: str, *, location: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        if self.location:
            return f"{self.location}: {self.message}"
        return self.message


class UsageError(WatchkeeperError):
    """Wrong arguments, options or configuration."""

    http_status = 400


class InputError(WatchkeeperError):
    """A log file or record that cannot be read."""

    http_status = 422


class RuleError(WatchkeeperError):
    """A Sigma rule that cannot be loaded or compiled."""

    http_status = 422


class MappingError(RuleError):
    """A logsource or field mapping file that is broken."""


class NotFoundError(WatchkeeperError):
    """Something asked for by name or id does not exist."""

    http_status = 404
