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
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

import polars as pl

from watchkeeper.events.model import DATASET, TIMESTAMP, Skip
from watchkeeper.parsers.base import DEFAULT_BATCH_SIZE, ParsedChunk, ParseMemory, Parser
from watchkeeper.parsers.frames import constant, location_columns
from watchkeeper.parsers.lines import LineFrame, read_line_frames, sample_lines
from watchkeeper.parsers.times import iso_to_utc

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

    def __init__(self, *, keep_original: bool = False, year: int | None = None,
                 memory: ParseMemory | None = None) -> None:
        super().__init__(keep_original=keep_original, memory=memory)
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
        for batch in read_line_frames(stream, source, batch_size):
            yield self._chunk(batch, source, clock)

    def _chunk(self, batch: LineFrame, source: str, clock: _YearClock) -> ParsedChunk:
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
        columns += [stamps, constant(DATASET, DATASET_NAME, len(lines))]
        originals = lines if self.keep_original else None
        columns += location_columns(source, batch.frame["offset"], numbers, originals)
        return ParsedChunk(pl.DataFrame(columns).filter(good), skipped)


PARSERS: list[type[Parser]] = [SyslogParser]
