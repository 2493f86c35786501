"""Rust: ``Cargo.lock``, the packages that come from crates.io."""

from __future__ import annotations

from watchkeeper.vulns.model import Package
from watchkeeper.vulns.packages.base import PackageSource, SourceFile, expect

CRATES_IO_SOURCES = ("registry+https://github.com/rust-lang/crates.io-index",
                     "sparse+https://index.crates.io/")


class CargoLock(PackageSource):
    """Every ``[[package]]`` from crates.io; workspace members have no source."""

    name = "Cargo.lock"
    patterns = ("Cargo.lock",)

    def extract(self, file: SourceFile) -> list[Package]:
        found: list[Package] = []
        for entry in expect(file.toml().get("package", []), list, "package"):
            entry = expect(entry, dict, "a package")
            name, version = str(entry.get("name", "")), str(entry.get("version", ""))
            source = entry.get("source")
            if source is None:
                continue  # a member of this workspace
            if str(source) not in CRATES_IO_SOURCES:
                kind = str(source).split("+", 1)[0]
                file.skip(f"a {kind} source, not crates.io", f"{name} {version}")
            elif not name or not version:
                file.skip("a package without name or version", name or None)
            else:
                found.append(file.package("crates.io", name, version))
        return found
