"""What matching every event against a large indicator store costs the ingest rate.

    python benchmarks/bench_intel.py [--indicators 1000000] [--events 200000] [--repeat 5]

Loads ``--indicators`` indicators (IPv4 addresses, networks, domains, URLs, SHA-256 and MD5
digests, in the proportions of public feeds) through the import path of the intel service
into a SQLite state database, and prints the import rate and the matcher's build time.
A few dozen of them are values the events contain, so that alerts are raised.

Then the same generated Windows events (Sysmon network connections, DNS queries and
process starts with hashes among them) go through the whole pipeline — parse, normalize,
enrich, detect with the example rules, alert, store to the Parquet event store — once
with threat-intel matching off (the reference) and once with every indicator loaded,
alternately, ``--repeat`` times each on a fresh spool and event store. It prints the
median events/s of both and their ratio: the target is at least 0.8 (matching a million
indicators costs no more than 20% of the ingest rate).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import orjson
from sqlalchemy import delete

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from gen_events import generate  # noqa: E402
from watchkeeper.alerts.model import AlertEventRow, AlertRow  # noqa: E402
from watchkeeper.assets.service import AssetService  # noqa: E402
from watchkeeper.audit.service import AuditLog  # noqa: E402
from watchkeeper.config import AlertSettings, IntelSettings, RulesSettings  # noqa: E402
from watchkeeper.deadletters.service import DeadLetters  # noqa: E402
from watchkeeper.events.normalize import Normalizer  # noqa: E402
from watchkeeper.ingest.spool import Spool  # noqa: E402
from watchkeeper.intel.model import FeedResult, IndicatorIn, Kind  # noqa: E402
from watchkeeper.intel.service import IntelService  # noqa: E402
from watchkeeper.intel.store_model import SightingRow  # noqa: E402
from watchkeeper.ops.metrics import Metrics  # noqa: E402
from watchkeeper.parsers import default_registry  # noqa: E402
from watchkeeper.pipeline.decode import Decoder  # noqa: E402
from watchkeeper.pipeline.service import Pipeline  # noqa: E402
from watchkeeper.rules.service import RuleService  # noqa: E402
from watchkeeper.state.db import StateDB, migrate, open_state  # noqa: E402
from watchkeeper.store import open_event_store  # noqa: E402

SHARES = {Kind.IPV4: 0.30, Kind.CIDR: 0.05, Kind.DOMAIN: 0.30, Kind.URL: 0.05,
          Kind.SHA256: 0.20, Kind.MD5: 0.10}
CHUNK_LINES = 2000
RARE = {Kind.IPV4: 10, Kind.DOMAIN: 10, Kind.SHA256: 10}
"""Indicators per kind that events of the run contain."""


def indicators(total: int, seen: dict[Kind, list[str]], rng: random.Random
               ) -> list[IndicatorIn]:
    """``total`` indicators of random values, a few of them values the events hold."""
    made: list[IndicatorIn] = []
    for kind, share in SHARES.items():
        count = int(total * share)
        known = seen.get(kind, [])
        for value in known:
            made.append(IndicatorIn(kind, value, "bench", confidence=80, tlp="amber"))
        for i in range(count - len(known)):
            made.append(IndicatorIn(kind, _random_value(kind, i, rng), "bench",
                                    confidence=rng.randint(30, 95), tlp="amber"))
    return made


def _random_value(kind: Kind, i: int, rng: random.Random) -> str:
    if kind is Kind.IPV4:
        return f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}." \
               f"{rng.randint(1, 254)}"
    if kind is Kind.CIDR:
        return f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.0/24"
    if kind is Kind.DOMAIN:
        return f"h{i}.bad{i % 5000}.test"
    if kind is Kind.URL:
        return f"http://u{i}.bad.test/p/{i}"
    if kind is Kind.SHA256:
        return f"{rng.getrandbits(256):064x}"
    return f"{rng.getrandbits(128):032x}"


def events(count: int, folder: Path) -> tuple[list[bytes], dict[Kind, list[str]]]:
    """Generated Windows events in spool-sized chunks, and values seen in them."""
    path = folder / "events.jsonl"
    generate(count, path, 7, datetime.now(UTC).replace(microsecond=0), 200.0, [], 0)
    lines = path.read_bytes().splitlines(keepends=True)
    counts: dict[Kind, Counter[str]] = {kind: Counter() for kind in RARE}
    for line in lines:
        event = orjson.loads(line)
        if event.get("DestinationIp") and "." in event["DestinationIp"]:
            counts[Kind.IPV4][event["DestinationIp"]] += 1
        if event.get("QueryName") and "." in event["QueryName"]:
            counts[Kind.DOMAIN][event["QueryName"].lower()] += 1
        for part in str(event.get("Hashes", "")).split(","):
            if part.startswith("SHA256="):
                counts[Kind.SHA256][part[7:].lower()] += 1
    chunks = [b"".join(lines[i:i + CHUNK_LINES]) for i in range(0, len(lines), CHUNK_LINES)]
    # values a handful of events hold, as a real indicator would be: not the estate's
    # busiest resolver or update server
    rare = {kind: [v for v, n in sorted(c.items()) if n <= 3][:RARE[kind]]
            for kind, c in counts.items()}
    return chunks, rare


def run(db: StateDB, rules: RuleService, chunks: list[bytes], folder: Path,
        intel: IntelService | None) -> tuple[float, int, int]:
    """Events/s of the whole pipeline over ``chunks``, alerts made, intel alerts made."""
    with db.session() as session:
        for table in (AlertEventRow, AlertRow, SightingRow):
            session.execute(delete(table))
    audit = AuditLog(db)
    spool = Spool(folder / "spool", fsync=False)
    store = open_event_store(str(folder / "events"))
    pipeline = Pipeline(
        spool=spool, store=store, db=db, rules=rules, decoder=Decoder(default_registry()),
        normalizer=Normalizer(), assets=AssetService(db, audit),
        dead_letters=DeadLetters(db, audit), metrics=Metrics(), batch_size=50_000,
        max_latency_s=0.01, intel=intel)
    for chunk in chunks:
        spool.append("winlog-json", "bench", chunk)
    started = time.perf_counter()
    events = alerts = 0
    while pipeline.position < spool.last_seq():
        batch = spool.read(pipeline.position, pipeline.batch_bytes)
        result = pipeline.process(batch)
        events += result.events
        alerts += result.alerts
    elapsed = time.perf_counter() - started
    with db.session() as session:
        from sqlalchemy import func, select

        intel_alerts = session.scalar(select(func.count(AlertRow.id)).where(
            AlertRow.rule_id.like("intel-%"))) or 0
    spool.close()
    store.close()
    return events / elapsed, alerts, intel_alerts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--indicators", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        chunks, seen = events(args.events, folder)
        url = f"sqlite:///{folder / 'state.db'}"
        migrate(url)
        db = open_state(url)
        audit = AuditLog(db)
        intel = IntelService(db, audit, IntelSettings())
        made = indicators(args.indicators, seen, random.Random(1))
        started = time.perf_counter()
        for start in range(0, len(made), 100_000):
            intel.ingest("bench", FeedResult(made[start:start + 100_000], []), "bench")
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        intel.refresh(force=True)
        built = time.perf_counter() - started
        print(f"indicators: {len(made):,} imported in {loaded:.1f} s "
              f"({len(made) / loaded:,.0f}/s); matcher of {intel.snapshot.matcher.size:,} "
              f"active built in {built:.2f} s")
        rules = RuleService(db, audit, RulesSettings(paths=[ROOT / "examples" / "rules"]),
                            AlertSettings())
        plain: list[float] = []
        matched: list[float] = []
        for round_ in range(args.repeat):
            rate, alerts, _ = run(db, rules, chunks, folder / f"a{round_}", None)
            plain.append(rate)
            rate, alerts_b, intel_alerts = run(db, rules, chunks, folder / f"b{round_}", intel)
            matched.append(rate)
            print(f"round {round_ + 1}: without intel {plain[-1]:,.0f} events/s "
                  f"({alerts} alerts); with {intel.snapshot.matcher.size:,} indicators "
                  f"{matched[-1]:,.0f} events/s ({alerts_b} alerts, {intel_alerts} from intel)")
        a, b = statistics.median(plain), statistics.median(matched)
        print(f"median over {args.repeat} rounds of {args.events:,} events: without intel "
              f"{a:,.0f} events/s, with intel {b:,.0f} events/s, ratio {b / a:.3f} "
              f"(target >= 0.80)")
        db.close()


if __name__ == "__main__":
    main()
