"""Linux audit logs (``/var/log/audit/audit.log``), one event per record line.

A line reads ``[node=N ]type=T msg=audit(1700000000.123:456): key=value ...``. Sigma's
auditd rules address single records (``type: EXECVE`` with ``a0``, ``a1``…, or
``type: SYSCALL`` with ``exe``, ``comm``, ``key``…), so records are not merged into
multi-record events.

Fields: ``type``, ``serial`` (the event serial that ties the records of one event),
``node`` when present, then every ``key=value`` of the record under its own name:

* ``"quoted"`` values lose their quotes; the user-space ``msg='…'`` part of ``USER_*``
  records is read as more key/values;
* values auditd hex-encodes (the untrusted strings: ``proctitle``, ``comm``, ``exe``,
  ``name``, ``cmd``… and the ``aN`` arguments of ``EXECVE``) are decoded when they are
  hex, as ``ausearch -i`` does: NULs between ``proctitle`` arguments become spaces, and
  an argument split into ``aN[0]``, ``aN[1]``… becomes one ``aN``;
* the ENRICHED log format's interpreted fields, after a ``\\x1d`` separator, keep their
  upper-case names (``UID``, ``AUID``, ``SYSCALL``…).

Raw records are read by Polars a batch at a time (the key/values are exploded into
one long column, decoded, then spread into one column per field); only the few hex
values to decode and ``ausearch -i`` lines go through Python.

``ausearch -i`` output is read too: its ``----`` separators are ignored, its values
(printed unquoted, spaces and all) run to the next `` name=`` (a ``proctitle`` to the
end of the line), and its ``msg=audit(11/14/2023 22:13:20.123:456)`` stamps, in the
local time of the machine that ran ``ausearch``, are taken as UTC.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

import polars as pl

from watchkeeper.events.model import DATASET, TIMESTAMP, Skip, frame_from_records
from watchkeeper.parsers.base import DEFAULT_BATCH_SIZE, ParsedChunk, Parser
from watchkeeper.parsers.frames import constant, frame_of, location_columns
from watchkeeper.parsers.lines import LineFrame, read_line_frames, sample_lines

DATASET_NAME = "linux.auditd"

HEADER = (
    r"^(?P<head>(?:node=(?P<node>[^ ]+) )?type=(?P<type>[A-Za-z0-9_]+) msg=audit\("
    r"(?:(?P<sec>[0-9]+)\.(?P<frac>[0-9]+)"
    r"|(?P<date>[0-9/]+ [0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.(?P<ms>[0-9]+))?)"
    r":(?P<serial>[0-9]+)\) ?: ?)"
)
"""A record's header; ``date`` is set for the interpreted stamps of ``ausearch -i``."""
PAIR = r"[A-Za-z_][A-Za-z0-9_\-\[\]]*=(?:\"[^\"]*\"|[^ \"]*)"
"""One ``key=value`` of a raw record: auditd never puts a space or quote in a quoted value."""
_HEADER = re.compile(HEADER)
_INTERPRETED_PAIRS = re.compile(r"([A-Za-z_][\w\-\[\]]*)=(.*?)(?= [A-Za-z_][\w\-\[\]]*=|$)")
"""``ausearch -i`` prints values unquoted, spaces and all: one runs to the next `` name=``."""
_HEX = re.compile(r"(?:[0-9A-F]{2})+")
_PIECE = re.compile(r"(a\d+)\[(\d+)\]")

ESCAPED_FIELDS = frozenset(
    {
        "path", "comm", "exe", "file", "name", "watch", "cwd", "cmd", "acct", "dir", "key",
        "vm", "old-chardev", "new-chardev", "old-disk", "new-disk", "old-fs", "new-fs",
        "old-net", "new-net", "device", "cgroup", "apparmor", "operation", "denied_mask",
        "info", "profile", "requested_mask", "old-rng", "new-rng", "ocomm", "grp",
        "new_group", "invalid_context", "sw", "root_dir", "proctitle", "data",
    }
)  # fmt: skip
"""Fields auditd writes quoted or hex-encoded (auparse's ``typetab.h``, escaped types)."""

IGNORED = ("----", "time->")
"""Lines of ``ausearch`` output that are no records."""


def decode_hex(value: str, *, spaces: bool) -> str:
    """A hex-encoded audit string as text; NULs become spaces when ``spaces``."""
    text = bytes.fromhex(value).decode("utf-8", "replace")
    return text.replace("\x00", " ").rstrip() if spaces else text


def _long_pairs(records: pl.DataFrame) -> pl.DataFrame:
    """One row per key/value of each record: values unquoted, hex values decoded.

    ``records`` has ``row``, ``type`` and the lists of ``key=value`` items ``pairs0``
    (the record) and ``pairs1`` (its ENRICHED part).
    """
    long = pl.concat(
        [
            records.select("row", "type", pl.col(part).alias("pair")).explode("pair")
            for part in ("pairs0", "pairs1")
        ]
    ).drop_nulls("pair")
    split = pl.col("pair").str.splitn("=", 2)
    long = long.select(
        "row",
        "type",
        split.struct.field("field_0").alias("key"),
        split.struct.field("field_1").alias("value"),
    )
    quoted = pl.col("value").str.starts_with('"')
    hexable = (
        ~quoted
        & (
            pl.col("key").is_in(list(ESCAPED_FIELDS))
            | ((pl.col("type") == "EXECVE") & pl.col("key").str.contains(r"^a[0-9]+$"))
        )
        & pl.col("value").str.contains(r"^(?:[0-9A-F]{2})+$")
    )
    long = long.with_columns(
        pl.when(quoted)
        .then(pl.col("value").str.slice(1, pl.col("value").str.len_chars() - 2))
        .otherwise(pl.col("value"))
        .alias("value"),
        hexable.alias("hex"),
    )
    rows = long["hex"].arg_true()
    if len(rows):
        hexed = long[rows]
        decoded = _decode_hex_column(hexed["value"])
        proctitle = hexed["key"] == "proctitle"
        decoded = pl.select(
            pl.when(proctitle)
            .then(decoded.str.replace_all("\x00", " ", literal=True).str.strip_chars_end())
            .otherwise(decoded)
        ).to_series()
        long = long.with_columns(long["value"].scatter(rows, decoded))
    return long


def _decode_hex_column(values: pl.Series) -> pl.Series:
    """Hex strings as text: by Polars when all are UTF-8, else by Python (bad bytes replaced)."""
    raw = values.str.decode("hex")
    try:
        return raw.cast(pl.String)
    except pl.exceptions.ComputeError:  # "invalid utf8"
        return pl.Series(
            [value.decode("utf-8", "replace") for value in raw.to_list()], dtype=pl.String
        )


def _spread(long: pl.DataFrame, height: int) -> list[pl.Series]:
    """One column per key, ``height`` rows long, from the (row, key, value) rows.

    A key given twice in a record keeps its last value (as a dict would).
    """
    columns = []
    for (key,), part in long.partition_by("key", as_dict=True, include_key=False).items():
        if part["row"].n_unique() != part.height:  # a key given twice: the last one wins
            part = part.unique("row", keep="last", maintain_order=True)
        empty = pl.Series(str(key), [None], dtype=pl.String).extend_constant(None, height - 1)
        columns.append(empty.scatter(part["row"], part["value"]))
    return columns


def _join_pieces(frame: pl.DataFrame) -> pl.DataFrame:
    """``a1[0]``, ``a1[1]``… (a long EXECVE argument, in hex pieces) become ``a1``.

    The pieces are joined before decoding: a cut may fall inside a UTF-8 character.
    """
    pieces: dict[str, list[tuple[int, str]]] = {}
    for name in frame.columns:
        match = _PIECE.fullmatch(name)
        if match is not None:
            pieces.setdefault(match[1], []).append((int(match[2]), name))
    for arg, parts in pieces.items():
        names = [name for _, name in sorted(parts)]
        rows = frame.select(pl.any_horizontal(pl.col(names).is_not_null())).to_series().arg_true()
        joined = frame[rows].select(pl.concat_str(names, ignore_nulls=True)).to_series()
        decoded = [
            decode_hex(text, spaces=False) if _HEX.fullmatch(text) else text for text in joined
        ]
        decoded_column = pl.Series(decoded, dtype=pl.String)
        frame = frame.with_columns(_column(frame, arg).scatter(rows, decoded_column)).drop(names)
    return frame


def _column(frame: pl.DataFrame, name: str) -> pl.Series:
    """The column ``name`` of ``frame``, or an all-null one when it has none."""
    if name in frame.columns:
        return frame.get_column(name)
    return pl.Series(name, [None] * frame.height, pl.String)


def _raw_fields(lines: pl.Series, header: pl.DataFrame, raw: pl.Series) -> list[pl.Series]:
    """One column per field of the raw records (rows where ``raw``), as long as ``lines``."""
    body = lines.str.slice(header["head"].str.len_chars()).str.split_exact("\x1d", 1)
    main = body.struct.field("field_0")
    user = main.str.contains("msg='", literal=True)
    main = pl.select(
        pl.when(user)
        .then(main.str.replace("msg='", "", literal=True).str.replace(r"' *$", ""))
        .otherwise(main)
    ).to_series()
    records = pl.DataFrame(
        {
            "row": pl.int_range(len(lines), eager=True),
            "type": header["type"],
            "pairs0": main.str.extract_all(PAIR),
            "pairs1": body.struct.field("field_1").str.extract_all(PAIR),
        }
    ).filter(raw)
    long = _long_pairs(records).filter(~pl.col("key").is_in(["type", "serial", "node"]))
    return _spread(long, len(lines))


def _interpreted(line: str) -> tuple[dict[str, str], int]:
    """The fields and stamp (µs) of one ``ausearch -i`` record line.

    Raises ValueError for an impossible date.
    """
    match = _HEADER.match(line)
    if match is None or match["date"] is None:
        raise ValueError("not an ausearch -i record")
    body = line[match.end() :]
    if "msg='" in body:
        body = body.replace("msg='", "", 1).rstrip().removesuffix("'")
    record = dict(_INTERPRETED_PAIRS.findall(body))
    if "proctitle" in record:  # the whole rest of the line, whatever it holds
        record["proctitle"] = body.split("proctitle=", 1)[1]
    text = match["date"]
    form = "%m/%d/%Y %H:%M:%S" if len(text.split(" ")[0]) == 10 else "%m/%d/%y %H:%M:%S"
    try:
        when = dt.datetime.strptime(text, form).replace(tzinfo=dt.UTC)
    except ValueError as error:
        raise ValueError(f"invalid time stamp {text!r}: {error}") from None
    micros = int((match["ms"] or "0")[:6].ljust(6, "0"))
    return record, int(when.timestamp()) * 1_000_000 + micros


class AuditdParser(Parser):
    """Linux audit records, one event per line (see the module docstring for the fields)."""

    name: ClassVar[str] = "auditd"
    description: ClassVar[str] = "Linux audit log (audit.log, ENRICHED format, ausearch -i)"

    @classmethod
    def sniff(cls, head: bytes, filename: str) -> int:
        lines = [line for line in sample_lines(head) if not line.startswith(IGNORED)]
        if not lines:
            return 0
        hits = sum(_HEADER.match(line) is not None for line in lines)
        return 95 if hits * 2 > len(lines) else 0

    def parse(
        self, stream: BinaryIO, source: str, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[ParsedChunk]:
        for batch in read_line_frames(stream, source, batch_size):
            yield self._chunk(batch, source)

    def _chunk(self, batch: LineFrame, source: str) -> ParsedChunk:
        lines = batch.frame["line"]
        numbers = batch.frame["number"]
        header = lines.str.extract_groups(HEADER).struct.unnest()
        stamped = header["sec"].is_not_null()
        unbalanced = stamped & (lines.str.count_matches('"', literal=True) % 2 == 1)
        raw = stamped & ~unbalanced
        fields = _raw_fields(lines, header, raw)
        frame = frame_of(fields, len(lines))
        if any(_PIECE.fullmatch(name) for name in frame.columns):
            frame = _join_pieces(frame)
        fraction = header["frac"].str.slice(0, 6).str.pad_end(6, "0").cast(pl.Int64)
        micros = header["sec"].cast(pl.Int64) * 1_000_000 + fraction
        skipped = list(batch.skipped)
        parsed: dict[int, tuple[dict[str, str], int]] = {}
        for row in header["date"].is_not_null().arg_true().to_list():
            try:
                parsed[row] = _interpreted(lines[row])
            except ValueError as error:
                skipped.append(Skip(source, f"line {numbers[row]}", str(error)))
        if parsed:
            frame, micros = _merge(frame, micros, parsed)
        for row in (header["head"].is_null() | unbalanced).arg_true().to_list():
            if unbalanced[row]:
                skipped.append(
                    Skip(source, f"line {numbers[row]}", "unbalanced quotes (a cut record?)")
                )
            elif not lines[row].startswith(IGNORED):
                skipped.append(Skip(source, f"line {numbers[row]}", "not an audit record"))
        columns = [
            header["type"],
            header["serial"],
            *([header["node"]] if header["node"].is_not_null().any() else []),
            micros.cast(pl.Datetime("us", "UTC")).alias(TIMESTAMP),
            constant(DATASET, DATASET_NAME, len(lines)),
            *location_columns(
                source, batch.frame["offset"], numbers, lines if self.keep_original else None
            ),
        ]
        keep = raw.scatter(list(parsed), True) if parsed else raw
        skipped.sort(key=lambda skip: int(skip.location.split()[-1]))
        return ParsedChunk(frame.with_columns(columns).filter(keep), skipped)


def _merge(
    frame: pl.DataFrame, micros: pl.Series, parsed: dict[int, tuple[dict[str, str], int]]
) -> tuple[pl.DataFrame, pl.Series]:
    """``frame`` and ``micros`` with the ``ausearch -i`` records of ``parsed`` put in their rows."""
    rows = list(parsed)
    fields = frame_from_records([record for record, _ in parsed.values()])
    for name in fields.columns:
        if name in ("type", "serial", "node"):
            continue
        frame = frame.with_columns(_column(frame, name).scatter(rows, fields[name]))
    return frame, micros.scatter(rows, [stamp for _, stamp in parsed.values()])


PARSERS: list[type[Parser]] = [AuditdParser]
