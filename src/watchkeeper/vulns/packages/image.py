"""Container images saved by ``docker save``: ``manifest.json`` names the layers, each a tar.

Layers are read in order as streams, never unpacked to disk. Only the files some
package source wants (and ``os-release``) are kept in memory, with every symbolic
link; whiteouts (``.wh.name``) and opaque folders (``.wh..wh..opq``) of a layer
delete what earlier layers left, so a package removed in a later layer does not count.
Members named outside the root (``../``, absolute) and links climbing out of it are
refused and reported.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from watchkeeper.vulns.packages.base import (
    Limits,
    PackageSourceError,
    Skipped,
    expect,
    join,
)
from watchkeeper.vulns.packages.trees import Entry, ImageTree

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
TAR_ERRORS = (tarfile.TarError, OSError, EOFError, ValueError)


def is_image(path: str) -> bool:
    """Whether ``path`` is a tar archive holding a ``manifest.json``."""
    try:
        with tarfile.open(path, "r:*") as archive:
            return any(_clean(name) == "manifest.json" for name in archive.getnames())
    except TAR_ERRORS:
        return False


@dataclass
class _Layer:
    """What one layer adds and removes, applied to the tree once the layer is read."""

    entries: dict[str, Entry]
    whiteouts: set[str]
    opaque: set[str]


def read_image(path: str, label: str, wanted: Callable[[str], bool],
               limits: Limits) -> tuple[list[ImageTree], list[Skipped]]:
    """The merged trees of the images in the archive at ``path``, and what was refused."""
    skipped: list[Skipped] = []
    trees: list[ImageTree] = []
    try:
        with tarfile.open(path, "r:*") as archive:
            manifest = expect(json.loads(_member(archive, "manifest.json", limits)), list,
                              "manifest.json")
            for image in manifest:
                image = expect(image, dict, "an image of manifest.json")
                trees.append(_read_one(archive, image, label, wanted, limits, skipped))
    except TAR_ERRORS as exc:
        raise PackageSourceError(f"cannot read the image: {exc}") from None
    return trees, skipped


def _read_one(archive: tarfile.TarFile, image: dict[str, Any], label: str,
              wanted: Callable[[str], bool], limits: Limits,
              skipped: list[Skipped]) -> ImageTree:
    layers = expect(image.get("Layers"), list, "Layers of manifest.json")
    if len(layers) > limits.max_layers:
        raise PackageSourceError(f"{len(layers)} layers, the limit is {limits.max_layers}")
    digests = _diff_ids(archive, image.get("Config"), limits)
    if len(digests) != len(layers):
        digests = [_digest_of(expect(name, str, "a layer path")) for name in layers]
    tree = ImageTree(label)
    members = 0
    for name, digest in zip(layers, digests, strict=True):
        stream = _open_member(archive, expect(name, str, "a layer path"), limits)
        with tarfile.open(fileobj=stream, mode="r|*") as layer:
            found, members = _read_layer(layer, digest, tree, wanted, limits, members, skipped)
        _apply(tree, found)
    return tree


def _read_layer(layer: tarfile.TarFile, digest: str, tree: ImageTree,
                wanted: Callable[[str], bool], limits: Limits, members: int,
                skipped: list[Skipped]) -> tuple[_Layer, int]:
    found = _Layer({}, set(), set())
    for member in layer:
        members += 1
        if members > limits.max_members:
            raise PackageSourceError(f"more than {limits.max_members} files in the image")
        where = tree.location(member.name)
        try:
            name = join("", _clean(member.name))
            if member.name.startswith("/"):
                raise PackageSourceError("an absolute member name")
        except PackageSourceError as exc:
            skipped.append(Skipped(where, f"refused: {exc.message}"))
            continue
        folder, _, base = name.rpartition("/")
        if base == OPAQUE:
            found.opaque.add(folder)
        elif base.startswith(WHITEOUT):
            found.whiteouts.add(join(folder, base[len(WHITEOUT):]))
        elif member.issym():
            try:
                join(folder, member.linkname)  # a relative target may not climb out
            except PackageSourceError:
                skipped.append(Skipped(where, "refused: a link points outside the root"))
                continue
            found.entries[name] = Entry(digest, link=member.linkname)
        elif member.isfile() or member.islnk():
            if wanted(name):
                found.entries[name] = _keep(layer, member, digest, found, tree, limits)
            elif name in tree.entries:
                found.whiteouts.add(name)  # overwritten by a file no source reads
    return found, members


def _keep(layer: tarfile.TarFile, member: tarfile.TarInfo, digest: str, found: _Layer,
          tree: ImageTree, limits: Limits) -> Entry:
    if member.islnk():
        try:
            target = join("", _clean(member.linkname))
        except PackageSourceError:
            return Entry(digest, error="refused: a hard link points outside the root")
        source = found.entries.get(target) or tree.entries.get(target)
        if source is None or source.data is None:
            return Entry(digest, error="a hard link to a file that was not kept")
        return Entry(digest, data=source.data)
    if member.size > limits.max_file_bytes:
        return Entry(digest, error=f"too large ({member.size} bytes, the limit is "
                                   f"{limits.max_file_bytes})")
    handle = layer.extractfile(member)
    data = handle.read(limits.max_file_bytes + 1) if handle is not None else b""
    return Entry(digest, data=data)


def _apply(tree: ImageTree, layer: _Layer) -> None:
    """Delete what ``layer`` whites out from the earlier layers, then add its files."""
    gone = tuple(prefix + "/" for prefix in layer.whiteouts | layer.opaque if prefix)
    everything = "" in layer.opaque
    for path in list(tree.entries):
        if everything or path in layer.whiteouts or path.startswith(gone):
            del tree.entries[path]
    tree.entries.update(layer.entries)


def _clean(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name


def _diff_ids(archive: tarfile.TarFile, config: Any, limits: Limits) -> list[str]:
    """The layers' digests from the image config, or [] when it does not say."""
    if not isinstance(config, str):
        return []
    try:
        document = json.loads(_member(archive, config, limits))
    except (PackageSourceError, ValueError):
        return []
    rootfs = document.get("rootfs") if isinstance(document, dict) else None
    ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    return [str(i) for i in ids] if isinstance(ids, list) else []


def _digest_of(layer_path: str) -> str:
    """``sha256:…`` for ``blobs/sha256/…``, the folder for ``<id>/layer.tar``."""
    parts = _clean(layer_path).split("/")
    if len(parts) >= 3 and parts[-3] == "blobs":
        return f"{parts[-2]}:{parts[-1]}"
    return parts[0] if len(parts) > 1 else parts[-1]


def _find(archive: tarfile.TarFile, name: str, limits: Limits) -> tarfile.TarInfo:
    """The member named ``name``, links followed inside the archive."""
    path = join("", name)
    for _ in range(limits.max_link_hops):
        member = next((m for m in archive.getmembers() if join("", _clean(m.name)) == path),
                      None) if _safe(name) else None
        if member is None:
            raise PackageSourceError(f"{name!r} is not in the image archive")
        if not member.issym():
            return member
        folder = path.rpartition("/")[0]
        path = join(folder, member.linkname)
    raise PackageSourceError(f"too many levels of links for {name!r}")


def _safe(name: str) -> bool:
    try:
        join("", _clean(name))
    except PackageSourceError:
        return False
    return not name.startswith("/")


def _open_member(archive: tarfile.TarFile, name: str, limits: Limits) -> IO[bytes]:
    if not _safe(name):
        raise PackageSourceError(f"refused: the layer {name!r} points outside the archive")
    handle = archive.extractfile(_find(archive, name, limits))
    if handle is None:
        raise PackageSourceError(f"{name!r} is not a file")
    return handle


def _member(archive: tarfile.TarFile, name: str, limits: Limits) -> bytes:
    member = _find(archive, name, limits)
    if member.size > limits.max_file_bytes:
        raise PackageSourceError(f"{name!r} is too large ({member.size} bytes)")
    return _open_member(archive, name, limits).read(limits.max_file_bytes + 1)
