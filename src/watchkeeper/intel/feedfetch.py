"""Where a feed may be read from, and reading it with a byte cap.

A feed is an ``https://`` URL (``http://`` only on the loopback interface, for a mirror
on the same machine) or, for the file-based types, a local file or folder. Downloads are
streamed and stopped at the cap; redirects are followed only within the configured
origin (scheme, host and port), so that a feed server can send neither the request's
credentials elsewhere nor the request to a service on this machine.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from watchkeeper.errors import InputError, UsageError

MAX_REDIRECTS = 5
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def is_url(location: str) -> bool:
    return location.lower().startswith(("https://", "http://"))


def check_url(url: str) -> str:
    """``url`` when a feed may be fetched from it; :class:`UsageError` saying why not."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("https", "http") or not parts.hostname:
        raise UsageError(f"{url!r} is not an http(s) URL with a host")
    if parts.username or parts.password:
        raise UsageError("a feed URL carries no credentials: give them as the feed's secret")
    if parts.scheme.lower() == "http" and not _loopback(parts.hostname):
        raise UsageError(f"{url!r}: plain http is allowed only on the loopback interface; "
                         "use https")
    return url


def origin(url: str) -> str:
    """``scheme://host:port`` of ``url``, the port spelled out."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"https": 443, "http": 80}.get(scheme, 0)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


def _loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_location(location: str, *, folder: bool, files_allowed: bool) -> str:
    """A URL (see :func:`check_url`) or, when ``files_allowed``, an existing local file
    (a folder when ``folder``), as an absolute path."""
    text = location.strip()
    if not text:
        raise UsageError("a feed needs a URL or a path")
    if is_url(text):
        return check_url(text)
    if not files_allowed:
        raise UsageError(f"{text!r}: this feed type needs an https:// URL")
    path = Path(text).expanduser()
    if folder and not path.is_dir():
        raise UsageError(f"{text!r} is not an https:// URL or an existing folder")
    if not folder and not path.is_file():
        raise UsageError(f"{text!r} is not an https:// URL or an existing file")
    return str(path.resolve())


def child(location: str, name: str) -> str:
    """``name`` inside a feed folder given by URL or path (a MISP feed's files)."""
    if is_url(location):
        return urljoin(location if location.endswith("/") else location + "/", name)
    return str(Path(location) / name)


def too_large(max_bytes: int) -> InputError:
    return InputError(f"larger than {max_bytes / (1 << 20):g} MB, the most a feed may have")


class Fetcher:
    """Reads feed documents: URLs over HTTP(S) with timeouts, files from disk, both capped."""

    def __init__(self, max_bytes: int, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.transport = transport

    def read(self, location: str, headers: dict[str, str] | None = None) -> bytes:
        """The document; :class:`InputError` when it cannot be read or is over the cap."""
        if not is_url(location):
            return self._file(Path(location))
        try:
            return self._download(location, headers or {})
        except httpx.TimeoutException:
            raise InputError(f"timed out after {self.timeout:g} s", location=location) from None
        except httpx.HTTPError as error:
            raise InputError(f"{type(error).__name__}: {error}", location=location) from None

    def _download(self, location: str, headers: dict[str, str]) -> bytes:
        with httpx.Client(timeout=self.timeout, follow_redirects=False,
                          transport=self.transport) as client:
            url = location
            for _ in range(MAX_REDIRECTS + 1):
                with client.stream("GET", url, headers=headers) as answer:
                    if answer.is_redirect and "location" in answer.headers:
                        target = urljoin(url, answer.headers["location"])
                        if origin(target) != origin(location):
                            raise InputError(
                                f"redirected to another origin ({origin(target)}): refused, "
                                "so that the feed's credentials stay with its server",
                                location=location)
                        url = check_url(target)
                        continue
                    if answer.status_code >= 400:
                        raise InputError(f"HTTP {answer.status_code} {answer.reason_phrase}",
                                         location=url)
                    return self._capped(answer)
            raise InputError(f"more than {MAX_REDIRECTS} redirects", location=location)

    def _capped(self, answer: httpx.Response) -> bytes:
        declared = answer.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_large(self.max_bytes)
        chunks: list[bytes] = []
        size = 0
        for chunk in answer.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise too_large(self.max_bytes)
            chunks.append(chunk)
        return b"".join(chunks)

    def _file(self, path: Path) -> bytes:
        try:
            with path.open("rb") as handle:
                data = handle.read(self.max_bytes + 1)
        except OSError as error:
            raise InputError(f"cannot read: {error.strerror}", location=str(path)) from None
        if len(data) > self.max_bytes:
            raise too_large(self.max_bytes)
        return data
