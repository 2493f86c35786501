"""Where files are read from: a folder on disk, or the merged layers of an image.

Both resolve symbolic links as if the tree's root were ``/`` (an absolute target
starts again at the root, a relative one may not climb above it), so that a link in
a scanned folder or image never reads a file of the host running the scan.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field

from watchkeeper.vulns.packages.base import Limits, PackageSourceError


def resolve(path: str, readlink: Callable[[str], str | None], limits: Limits) -> str:
    """``path`` with every symbolic link along it followed inside the root."""
    pending = [part for part in path.split("/") if part not in ("", ".")]
    done: list[str] = []
    hops = 0
    while pending:
        part = pending.pop(0)
        if part == "..":
            if not done:
                raise PackageSourceError("a link points outside the root")
            done.pop()
            continue
        target = readlink("/".join([*done, part]))
        if target is None:
            done.append(part)
            continue
        hops += 1
        if hops > limits.max_link_hops:
            raise PackageSourceError("too many levels of symbolic links")
        if target.startswith("/"):
            done = []
        pending[:0] = [p for p in target.split("/") if p not in ("", ".")]
    return "/".join(done)


class DirectoryTree:
    """A folder on disk, named ``label`` in reports."""

    def __init__(self, root: str | os.PathLike[str], label: str | None = None) -> None:
        self.root = os.fspath(root)
        self.label = label if label is not None else self.root

    def _readlink(self, path: str) -> str | None:
        full = os.path.join(self.root, *path.split("/"))
        try:
            return os.readlink(full) if os.path.islink(full) else None
        except OSError:
            return None

    def real(self, path: str, limits: Limits) -> str:
        """The file on disk for ``path``, links followed inside the root."""
        inside = resolve(path, self._readlink, limits)
        return os.path.join(self.root, *inside.split("/")) if inside else self.root

    def read(self, path: str, limits: Limits) -> bytes:
        full = self.real(path, limits)
        try:
            info = os.stat(full)
            if not stat.S_ISREG(info.st_mode):
                raise PackageSourceError("not a regular file")
            if info.st_size > limits.max_file_bytes:
                raise PackageSourceError(
                    f"too large ({info.st_size} bytes, the limit is {limits.max_file_bytes})")
            with open(full, "rb") as handle:
                data = handle.read(limits.max_file_bytes + 1)
        except FileNotFoundError:
            raise PackageSourceError("no such file") from None
        except OSError as exc:
            raise PackageSourceError(f"cannot read: {exc.strerror or exc}") from None
        if len(data) > limits.max_file_bytes:
            raise PackageSourceError(f"too large (over {limits.max_file_bytes} bytes)")
        return data

    def exists(self, path: str) -> bool:
        try:
            return os.path.isfile(self.real(path, Limits()))
        except PackageSourceError:
            return False

    def location(self, path: str) -> str:
        if not self.label:
            return path
        return f"{self.label.rstrip('/')}/{path}" if path else self.label


@dataclass
class Entry:
    """One file or link of an image, as the last layer that touched it left it."""

    layer: str
    data: bytes | None = None
    link: str | None = None
    error: str | None = None
    """Why the file could not be kept (too large): reported when a source reads it."""


IMAGE_PREFIX = "image:"
"""How the location of a file found in an image starts."""


@dataclass
class ImageTree:
    """The files of an image that package sources may read, after all layers."""

    label: str
    entries: dict[str, Entry] = field(default_factory=dict)

    def _readlink(self, path: str) -> str | None:
        entry = self.entries.get(path)
        return entry.link if entry is not None else None

    def read(self, path: str, limits: Limits) -> bytes:
        entry = self.entries.get(resolve(path, self._readlink, limits))
        if entry is None or entry.link is not None:
            raise PackageSourceError("no such file")
        if entry.error or entry.data is None:
            raise PackageSourceError(entry.error or "not kept")
        return entry.data

    def exists(self, path: str) -> bool:
        try:
            entry = self.entries.get(resolve(path, self._readlink, Limits()))
        except PackageSourceError:
            return False
        return entry is not None and entry.link is None

    def location(self, path: str) -> str:
        """``image:<path in the image>``: neither the layer's digest nor the archive's
        name, so that a rebuilt image or a renamed tarball keeps its findings' keys."""
        return f"{IMAGE_PREFIX}{path}"

    def files(self) -> list[str]:
        return sorted(path for path, entry in self.entries.items() if entry.link is None)
