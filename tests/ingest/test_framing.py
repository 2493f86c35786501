from __future__ import annotations

import pytest

from watchkeeper.ingest.framing import (
    NOT_A_NUMBER,
    TRUNCATED,
    ZERO_COUNT,
    Decoded,
    FrameDecoder,
    to_line,
    too_long,
)

MIXED = (
    b"<13>Jan  1 00:00:00 host app: newline framed\n"
    b"57 <165>1 2024-05-01T12:00:00Z host app - - - octet counted\n"
    b"<14>crlf framed\r\n"
    b"\n"
    b"28 <13>two\nlines\rin one message"
    b"<13>last newline framed\n"
)
EXPECTED = [
    b"<13>Jan  1 00:00:00 host app: newline framed",
    b"<165>1 2024-05-01T12:00:00Z host app - - - octet counted",
    b"<14>crlf framed",
    b"<13>two#012lines#015in one message",
    b"<13>last newline framed",
]


def decode(*pieces: bytes, limit: int = 64 << 10) -> Decoded:
    decoder = FrameDecoder(limit)
    total = Decoded()
    for piece in (*pieces, None):
        part = decoder.finish() if piece is None else decoder.feed(piece)
        total.messages.extend(part.messages)
        total.rejected.extend(part.rejected)
    return total


def test_both_framings_on_one_stream() -> None:
    result = decode(MIXED)
    assert result.messages == EXPECTED
    assert result.rejected == []


def test_any_cut_of_the_stream_gives_the_same_messages() -> None:
    for cut in range(1, len(MIXED)):
        assert decode(MIXED[:cut], MIXED[cut:]).messages == EXPECTED, cut
    for first in range(1, len(MIXED), 7):
        for second in range(first + 1, len(MIXED), 5):
            pieces = (MIXED[:first], MIXED[first:second], MIXED[second:])
            assert decode(*pieces).messages == EXPECTED, (first, second)


def test_byte_by_byte() -> None:
    assert decode(*(MIXED[i : i + 1] for i in range(len(MIXED)))).messages == EXPECTED


def test_a_long_newline_frame_is_rejected_and_the_stream_goes_on() -> None:
    long = b"<13>" + b"x" * 300 + b"\n"
    whole = (long + b"<13>after\n",)
    for pieces in (whole, (long[:100], long[100:250], long[250:], b"<13>after\n")):
        result = decode(*pieces, limit=256)
        assert result.messages == [b"<13>after"]
        assert [r.reason for r in result.rejected] == [too_long(256)]
        assert result.rejected[0].raw.startswith(b"<13>xxx")
        assert len(result.rejected[0].raw) <= 256


def test_a_long_octet_frame_is_skipped_exactly() -> None:
    body = b"<13>" + b"y\n" * 200
    stream = b"%d " % len(body) + body + b"9 <13>after"
    for cut in (3, 50, 300, len(stream) - 3):
        result = decode(stream[:cut], stream[cut:], limit=256)
        assert result.messages == [b"<13>after"], cut
        assert [r.reason for r in result.rejected] == [too_long(256)]


@pytest.mark.parametrize(("stream", "reason"), [
    (b"12a <13>bad count\n<13>good\n", NOT_A_NUMBER),
    (b"12345678901 <13>too many digits\n<13>good\n", NOT_A_NUMBER),
    (b"2024-05-01 host message without pri\n<13>good\n", NOT_A_NUMBER),
    (b"0 <13>good\n", ZERO_COUNT),
])
def test_bad_octet_counts_are_rejected(stream: bytes, reason: str) -> None:
    result = decode(stream)
    assert result.messages == [b"<13>good"]
    assert [r.reason for r in result.rejected] == [reason]


def test_end_of_stream() -> None:
    assert decode(b"<13>no newline at the end").messages == [b"<13>no newline at the end"]
    cut = decode(b"40 <13>the sender went away")
    assert cut.messages == []
    assert [(r.reason, r.raw) for r in cut.rejected] == [(TRUNCATED, b"<13>the sender went away")]
    assert [r.reason for r in decode(b"12").rejected] == [TRUNCATED]
    assert [r.reason for r in decode(b"1x never ended").rejected] == [NOT_A_NUMBER]


def test_bytes_are_kept_as_they_came() -> None:
    raw = b"<13>caf\xe9 \xff\xfe not utf-8\x00 inside"
    assert decode(raw + b"\n").messages == [raw]


def test_memory_is_bounded_by_the_limit() -> None:
    decoder = FrameDecoder(1024)
    rejected = 0
    for _ in range(1000):
        rejected += len(decoder.feed(b"z" * 4096).rejected)
        assert decoder.buffered <= 1024
    assert rejected == 1
    assert decoder.feed(b"still discarding\n<13>next\n").messages == [b"<13>next"]


def test_to_line() -> None:
    assert to_line(b"<13>a\r\nb\n") == b"<13>a#015#012b"
    assert to_line(b"<13>udp datagram\n\x00") == b"<13>udp datagram"
    assert to_line(b"\r\n") == b""
