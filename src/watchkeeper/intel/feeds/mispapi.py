"""Pulling events from a MISP server's REST API (with PyMISP), read exactly as feed
events are. The API key goes to the client only: it is never logged or put in an error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from watchkeeper.errors import InputError
from watchkeeper.intel.feeds.misp import parse_misp_event_dict
from watchkeeper.intel.model import FeedProblem, FeedResult

PAGE_SIZE = 100


class SearchClient(Protocol):
    def search(self, *args: Any, **kwargs: Any) -> Any: ...


ClientFactory = Callable[..., SearchClient]
"""Called as ``factory(url, key, ssl=…, timeout=…)``, like :class:`pymisp.PyMISP`."""


def pull_misp_api(url: str, key: str, *, since: int | None, verify_tls: bool = True,
                  timeout: float = 30, client_factory: ClientFactory | None = None,
                  page_size: int = PAGE_SIZE, source: str | None = None) -> FeedResult:
    """The indicators of the events changed after ``since`` (epoch seconds; all when
    None), page by page; the cursor is the highest event timestamp seen. ``source``
    names the feed in the indicators (the URL when not given).
    :class:`InputError` when the server cannot be asked or answers with an error."""
    if client_factory is None:
        from pymisp import PyMISP

        client_factory = PyMISP
    client = client_factory(url, key, ssl=verify_tls, timeout=timeout)
    result = FeedResult([], [])
    newest = since
    page = 1
    while True:
        events = _page(client, url, since, page, page_size)
        for index, event in enumerate(events):
            where = f"{url}: page {page}, event {index}"
            if not isinstance(event, dict):
                result.problems.append(FeedProblem(where, "not an event object"))
                continue
            try:
                one = parse_misp_event_dict(event, source or url)
            except InputError as exc:
                result.problems.append(FeedProblem(where, exc.message))
                continue
            result.absorb(one)
            if one.cursor is not None and (newest is None or int(one.cursor) > newest):
                newest = int(one.cursor)
        if len(events) < page_size:
            break
        page += 1
    result.cursor = str(newest) if newest is not None else None
    return result


def _page(client: SearchClient, url: str, since: int | None, page: int,
          page_size: int) -> list[Any]:
    try:
        answer = client.search(controller="events", return_format="json", timestamp=since,
                               limit=page_size, page=page, pythonify=False)
    except Exception as exc:  # PyMISP and requests raise many kinds; none carry the key
        raise InputError(f"MISP search failed: {type(exc).__name__}: {exc}",
                         location=url) from None
    if isinstance(answer, dict) and "errors" in answer:
        raise InputError(f"MISP answered with an error: {answer['errors']}", location=url)
    if isinstance(answer, dict) and isinstance(answer.get("response"), list):
        answer = answer["response"]
    if not isinstance(answer, list):
        raise InputError(f"MISP answered with {type(answer).__name__}, not a list of events",
                         location=url)
    return answer
