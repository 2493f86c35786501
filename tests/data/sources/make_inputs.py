"""Build the binary inputs of ``input/`` (gzip and zip files, damaged ones included).

Run ``python tests/data/sources/make_inputs.py``; outputs are byte-for-byte stable.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import orjson

INPUT = Path(__file__).resolve().parent / "input"


def line(record: int, image: str) -> bytes:
    event = {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Image": image,
             "EventRecordID": record}
    return orjson.dumps(event) + b"\n"


def member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2024, 3, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def main() -> None:
    tree = INPUT / "tree"
    (tree / "sub").mkdir(parents=True, exist_ok=True)
    (tree / ".cache").mkdir(exist_ok=True)
    (tree / "a.ndjson").write_bytes(line(1, "a"))
    (tree / ".hidden.ndjson").write_bytes(line(2, "hidden"))
    (tree / ".cache" / "config.ndjson").write_bytes(line(3, "git"))
    (tree / "sub" / "b.ndjson.gz").write_bytes(gzip.compress(line(4, "b") + line(5, "b2"), mtime=0))
    (tree / "sub" / "c.log").write_bytes(gzip.compress(line(6, "gzip without .gz"), mtime=0))
    (tree / "notes.txt").write_bytes(b"plain words, no log format\n")
    (tree / "empty.ndjson").write_bytes(b"")
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr(member("deep/e.ndjson"), line(9, "zip in zip"))
    with zipfile.ZipFile(INPUT / "bundle.zip", "w") as archive:
        archive.writestr(member("logs/"), b"")
        archive.writestr(member("logs/c.ndjson"), line(7, "zip member"))
        archive.writestr(member("logs/d.ndjson.gz"), gzip.compress(line(8, "gzip in zip"), mtime=0))
        archive.writestr(member("inner.zip"), inner.getvalue())
        archive.writestr(member("__MACOSX/logs/._c.ndjson"), b"junk")
        archive.writestr(member("logs/.DS_Store"), b"junk")
        archive.writestr(member("broken.gz"), gzip.compress(line(10, "cut") * 50, mtime=0)[:60])
    full = gzip.compress(b"".join(line(100 + i, "x" * 50) for i in range(200)), mtime=0)
    (INPUT / "corrupt.ndjson.gz").write_bytes(full[: len(full) // 2])
    (INPUT / "corrupt.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 100)


if __name__ == "__main__":
    main()
