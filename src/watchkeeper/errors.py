"""The error tree of Watchkeeper.

Every error the project raises on purpose descends from :class:`WatchkeeperError`,
knows where it happened (``location``: a file, a line, a rule id) and which HTTP
status an API should answer with.

    WatchkeeperError                 500
    ├── UsageError                   400  wrong arguments, options or configuration
    ├── InputError                   422  a log file or record that cannot be read
    ├── RuleError                    422  a Sigma rule that cannot load or compile
    │   └── MappingError             422  a broken logsource or field mapping file
    ├── AuthenticationError          401  no or bad credentials
    ├── PermissionDenied             403  authenticated, but the role may not do this
    ├── NotFoundError                404
    ├── ConflictError                409  a state change that the current state forbids
    ├── PayloadTooLarge              413  a request body over the configured limit
    └── OverloadedError              429  queues are full: retry after ``retry_after`` seconds
"""

from __future__ import annotations


class WatchkeeperError(Exception):
    """Root of every error Watchkeeper raises on purpose."""

    http_status = 500

    def __init__(self, message: str, *, location: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def http_headers(self) -> dict[str, str]:
        """Headers an HTTP answer about this error carries (none, unless a subclass says)."""
        return {}

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


class AuthenticationError(WatchkeeperError):
    """No credentials, or credentials that are wrong, expired or revoked."""

    http_status = 401


class PermissionDenied(WatchkeeperError):
    """The caller is known but their role does not allow this."""

    http_status = 403


class ConflictError(WatchkeeperError):
    """A change the current state does not allow (a closed alert acknowledged, a duplicate)."""

    http_status = 409


class PayloadTooLarge(WatchkeeperError):
    """A request body larger than the configured limit."""

    http_status = 413


class OverloadedError(WatchkeeperError):
    """The pipeline's bounded queues are full; the caller should retry later."""

    http_status = 429

    def __init__(self, message: str, *, retry_after: int = 1, location: str | None = None) -> None:
        super().__init__(message, location=location)
        self.retry_after = retry_after

    def http_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
