"""Saved container images: layers applied in order, whiteouts, refusals and caps."""

from __future__ import annotations

import json
from pathlib import Path

from tests.vulns.imagebuilder import digest, layer, save
from watchkeeper.vulns.packages import Limits, extract

OS_RELEASE = b'ID=debian\nVERSION_ID="12"\n'
STATUS_V1 = (b"Package: libssl3\nStatus: install ok installed\nVersion: 3.0.9-1\n\n"
             b"Package: curl\nStatus: install ok installed\nVersion: 7.88.1-10\n")
STATUS_V2 = b"Package: libssl3\nStatus: install ok installed\nVersion: 3.0.11-1~deb12u2\n"


def lock(name: str, version: str) -> bytes:
    return json.dumps({"lockfileVersion": 3, "packages": {
        "": {"dependencies": {name: version}},
        f"node_modules/{name}": {"version": version}}}).encode()


BASE = layer(("etc", None), ("etc/os-release", "->../usr/lib/os-release"),
             ("usr/lib/os-release", OS_RELEASE),
             ("./var/lib/dpkg/status", STATUS_V1),
             ("app/package-lock.json", lock("express", "4.17.1")),
             ("app/old/package-lock.json", lock("moment", "2.29.1")),
             ("app/cfg/requirements.txt", b"urllib3==1.26.5\n"),
             ("app/node_modules/x/package-lock.json", lock("hidden", "1.0.0")))
TOP = layer(("var/lib/dpkg/status", STATUS_V2),
            ("app/.wh.old", b""),
            ("app/cfg/.wh..wh..opq", b""),
            ("app/cfg/requirements.txt", b"urllib3==2.0.7\n"),
            ("app/.git/package-lock.json", lock("ignored", "1.0.0")))


Rows = tuple[list[tuple[str, str, str, str]], list[tuple[str, str]]]


def found(image: Path, **limits: int) -> Rows:
    result = extract([image], limits=Limits(**limits))
    return ([(p.ecosystem, p.name, p.version, p.location) for p in result.packages],
            [(s.location, s.reason) for s in result.skipped])


def test_layers_apply_in_order_with_whiteouts(tmp_path: Path) -> None:
    image = save(tmp_path / "image.tar", [BASE, TOP])
    packages, skipped = found(image)
    assert packages == [
        ("PyPI", "urllib3", "2.0.7", "image:app/cfg/requirements.txt"),
        ("npm", "express", "4.17.1", "image:app/package-lock.json"),
        ("Debian:12", "libssl3", "3.0.11-1~deb12u2", "image:var/lib/dpkg/status"),
    ]
    assert skipped == []


def test_locations_survive_a_rebuild_and_a_renamed_tarball(tmp_path: Path) -> None:
    """A new layer digest or another file name must not change the findings' keys."""
    first = save(tmp_path / "shop-1.tar", [BASE, TOP])
    rebuilt = layer(("var/lib/dpkg/status", STATUS_V2), ("app/cfg/.wh..wh..opq", b""),
                    ("app/cfg/requirements.txt", b"urllib3==2.0.7\n"),
                    ("app/.wh.old", b""), ("etc/motd", b"rebuilt\n"))
    assert digest(rebuilt) != digest(TOP)
    second = save(tmp_path / "renamed.tar", [BASE, rebuilt], oci=True)
    before, _ = found(first)
    after, _ = found(second)
    assert before == after
    assert all(p[3].startswith("image:") and "sha256" not in p[3] and ".tar" not in p[3]
               for p in after)


def test_oci_layout_with_gzip_layers(tmp_path: Path) -> None:
    image = save(tmp_path / "oci.tar", [BASE, TOP], oci=True)
    packages, _ = found(image)
    assert [p[:3] for p in packages] == [("PyPI", "urllib3", "2.0.7"),
                                         ("npm", "express", "4.17.1"),
                                         ("Debian:12", "libssl3", "3.0.11-1~deb12u2")]
    assert [p[3] for p in packages] == ["image:app/cfg/requirements.txt",
                                        "image:app/package-lock.json",
                                        "image:var/lib/dpkg/status"]


def test_members_outside_the_root_are_refused(tmp_path: Path) -> None:
    evil = layer(("../escape/package-lock.json", lock("evil", "1.0.0")),
                 ("/abs/package-lock.json", lock("evil", "2.0.0")),
                 ("app/package-lock.json", "->../../../../etc/shadow"),
                 ("srv/Cargo.lock", b'[[package]]\nname = "ok"\nversion = "1.0.0"\n'
                                    b'source = "sparse+https://index.crates.io/"\n'))
    image = save(tmp_path / "evil.tar", [evil])
    packages, skipped = found(image)
    assert packages == [("crates.io", "ok", "1.0.0", "image:srv/Cargo.lock")]
    assert skipped == [
        ("image:../escape/package-lock.json", "refused: '../escape/package-lock.json' "
                                              "points outside the root"),
        ("image:/abs/package-lock.json", "refused: an absolute member name"),
        ("image:app/package-lock.json", "refused: a link points outside the root"),
    ]


def test_a_layer_path_outside_the_archive_is_refused(tmp_path: Path) -> None:
    image = save(tmp_path / "bad.tar", [BASE], layer_paths=["../../etc/layer.tar"])
    packages, skipped = found(image)
    assert packages == []
    assert skipped == [(str(image), "refused: the layer '../../etc/layer.tar' points outside "
                                    "the archive")]


def test_a_huge_file_is_not_read(tmp_path: Path) -> None:
    content = lock("express", "4.17.1") + b" " * 500
    big = layer(("app/package-lock.json", content),
                ("srv/go.mod", b"module x\n\nrequire golang.org/x/text v0.14.0\n"))
    image = save(tmp_path / "big.tar", [big])
    packages, skipped = found(image, max_file_bytes=400)
    assert [p[:3] for p in packages] == [("Go", "golang.org/x/text", "0.14.0")]
    assert skipped == [("image:app/package-lock.json",
                        f"cannot read package-lock.json: too large ({len(content)} bytes, "
                        f"the limit is 400)")]


def test_too_many_members(tmp_path: Path) -> None:
    image = save(tmp_path / "many.tar", [BASE])
    assert found(image, max_members=3) == ([], [(str(image), "more than 3 files in the image")])


def test_a_tar_that_is_not_an_image(tmp_path: Path) -> None:
    plain = tmp_path / "plain.tar"
    plain.write_bytes(layer(("notes.txt", b"hello")))
    garbage = tmp_path / "garbage.tar"
    garbage.write_bytes(b"\x00not a tar" * 100)
    assert found(plain) == ([], [(str(plain), "not a known package source")])
    assert found(garbage) == ([], [(str(garbage), "not a known package source")])
