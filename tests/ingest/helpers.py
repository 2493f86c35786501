"""Shared helpers of the ingest tests."""

from __future__ import annotations

import asyncio
import time

from watchkeeper.ingest.spool import Chunk, Spool


def read_all(spool: Spool, after: int = 0) -> list[Chunk]:
    """Every durable chunk after ``after``, read in several calls as a consumer would."""
    chunks: list[Chunk] = []
    while batch := spool.read(after, 1 << 16):
        chunks.extend(batch)
        after = batch[-1].seq
    return chunks


def lines_of(chunks: list[Chunk]) -> list[bytes]:
    return [line for chunk in chunks for line in chunk.payload.split(b"\n")[:-1]]


async def wait_lines(spool: Spool, count: int, timeout: float = 5.0) -> list[bytes]:
    """The spool's lines once there are at least ``count`` (fails after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = lines_of(read_all(spool))
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        await asyncio.sleep(0.01)
