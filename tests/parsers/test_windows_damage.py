"""Damaged input never raises or hangs: every golden input, cut and with bytes changed."""

from __future__ import annotations

import gzip
import io
import random
from pathlib import Path

import pytest

from tests.parsers.golden import DATA, cases
from watchkeeper.events.model import DATASET, OFFSET, SOURCE, TIMESTAMP
from watchkeeper.parsers.base import Parser
from watchkeeper.parsers.evtx import EvtxParser
from watchkeeper.parsers.jsonlog import EcsJsonParser, EvtxJsonParser, WinlogJsonParser
from watchkeeper.parsers.sysmon_linux import SysmonLinuxParser
from watchkeeper.parsers.winxml import WinXmlParser

FOLDERS: dict[str, type[Parser]] = {
    "winxml": WinXmlParser,
    "evtx-json": EvtxJsonParser,
    "winlog-json": WinlogJsonParser,
    "ecs-json": EcsJsonParser,
    "sysmon-linux": SysmonLinuxParser,
}
INPUTS: list[tuple[type[Parser], Path]] = [
    (EvtxParser, DATA / "evtx" / "three_chunks.evtx.gz"),
    *((parser, path) for folder, parser in FOLDERS.items() for path in cases(folder)),
]


def _damaged(data: bytes, seed: int) -> bytes:
    rng = random.Random(seed)
    damaged = bytearray(data)
    for _ in range(rng.choice([1, 5, 50])):
        damaged[rng.randrange(len(damaged))] = rng.randrange(256)
    if seed % 3 == 0:
        damaged = damaged[: rng.randrange(len(damaged))]
    return bytes(damaged)


@pytest.mark.parametrize(("parser", "path"), INPUTS, ids=lambda v: getattr(v, "name", str(v)))
def test_damaged_input_gives_batches_and_skips_never_an_exception(
    parser: type[Parser], path: Path
) -> None:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    for seed in range(12):
        chunks = list(parser().parse(io.BytesIO(_damaged(data, seed)), "damaged", batch_size=2))
        for chunk in chunks:
            assert chunk.frame.height <= 2
            assert {TIMESTAMP, DATASET, SOURCE, OFFSET} <= set(chunk.frame.columns)
            assert all(skip.source == "damaged" for skip in chunk.skipped)


def test_field_names_that_look_like_patterns_are_plain_names() -> None:
    """``*`` and ``^…$`` mean "all" and "regex" to Polars' expressions; not here."""
    data = b'{"EventID": 1, "Channel": "Security", "*": "star", "^Event.*$": "re", "x": {"*": 1}}\n'
    (chunk,) = WinlogJsonParser().parse(io.BytesIO(data), "odd.ndjson")
    row = chunk.frame.row(0, named=True)
    assert row["*"] == "star"
    assert row["^Event.*$"] == "re"
    assert row["x.*"] == "1"
    assert row["EventID"] == "1"
