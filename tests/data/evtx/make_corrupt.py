"""Build the damaged EVTX golden inputs from the two real files beside this script.

The two ``.evtx`` files come from SigmaHQ's regression data (one record each). Their
chunks are put together into a three-chunk file with distinct record ids (headers
and checksums recomputed), then damaged one way per file. Outputs are gzipped: an
EVTX chunk is mostly padding. Run ``python tests/data/evtx/make_corrupt.py``.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER, CHUNK = 4096, 65536
SECOND = HEADER + CHUNK  # where chunk 1 starts


def _chunk(path: Path) -> bytes:
    return path.read_bytes()[HEADER:HEADER + CHUNK]


def _renumber(chunk: bytes, record_id: int) -> bytes:
    """One-record chunk with ``record_id`` everywhere the id is kept, checksums redone."""
    data = bytearray(chunk)
    struct.pack_into("<QQQQ", data, 8, record_id, record_id, record_id, record_id)
    struct.pack_into("<Q", data, 512 + 8, record_id)
    free_space = struct.unpack_from("<I", data, 48)[0]
    struct.pack_into("<I", data, 52, zlib.crc32(data[512:free_space]))
    struct.pack_into("<I", data, 124, zlib.crc32(data[:120] + data[128:512]))
    return bytes(data)


def three_chunks() -> bytes:
    sysmon = _chunk(HERE / "sysmon_process_creation.evtx")
    wmi = _chunk(HERE / "wmi_userdata.evtx")
    chunks = [_renumber(sysmon, 1), _renumber(wmi, 2), _renumber(sysmon, 3)]
    header = bytearray((HERE / "sysmon_process_creation.evtx").read_bytes()[:HEADER])
    struct.pack_into("<QQQ", header, 8, 0, len(chunks) - 1, len(chunks) + 1)
    struct.pack_into("<H", header, 42, len(chunks))
    struct.pack_into("<I", header, 124, zlib.crc32(header[:120]))
    return bytes(header) + b"".join(chunks)


def _patched(data: bytes, at: int, patch: bytes) -> bytes:
    return data[:at] + patch + data[at + len(patch):]


def cases() -> dict[str, bytes]:
    good = three_chunks()
    return {
        "three_chunks": good,
        "bad_chunk_magic": _patched(good, SECOND, b"XXXXXXXX"),
        "bad_string_cache": _patched(good, SECOND + 512 + 24, b"\xff" * 176),
        "zeroed_record_header": _patched(good, SECOND + 512, b"\x00" * 4),
        "truncated_chunk": good[: SECOND + CHUNK + 30000],
        "bad_file_header": _patched(good, 0, b"NotEvtx!"),
        "truncated_file_header": good[:2000],
    }


def main() -> None:
    for name, data in cases().items():
        (HERE / f"{name}.evtx.gz").write_bytes(gzip.compress(data, mtime=0))


if __name__ == "__main__":
    main()
