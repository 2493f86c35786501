"""Pulling a partner's TAXII 2.1 collection.

Given a discovery URL the default API root is found first; the collection is named by
id or title. Objects are read page after page (``next`` while ``more``), each page parsed
as STIX. The result's cursor is the newest ``date_added`` the server reported, so that
the next pull asks only for what was added after it.

Only https is spoken, except to a loopback address; a redirect is followed only on the
same host; every answer is size-limited. Errors name the URL and the status, never a
credential.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
import orjson

from watchkeeper.errors import InputError
from watchkeeper.intel.feedfetch import origin
from watchkeeper.intel.feeds.common import parse_time
from watchkeeper.intel.feeds.stix import parse_stix_objects
from watchkeeper.intel.model import FeedResult

log = logging.getLogger(__name__)

TAXII_MEDIA = "application/taxii+json;version=2.1"
MAX_REDIRECTS = 5
ERROR_BYTES = 64 << 10
"""An error answer is read this far, for its title."""


def shown(url: str) -> str:
    """``url`` without credentials or query, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def check_url(url: str) -> None:
    """:class:`InputError` unless ``url`` is https, or http to a loopback address."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and _loopback(host):
        return
    raise InputError("a TAXII server is reached over https (http only on loopback)",
                     location=shown(url))


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Session:
    """One pull's HTTP client: credentials, size limit, same-host redirects."""

    def __init__(self, client: httpx.Client, max_bytes: int) -> None:
        self.client = client
        self.max_bytes = max_bytes

    def get(self, url: str, params: dict[str, str] | None = None) -> tuple[Any, httpx.Headers]:
        """The JSON document at ``url`` and the answer's headers."""
        check_url(url)
        host = urlsplit(url).netloc
        for _ in range(MAX_REDIRECTS + 1):
            try:
                with self.client.stream("GET", url, params=params) as answer:
                    if answer.is_redirect:
                        target = urljoin(url, answer.headers.get("location", ""))
                        if urlsplit(target).netloc != host:
                            raise InputError(f"refused a redirect to another host "
                                             f"({urlsplit(target).hostname})", location=shown(url))
                        check_url(target)
                        url = target
                        continue
                    body = self._read(answer, url)
                    headers = answer.headers
            except httpx.HTTPError as error:
                raise InputError(f"cannot reach the TAXII server: {type(error).__name__}",
                                 location=shown(url)) from None
            return self._decode(answer, body, url), headers
        raise InputError("too many redirects", location=shown(url))

    def _read(self, answer: httpx.Response, url: str) -> bytes:
        if answer.status_code != 200:
            head = _bounded(answer, ERROR_BYTES)
            raise InputError(f"HTTP {answer.status_code}{_why(head)}", location=shown(url))
        body = _bounded(answer, self.max_bytes)
        if body is None:
            raise InputError(f"the answer is larger than {self.max_bytes} bytes",
                             location=shown(url))
        return body

    @staticmethod
    def _decode(answer: httpx.Response, body: bytes, url: str) -> Any:
        media = answer.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in ("application/taxii+json", "application/json",
                         "application/stix+json"):
            raise InputError(f"HTTP {answer.status_code}: not TAXII content "
                             f"({media or 'no content type'})", location=shown(url))
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise InputError(f"HTTP {answer.status_code}: not JSON",
                             location=shown(url)) from None
        if not isinstance(document, dict):
            raise InputError(f"HTTP {answer.status_code}: not a TAXII resource",
                             location=shown(url))
        return document


def _bounded(answer: httpx.Response, limit: int) -> bytes | None:
    """The body, or None when it is longer than ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    for chunk in answer.iter_bytes():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _why(body: bytes | None) -> str:
    """The title of a TAXII error message, when the answer is one."""
    try:
        title = orjson.loads(body or b"").get("title")
    except (orjson.JSONDecodeError, AttributeError):
        return ""
    return f": {str(title)[:200]}" if isinstance(title, str) else ""


def pull_taxii(url: str, collection: str, *, source: str, added_after: str | None = None,
               token: str | None = None, username: str | None = None,
               password: str | None = None, verify: bool = True, timeout: float = 30.0,
               max_pages: int = 100, max_bytes: int = 64 << 20,
               transport: httpx.BaseTransport | None = None) -> FeedResult:
    """The indicators of ``collection`` (an id or a title) added after ``added_after``,
    from the TAXII server at ``url`` (a discovery URL or an API root)."""
    check_url(url)
    headers = {"Accept": TAXII_MEDIA}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    auth = httpx.BasicAuth(username, password or "") if username and not token else None
    with httpx.Client(headers=headers, auth=auth, verify=verify, timeout=timeout,
                      follow_redirects=False, transport=transport) as client:
        session = _Session(client, max_bytes)
        root = api_root(session, url)
        objects_url = urljoin(root, f"collections/{find_collection(session, root, collection)}"
                                    "/objects/")
        result = FeedResult([], [], cursor=added_after)
        newest: tuple[datetime, str] | None = _stamp(added_after)
        for objects, last in pages(session, objects_url, added_after, max_pages):
            part = parse_stix_objects(objects, source)
            result.absorb(part)
            stamps = [_stamp(last)] if last else [_stamp(_version(o)) for o in objects]
            for stamp in stamps:
                if stamp is not None and (newest is None or stamp[0] > newest[0]):
                    newest = stamp
        result.cursor = newest[1] if newest is not None else added_after
        log.info("TAXII pull", extra={"url": shown(objects_url), "source": source,
                                      "indicators": len(result.indicators)})
        return result


def api_root(session: _Session, url: str) -> str:
    """The API root at ``url``, or the default one of the discovery resource there."""
    base = url if url.endswith("/") else url + "/"
    document, _ = session.get(base)
    if "api_roots" in document or "default" in document:
        roots = document.get("api_roots") or []
        chosen = document.get("default") or (roots[0] if roots else None)
        if not isinstance(chosen, str) or not chosen:
            raise InputError("the TAXII server names no API root", location=shown(url))
        root = urljoin(base, chosen)
        if origin(root) != origin(base):
            # the credentials go with every request: never to a host the server names
            raise InputError(f"the TAXII server's API root is on another origin "
                             f"({origin(root)}): refused", location=shown(url))
        return root if root.endswith("/") else root + "/"
    if "versions" not in document and "title" not in document:
        raise InputError("neither a TAXII discovery resource nor an API root",
                         location=shown(url))
    return base


def find_collection(session: _Session, root: str, wanted: str) -> str:
    """The id of the readable collection whose id, title or alias is ``wanted``."""
    document, _ = session.get(urljoin(root, "collections/"))
    listed = document.get("collections") or []
    for entry in listed if isinstance(listed, list) else []:
        if isinstance(entry, dict) and wanted in (entry.get("id"), entry.get("title"),
                                                  entry.get("alias")):
            if entry.get("can_read") is False:
                raise InputError(f"the collection {wanted!r} may not be read",
                                 location=shown(root))
            return str(entry["id"])
    raise InputError(f"no collection {wanted!r} on the TAXII server", location=shown(root))


def pages(session: _Session, url: str, added_after: str | None, max_pages: int
          ) -> Iterator[tuple[list[Any], str | None]]:
    """Each page's objects and its ``X-TAXII-Date-Added-Last``."""
    params: dict[str, str] = {}
    if added_after:
        params["added_after"] = added_after
    for _ in range(max(1, max_pages)):
        envelope, headers = session.get(url, params=dict(params))
        objects = envelope.get("objects") or []
        if not isinstance(objects, list):
            raise InputError("an envelope's objects are not a list", location=shown(url))
        last = headers.get("x-taxii-date-added-last")
        yield objects, last
        if envelope.get("more") is not True:
            return
        following = envelope.get("next")
        if isinstance(following, str) and following:
            params["next"] = following
        elif last and last != params.get("added_after"):
            params["added_after"] = last  # a server that pages by date alone
        else:
            return
    log.warning("TAXII pull stopped after %d pages", max_pages, extra={"url": shown(url)})


def _version(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return None
    value = obj.get("modified") or obj.get("created")
    return value if isinstance(value, str) else None


def _stamp(text: str | None) -> tuple[datetime, str] | None:
    try:
        moment = parse_time(text)
    except InputError:
        return None
    return None if moment is None else (moment, text or "")
