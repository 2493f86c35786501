"""Syslog lines: RFC 5424, RFC 3164 (BSD) and the PRI-less lines of ``/var/log/syslog``.

Each batch of lines is matched with two regular expressions run by Polars (in Rust),
so no Python code runs per line except for RFC 5424 structured data, which is rare.

Fields: ``facility`` and ``severity`` (decimal, from PRI; null when the line has no
PRI), ``hostname``, ``appname`` (the 3164 TAG or the 5424 APP-NAME), ``procid`` (the
3164 ``[pid]`` or the 5424 PROCID), ``msgid`` (5424 only), ``message`` (the text after
the header: what Sigma keyword rules search) and ``sd.<SD-ID>.<PARAM-NAME>`` for each
5424 SD-PARAM (the first wins when a name repeats). The 5424 NILVALUE ``-`` gives null.
A byte order mark that starts MSG is dropped.

Times: RFC 5424 and ISO 8601 stamps (rsyslog's high-precision file format) carry their
zone and are converted to UTC; a stamp without a zone is taken as UTC. RFC 3164 stamps
(``Nov 14 22:13:20``) have neither year nor zone; they are taken as UTC, and their
year follows :func:`infer_year` and the rollover rule of :class:`SyslogParser`.

This module also holds the line reading that the other line formats (auditd, Zeek,
Suricata, CloudTrail JSON lines) share: :func:`read_line_batches`, which splits and
measures lines a block at a time in Polars, :func:`sample_lines` for sniffing, and
:func:`iso_to_utc`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, ClassVar, Protocol

import polars as pl

from watchkeeper.events.model import (
    DATASET,
    LINE,
    OFFSET,
    ORIGINAL,
    SOURCE,
    TIMESTAMP,
    Skip,
)
from watchkeeper.parsers.base import DEFAULT_BATCH_SIZE, ParsedChunk, Parser

# --- Line reading, shared by the line-oriented parsers (auditd, zeek, suricata, cloudtrail) ---

BLOCK_SIZE = 1 << 20
MAX_LINE = 1 << 20
"""Longest line read (1 MiB); a longer one is skipped, so memory stays bounded."""
SNIFF_LINES = 20
_BOM = b"\xef\xbb\xbf"


class ByteStream(Protocol):
    """What the readers need of a stream: ``read``. Every ``BinaryIO`` is one."""

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(slots=True)
class LineBatch:
    """Up to ``batch_size`` non-blank lines and where they start.

    ``frame`` has the columns ``line`` (text, end of line removed, invalid UTF-8
    replaced), ``number`` (1-based) and ``offset`` (bytes from the start of the stream).
    """

    frame: pl.DataFrame
    skipped: list[Skip] = field(default_factory=list)


def read_line_batches(
    stream: ByteStream, source: str, batch_size: int, *, max_line: int = MAX_LINE
) -> Iterator[LineBatch]:
    """The lines of ``stream`` in batches, read by blocks so memory stays bounded.

    Lines are split and measured a block at a time by Polars, not one by one in Python.
    Blank lines are dropped (they are no records); ``\\r\\n`` ends are accepted; a UTF-8
    byte order mark at the start of the stream is dropped; a last line without an end
    of line (a truncated file) is still read; a line over ``max_line`` bytes becomes a
    :class:`Skip` and its bytes are thrown away as they come.
    """
    lines = _Lines(source, max_line)
    while block := stream.read(BLOCK_SIZE):
        lines.feed(block)
        yield from lines.batches(batch_size)
    lines.finish()
    yield from lines.batches(batch_size, final=True)


class _Lines:
    """The state of :func:`read_line_batches`: the unfinished line and lines not yet sent."""

    def __init__(self, source: str, max_line: int) -> None:
        self.source = source
        self.max_line = max_line
        self.pending = b""
        self.number = 0  # lines before ``pending``
        self.offset = 0  # byte offset of ``pending``
        self.discarding = False  # inside a line too long to keep
        self.frames: list[pl.DataFrame] = []
        self.count = 0
        self.skipped: list[Skip] = []

    def feed(self, block: bytes) -> None:
        data = self.pending + block if self.pending else block
        cut = data.rfind(b"\n")
        if cut < 0:
            self.pending = data
        else:
            self.pending = data[cut + 1 :]
            self._add(data[:cut], complete=True)
        if len(self.pending) > self.max_line:
            if not self.discarding:
                self.skipped.append(_too_long(self.source, self.number + 1, self.max_line))
                self.discarding = True
            self.offset += len(self.pending)
            self.pending = b""

    def finish(self) -> None:
        if self.pending and not self.discarding:
            self._add(self.pending, complete=False)
        self.pending = b""

    def batches(self, batch_size: int, *, final: bool = False) -> Iterator[LineBatch]:
        while self.count >= batch_size or (final and (self.count or self.skipped)):
            frame = pl.concat(self.frames, rechunk=True)  # one chunk: faster, and safer in Polars
            yield LineBatch(frame.head(batch_size), self.skipped)
            rest = frame.slice(batch_size)
            self.frames, self.count, self.skipped = [rest], rest.height, []

    def _add(self, body: bytes, *, complete: bool) -> None:
        """Add the lines of ``body`` (a whole number of lines, without the last end of line)."""
        if self.number == 0 and self.offset == 0 and body.startswith(_BOM):
            body, self.offset = body[3:], 3
        try:
            line = pl.Series("line", body.decode("utf-8").split("\n"), dtype=pl.String)
            size = line.str.len_bytes().cast(pl.Int64)
        except UnicodeDecodeError:
            parts = body.split(b"\n")
            line = pl.Series("line", [p.decode("utf-8", "replace") for p in parts], pl.String)
            size = pl.Series([len(p) for p in parts], dtype=pl.Int64)
        frame = pl.DataFrame(
            [
                line.str.strip_suffix("\r"),
                pl.int_range(self.number + 1, self.number + 1 + len(line), eager=True).alias(
                    "number"
                ),
                (size + 1).cum_sum().shift(1, fill_value=0).alias("offset") + self.offset,
                size.alias("size"),
            ]
        )
        self.number += len(line)
        self.offset += len(body) + complete
        if self.discarding:  # the first line is the tail of a line too long to keep
            frame = frame.slice(1)
            self.discarding = False
        too_long = frame.filter(pl.col("size") > self.max_line)["number"].to_list()
        self.skipped += [_too_long(self.source, number, self.max_line) for number in too_long]
        frame = frame.filter(
            (pl.col("size") <= self.max_line) & pl.col("line").str.contains(r"\S")
        ).drop("size")
        self.frames.append(frame)
        self.count += frame.height


def _too_long(source: str, number: int, max_line: int) -> Skip:
    return Skip(source, f"line {number}", f"line longer than {max_line} bytes")


def sample_lines(head: bytes, limit: int = SNIFF_LINES) -> list[str]:
    """The first complete, non-blank lines of ``head`` (a cut last line is left out)."""
    head = head.removeprefix(_BOM)
    lines = head.split(b"\n")
    if len(head) >= 65536 and len(lines) > 1:
        lines.pop()
    texts = [line.rstrip(b"\r").decode("utf-8", "replace") for line in lines[: limit * 4]]
    return [text for text in texts if text.strip()][:limit]


def iso_to_utc(text: pl.Expr) -> pl.Expr:
    """ISO 8601 times (``Z``, ``+01:00``, ``+0100``, or no zone: UTC) as UTC datetimes.

    Anything else gives null. One parsing pass: a stamp without a zone gets ``+00:00``.
    """
    text = text.str.replace(" ", "T", literal=True)
    zoned = text.str.contains(r"[+-]\d\d:?\d\d$")
    text = pl.when(zoned).then(text).otherwise(text.str.replace(r"[Zz]?$", "+00:00"))
    return text.str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%z", strict=False, time_unit="us"
    ).dt.convert_time_zone("UTC")


# --- Syslog ---

DATASET_NAME = "syslog"
FIELDS = ("facility", "severity", "hostname", "appname", "procid", "msgid", "message")

# The header grammars capture the header only: the message is the rest of the line, cut
# off by length, because running a capturing regex over the message text is slow. They
# use ASCII classes ([0-9], [^ ]), which Polars' (Rust) regex engine runs faster than
# the Unicode \d and \S.
_DATE_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
_STAMP_5424 = rf"{_DATE_TIME}(?:Z|[+-][0-9]{{2}}:[0-9]{{2}})"
_SD_NAME = r"[^ \]=\"]+"
_SD_ELEMENT = rf"\[{_SD_NAME}(?: +{_SD_NAME}=\"(?:[^\"\\]|\\.)*\")* *\]"
HEADER_5424 = (
    r"^(?P<head>(?:<(?P<pri>[0-9]{1,3})>)?(?P<version>[1-9][0-9]{0,2}) "
    rf"(?P<ts>-|{_STAMP_5424}) (?P<host>[^ ]+) (?P<app>[^ ]+) (?P<procid>[^ ]+) "
    rf"(?P<msgid>[^ ]+) (?P<sd>-|(?:{_SD_ELEMENT})+)(?: |$))"
)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
HEADER_3164 = (
    r"^(?P<head>(?:<(?P<pri>[0-9]{1,3})>)?"
    rf"(?:(?P<mon>{'|'.join(MONTHS)}) +(?P<day>[0-9]{{1,2}})(?: (?P<year>[0-9]{{4}}))? "
    r"(?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?)"
    rf"|(?P<iso>{_DATE_TIME}(?:Z|[+-][0-9]{{2}}:?[0-9]{{2}})?))"
    r"(?: |$)(?:(?P<host>[^ \[]*[^ \[:])(?: |$))?"
    r"(?:(?P<tag>[^ \[:]+)(?:\[(?P<pid>[^\] ]*)\])?:(?: |$))?)"
)
_SNIFF = (re.compile(HEADER_5424), re.compile(HEADER_3164))
_SD_TOKENS = re.compile(rf"\[({_SD_NAME})|({_SD_NAME})=\"((?:[^\"\\]|\\.)*)\"")
_SD_ESCAPE = re.compile(r"\\([\"\\\]])")


def infer_year(month: int, day: int, now: dt.datetime) -> int:
    """The year of an RFC 3164 stamp read at ``now`` when the caller gave none.

    The current UTC year, unless that puts the stamp more than a day in the future
    (a December line read in January): then the year before.
    """
    year = now.year
    try:
        stamp = dt.datetime(year, month, day, tzinfo=dt.UTC)
    except ValueError:  # 29 February of a common year: cannot be this year
        return year - 1
    return year - 1 if stamp > now + dt.timedelta(days=1) else year


def parse_structured_data(sd: str) -> dict[str, str]:
    """``[id a="1"][id2 b="x\\"y"]`` to ``{"sd.id.a": "1", "sd.id2.b": 'x"y'}``.

    ``sd`` has been checked against the grammar, so one scan over its tokens (an
    element's SD-ID, then its params) is enough. The first of two equal names wins.
    """
    fields: dict[str, str] = {}
    prefix = "sd."
    for sd_id, name, value in _SD_TOKENS.findall(sd):
        if sd_id:
            prefix = f"sd.{sd_id}."
            continue
        if "\\" in value:
            value = _SD_ESCAPE.sub(r"\1", value)
        fields.setdefault(prefix + name, value)
    return fields


class _YearClock:
    """Gives RFC 3164 stamps a year, line after line, across batches.

    The first stamp gets the caller's year (or :func:`infer_year`); after that the
    year goes up by one when the month goes from December to January between two
    consecutive 3164 lines, and down by one when it goes from January back to
    December (a late line), so that a file spanning New Year reads in order.
    """

    def __init__(self, year: int | None) -> None:
        self.year = year
        self.last_month: int | None = None

    def years(self, months: pl.Series, days: pl.Series) -> pl.Series:
        """The year of each stamp (``months`` and ``days`` hold no nulls)."""
        if months.is_empty():
            return pl.Series("year", [], dtype=pl.Int32)
        if self.year is None:
            self.year = infer_year(int(months[0]), int(days[0]), dt.datetime.now(dt.UTC))
        first = self.last_month if self.last_month is not None else int(months[0])
        previous = months.shift(1, fill_value=first)
        step = pl.select(
            pl.when((previous == 12) & (months == 1))
            .then(1)
            .when((previous == 1) & (months == 12))
            .then(-1)
            .otherwise(0)
            .cast(pl.Int32)
            .cum_sum()
        ).to_series()
        years = (step + self.year).alias("year")
        self.year = int(years[-1])
        self.last_month = int(months[-1])
        return years


def _nil(column: str) -> pl.Expr:
    """The 5424 NILVALUE ``-`` as null."""
    return pl.when(pl.col(column) != "-").then(pl.col(column))


def _header(lines: pl.Series) -> pl.DataFrame:
    """The syslog fields and the pieces of the time stamp, from whichever grammar matches."""
    parts = pl.concat(
        [
            lines.str.extract_groups(HEADER_5424).struct.unnest().rename(lambda n: "r_" + n),
            lines.str.extract_groups(HEADER_3164).struct.unnest().rename(lambda n: "b_" + n),
            lines.to_frame("line"),
        ],
        how="horizontal",
    )
    is5424 = pl.col("r_head").is_not_null()
    pri = pl.coalesce(pl.when(is5424).then(pl.col("r_pri")), "b_pri").cast(pl.Int32)
    head = pl.coalesce("r_head", "b_head")
    message = pl.col("line").str.slice(head.str.len_chars()).str.strip_prefix("\ufeff")
    return parts.select(
        matched=head.is_not_null(),
        pri=pri,
        facility=(pri // 8).cast(pl.String),
        severity=(pri % 8).cast(pl.String),
        hostname=pl.when(is5424).then(_nil("r_host")).otherwise(pl.col("b_host")),
        appname=pl.when(is5424).then(_nil("r_app")).otherwise(pl.col("b_tag")),
        procid=pl.when(is5424).then(_nil("r_procid")).otherwise(pl.col("b_pid")),
        msgid=pl.when(is5424).then(_nil("r_msgid")),
        message=pl.when(message != "").then(message),
        sd=pl.when(is5424 & (pl.col("r_sd") != "-")).then(pl.col("r_sd")),
        iso=pl.when(is5424).then(_nil("r_ts")).otherwise(pl.col("b_iso")),
        stamp=pl.when(is5424)
        .then(pl.col("r_ts"))
        .otherwise(pl.coalesce("b_iso", pl.concat_str("b_mon", "b_day", "b_time", separator=" "))),
        month=pl.col("b_mon").replace_strict(
            MONTHS, range(1, 13), default=None, return_dtype=pl.Int32
        ),
        day=pl.col("b_day").cast(pl.Int32),
        year=pl.col("b_year").cast(pl.Int32),
        time=pl.col("b_time"),
    )


def _timestamps(header: pl.DataFrame, clock: _YearClock) -> pl.Series:
    """UTC times: ISO stamps converted, 3164 stamps given a year by ``clock``."""
    bsd = header.select(pl.int_range(pl.len()).alias("row"), "month", "day", "year", "time")
    bsd = bsd.filter(pl.col("month").is_not_null())
    years = clock.years(bsd["month"], bsd["day"])
    bsd_stamps = bsd.select(
        pl.format(
            "{}-{}-{}T{}",
            pl.coalesce(pl.col("year"), years),
            pl.col("month").cast(pl.String).str.zfill(2),
            pl.col("day").cast(pl.String).str.zfill(2),
            "time",
        )
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
        .dt.replace_time_zone("UTC")
    ).to_series()
    iso = header.select(iso_to_utc(pl.col("iso"))).to_series()
    return iso.scatter(bsd["row"], bsd_stamps).alias(TIMESTAMP)


def _sd_columns(sd: pl.Series) -> list[pl.Series]:
    """One column per SD-PARAM name found in this batch; parsed in Python (rare)."""
    columns: dict[str, list[str | None]] = {}
    for row, text in enumerate(sd.to_list()):
        if text is None:
            continue
        for name, value in parse_structured_data(text).items():
            if name not in columns:
                columns[name] = [None] * len(sd)
            columns[name][row] = value
    return [pl.Series(name, values, dtype=pl.String) for name, values in columns.items()]


def _why(header: pl.DataFrame, row: int) -> str:
    if not header["matched"][row]:
        return "not a syslog line (RFC 3164 or RFC 5424)"
    pri = header["pri"][row]
    if pri is not None and pri > 191:
        return f"PRI {pri} is out of range 0..191"
    return f"invalid time stamp {header['stamp'][row]!r}"


class SyslogParser(Parser):
    """RFC 3164 and RFC 5424 syslog lines, one event per line.

    ``year`` is the year of the first RFC 3164 line (default: :func:`infer_year` on the
    current UTC time); the year then rolls over at each December→January step, see
    :class:`_YearClock`. Lines that match neither grammar, an out-of-range PRI or an
    impossible date (``Feb 30``) are skipped with the reason.
    """

    name: ClassVar[str] = "syslog"
    description: ClassVar[str] = "Syslog lines: RFC 5424, RFC 3164 and /var/log/syslog"

    def __init__(self, *, keep_original: bool = False, year: int | None = None) -> None:
        super().__init__(keep_original=keep_original)
        self.year = year

    @classmethod
    def sniff(cls, head: bytes, filename: str) -> int:
        """Sure when most (over half) lines are syslog; at most 90, and 65 without PRI, so that a
        parser of a format carried in syslog lines (Sysmon for Linux) wins."""
        lines = sample_lines(head)
        if not lines:
            return 0
        hits = [next((n for n, rx in enumerate(_SNIFF) if rx.match(line)), None) for line in lines]
        if sum(hit is not None for hit in hits) * 2 <= len(lines):
            return 0
        if 0 in hits:
            return 90
        return 80 if any(line.startswith("<") for line in lines) else 65

    def parse(
        self, stream: BinaryIO, source: str, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[ParsedChunk]:
        clock = _YearClock(self.year)
        for batch in read_line_batches(stream, source, batch_size):
            yield self._chunk(batch, source, clock)

    def _chunk(self, batch: LineBatch, source: str, clock: _YearClock) -> ParsedChunk:
        lines = batch.frame["line"]
        header = _header(lines)
        stamps = _timestamps(header, clock)
        bad_pri = (header["pri"] > 191).fill_null(False)
        bad_time = stamps.is_null() & header["stamp"].is_not_null() & (header["stamp"] != "-")
        good = header["matched"] & ~bad_pri & ~bad_time
        skipped = list(batch.skipped)
        numbers = batch.frame["number"]
        for row in (~good).arg_true().to_list():
            skipped.append(Skip(source, f"line {numbers[row]}", _why(header, row)))
        columns = [header[name] for name in FIELDS]
        columns += _sd_columns(header["sd"])
        columns += [
            stamps,
            pl.repeat(DATASET_NAME, len(lines), dtype=pl.String, eager=True).alias(DATASET),
            pl.repeat(source, len(lines), dtype=pl.String, eager=True).alias(SOURCE),
            batch.frame["offset"].alias(OFFSET),
            numbers.alias(LINE),
        ]
        if self.keep_original:
            columns.append(lines.alias(ORIGINAL))
        return ParsedChunk(pl.DataFrame(columns).filter(good), skipped)


PARSERS: list[type[Parser]] = [SyslogParser]
