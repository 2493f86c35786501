"""Where the file tailer stopped in each file: a small JSON file, replaced atomically.

An entry names a file by path and by identity (device, inode) and keeps a checksum of
its first bytes, so that a new file that got an old inode number is not mistaken for
the old one. The file is written to a temporary name, fsynced, then renamed over the
old one: a crash leaves either the old positions or the new ones, never half of each.
"""

from __future__ import annotations

import json
import logging
import os
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

HEAD_BYTES = 256
"""How much of a file's beginning its fingerprint covers."""
VERSION = 1


@dataclass(slots=True)
class Position:
    """How far a file has been read (complete lines, durable in the spool)."""

    dev: int
    ino: int
    offset: int
    head_len: int = 0
    head_crc: int = 0


def fingerprint(fd: int, length: int) -> tuple[int, int]:
    """``(length, crc)`` of the first ``min(length, HEAD_BYTES)`` bytes of an open file."""
    head = os.pread(fd, min(length, HEAD_BYTES), 0)
    return len(head), zlib.crc32(head)


def same_file(position: Position, fd: int) -> bool:
    """Whether the open file starts as the file the position was saved for."""
    if position.head_len == 0:
        return True
    return fingerprint(fd, position.head_len) == (position.head_len, position.head_crc)


def load_positions(path: Path) -> dict[str, Position]:
    """Saved positions by path; an unreadable file means starting over, with a warning."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        logger.warning("tail positions in %s unreadable, files read from the start: %s",
                       path, error)
        return {}
    entries = document.get("files") if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        logger.warning("tail positions in %s have no 'files' table; ignored", path)
        return {}
    positions: dict[str, Position] = {}
    for name, entry in entries.items():
        try:
            positions[name] = Position(**{key: int(entry[key]) for key in
                                          ("dev", "ino", "offset", "head_len", "head_crc")})
        except (KeyError, TypeError, ValueError):
            logger.warning("tail position of %s in %s unreadable; ignored", name, path)
    return positions


def save_positions(path: Path, positions: dict[str, Position]) -> None:
    """Replace the positions file atomically (write, fsync, rename, fsync the folder)."""
    document = {"version": VERSION, "files": {name: asdict(position)
                                              for name, position in sorted(positions.items())}}
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as file:
        json.dump(document, file, indent=1)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    fd = os.open(path.parent, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
