"""Matching speed: 10,000 packages against a whole ecosystem's OSV database.

    python benchmarks/bench_vulns.py --osv-zip all.zip [--packages 10000] [--repeat 5]
    python benchmarks/bench_vulns.py --advisory-dir advisory-database/ [...]

``--osv-zip`` is an ecosystem's ``all.zip`` (one OSV JSON record per member, as
osv.dev publishes them); ``--advisory-dir`` is a checkout of a YAML advisory database
(the PyPA one, say), whose ``vulns/*/*.yaml`` are converted to such a zip first.
The records are imported into an ``OsvStore`` in a temporary folder (timed apart), then
``--packages`` packages are generated: half carry names that the database knows, with
versions taken from the records (some listed as affected, some fixed ones, some far
newer), half are random names. Matching is timed as the median of ``--repeat`` runs.

The reference, measured in the same run, is reading the same packages' records from the
store (index lookup and the stored JSON, no parsing, no version comparison): the ratio
says what parsing records and evaluating ranges add on top of reading the data.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import orjson
import yaml

from watchkeeper.vulns.model import Package
from watchkeeper.vulns.osv import OsvStore


def zip_from_yaml(folder: Path, target: Path) -> int:
    """Write the YAML advisories under ``folder`` as an all.zip of JSON records."""
    count = 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*.yaml")):
            data = yaml.safe_load(path.read_text())
            if not isinstance(data, dict) or "id" not in data:
                continue
            archive.writestr(f"{data['id']}.json", orjson.dumps(data, default=str))
            count += 1
    return count


def make_packages(store: OsvStore, count: int, seed: int) -> list[Package]:
    rng = random.Random(seed)
    known = store.packages()
    packages: list[Package] = []
    for index in range(count):
        if index % 2 == 0 and known:
            ecosystem, name = rng.choice(known)
            candidates = ["99999.0"]
            for record in store.vulnerabilities(ecosystem, name):
                for entry in record.affected:
                    candidates.extend(entry.versions[:5])
                    candidates.extend(entry.fixed)
            version = rng.choice(candidates)
        else:
            ecosystem, name = "PyPI", f"random-pkg-{rng.randrange(10**9):09d}"
            version = f"{rng.randrange(10)}.{rng.randrange(20)}.{rng.randrange(20)}"
        packages.append(Package(ecosystem, name, version, location=f"lock/{index % 50}.txt"))
    return packages


def median_s(repeat: int, work: Callable[[], object]) -> tuple[float, object]:
    result = work()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--osv-zip", type=Path)
    source.add_argument("--advisory-dir", type=Path)
    parser.add_argument("--packages", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        archive = args.osv_zip
        if archive is None:
            archive = Path(folder) / "all.zip"
            started = time.perf_counter()
            converted = zip_from_yaml(args.advisory_dir, archive)
            took = time.perf_counter() - started
            print(f"converted {converted:,} YAML advisories to JSON in {took:.2f} s")
        with OsvStore(Path(folder) / "osv.sqlite") as store:
            started = time.perf_counter()
            report = store.import_zip(archive)
            import_s = time.perf_counter() - started
            print(
                f"records imported: {report.imported:,} ({report.broken} broken) "
                f"in {import_s:.2f} s"
            )
            for error in report.errors[:5]:
                print(f"  {error}", file=sys.stderr)

            packages = make_packages(store, args.packages, args.seed)
            match_s, findings = median_s(args.repeat, lambda: store.match(packages))

            def read_records() -> int:
                total = 0
                for package in packages:
                    for record_id in store.ids(package.ecosystem, package.name):
                        total += len(store.raw(record_id) or b"")
                return total

            reference_s, _ = median_s(args.repeat, read_records)
            assert isinstance(findings, list)
            affected = len({id(f.package) for f in findings})
            print(
                f"match, {len(packages):,} packages: {match_s:.3f} s "
                f"(median of {args.repeat}); findings: {len(findings):,} "
                f"on {affected:,} packages"
            )
            print(
                f"reference, reading the same packages' records from the store: "
                f"{reference_s:.3f} s; ratio {match_s / reference_s:.1f}x"
            )


if __name__ == "__main__":
    main()
