"""Builds ``docker save`` archives in memory for the image tests."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

Member = tuple[str, bytes | str | None]
"""(name, content): bytes for a file, ``"->target"`` for a symlink, None for a folder."""


def layer(*members: Member, size: int | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, content in members:
            info = tarfile.TarInfo(name)
            if content is None:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            elif isinstance(content, str):
                info.type = tarfile.SYMTYPE
                info.linkname = content.removeprefix("->")
                archive.addfile(info)
            else:
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def save(path: Path, layers: list[bytes], *, oci: bool = False,
         extra: list[tuple[str, bytes]] = (), layer_paths: list[str] | None = None) -> Path:
    """An archive like ``docker save`` writes: legacy ``<id>/layer.tar`` paths with a
    config naming the diff ids, or OCI ``blobs/sha256/…`` gzip blobs without one."""
    files: list[tuple[str, bytes]] = []
    names: list[str] = []
    for data in layers:
        if oci:
            blob = gzip.compress(data, mtime=0)
            name = f"blobs/sha256/{hashlib.sha256(blob).hexdigest()}"
            files.append((name, blob))
        else:
            name = f"{hashlib.sha256(data).hexdigest()[:12]}/layer.tar"
            files.append((name, data))
        names.append(name)
    manifest: dict[str, object] = {"RepoTags": ["example/app:1"],
                                   "Layers": layer_paths or names}
    if not oci:
        config = json.dumps({"rootfs": {"type": "layers",
                                        "diff_ids": [digest(d) for d in layers]}}).encode()
        files.append(("config.json", config))
        manifest["Config"] = "config.json"
    files.append(("manifest.json", json.dumps([manifest]).encode()))
    files.extend(extra)
    with tarfile.open(path, "w") as archive:
        for name, content in files:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return path
