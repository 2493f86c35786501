"""The error a query raises when it cannot be read or does not fit the store."""

from __future__ import annotations

from watchkeeper.errors import UsageError


class QueryError(UsageError):
    """A search query that cannot be parsed or compiled (HTTP 400).

    ``column`` is the 1-based character position in the query where the problem was
    found, so that a user interface can point at it; it is ``None`` for problems that
    belong to the request rather than to a place in the query text (a bad limit).
    """

    def __init__(self, message: str, *, column: int | None = None) -> None:
        super().__init__(message, location=None if column is None else f"column {column}")
        self.column = column
