"""``watchkeeper intel`` on a temporary data folder: imports, search, stats, sightings,
the allowlist, file feeds and exports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from watchkeeper.cli.main import cli, register

register()

RECENT = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
"""Recent enough that decay has not retired it."""
BUNDLE = {"type": "bundle", "id": "bundle--6f1c2b4e-8f5d-4c3a-9e2b-1a0b9c8d7e6f", "objects": [
    {"type": "indicator", "spec_version": "2.1",
     "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd01", "created": RECENT,
     "modified": RECENT, "pattern": "[domain-name:value = 'c2.example.net']",
     "pattern_type": "stix", "valid_from": RECENT}]}
EVENT_UUID = "0b5d3a1e-2f4c-4d6e-8a9b-0c1d2e3f4a01"
EVENT = {"Event": {"uuid": EVENT_UUID, "info": "wave", "timestamp": "1700000000",
                   "Attribute": [{"type": "ip-dst", "value": "192.0.2.70", "to_ids": True,
                                  "uuid": "0b5d3a1e-2f4c-4d6e-8a9b-0c1d2e3f4aff"}]}}
SECRET = "cli-feed-s3cret"


@dataclass
class Folder:
    root: Path
    config: Path

    def run(self, *args: str, env: dict[str, str] | None = None,
            input: str | None = None) -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, ["intel", *args, "-c", str(self.config)],
                                    env={"COLUMNS": "200", **(env or {})}, input=input)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    def json(self, *args: str) -> Any:
        code, out, err = self.run(*args, "--json")
        assert code == 0, err
        return json.loads(out)

    def write(self, name: str, content: str | dict[str, Any]) -> Path:
        path = self.root / name
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return path


@pytest.fixture
def folder(tmp_path: Path) -> Folder:
    config = tmp_path / "watchkeeper.toml"
    config.write_text(f'data_dir = "{(tmp_path / "data").as_posix()}"\n\n[intel]\n'
                      "builtin_warninglists = false\n")
    return Folder(tmp_path, config)


def test_import_search_stats_sight_allow_and_lookup(folder: Folder) -> None:
    stix = folder.write("bundle.json", BUNDLE)
    event = folder.write("event.json", EVENT)
    plain = folder.write("list.txt", "# ours\n198.51.100.90\nnot a value at all\n")
    code, out, _ = folder.run("import", str(stix), str(event), "--source", "cert",
                              "--tlp", "green")
    assert code == 0
    assert "1 new" in out
    code, out, _ = folder.run("import", str(plain), "--source", "list", "--confidence", "90")
    assert code == 1  # a line that is no value is a problem; the others are imported
    assert "1 problems" in out
    assert "line 3" in out
    found = folder.json("search", "example")
    assert [i["value"] for i in found["items"]] == ["c2.example.net"]
    assert found["items"][0]["tlp"] == "green"
    ip = folder.json("search", "198.51.100.90")["items"][0]
    assert ip["confidence"] == 90
    assert folder.json("search", "", "--source", "cert")["total"] == 2
    stats = folder.json("stats")
    assert stats["total"] == 3
    assert stats["by_source"] == {"cert": 2, "list": 1}
    code, out, _ = folder.run("stats")
    assert "3 indicators" in out
    code, out, _ = folder.run("search", "192.0.2")
    assert "192.0.2.70" in out
    code, out, _ = folder.run("sight", str(ip["id"]), "--false-positive", "--note", "ours")
    assert code == 0
    assert "false-positive recorded" in out
    code, _, err = folder.run("sight", str(ip["id"]))
    assert code == 2
    assert "--seen or --false-positive" in err
    code, out, _ = folder.run("lookup", "c2.example.net")
    assert code == 1  # found
    assert "c2.example.net" in out
    code, out, _ = folder.run("allow", "domain", "c2.example.net", "--reason", "sinkholed")
    assert code == 0
    assert "allowlisted domain c2.example.net" in out
    assert folder.json("search", "c2.example.net", "--active")["total"] == 0


def test_import_of_a_misp_feed_folder_and_a_csv(folder: Folder) -> None:
    feed = folder.root / "feed"
    feed.mkdir()
    (feed / "manifest.json").write_text(json.dumps({EVENT_UUID: {"timestamp": 1700000000}}))
    (feed / f"{EVENT_UUID}.json").write_text(json.dumps(EVENT))
    csv = folder.write("list.csv", "ip;family\n198.51.100.91;ExampleBot\n")
    code, out, err = folder.run("import", str(feed), "--source", "misp")
    assert code == 0, err
    assert "1 new" in out
    code, out, err = folder.run("import", str(csv), "--source", "csv", "--format", "csv",
                                "--kind", "ipv4", "--column", "ip", "--delimiter", ";",
                                "--header")
    assert code == 0, err
    assert folder.json("search", "198.51.100.91")["total"] == 1
    code, _, err = folder.run("import", str(folder.root / "list.csv"), "--source", "x",
                              "--format", "stix")
    assert code == 2
    assert "not JSON" in err


def test_file_feeds_add_list_show_run_and_remove(folder: Folder) -> None:
    bundle = folder.write("bundle.json", BUNDLE)
    code, out, err = folder.run("feeds", "add", "local", "--type", "stix", "--url",
                                str(bundle), "--secret-env", "FEED_KEY", "--interval", "600",
                                "--option", "auth_header=X-Key", env={"FEED_KEY": SECRET})
    assert code == 0, err
    assert "secret: set" in out
    code, _, err = folder.run("feeds", "add", "bad", "--type", "taxii", "--url",
                              "https://taxii.example.org/")
    assert code == 2
    assert "collection" in err
    code, _, err = folder.run("feeds", "add", "nokey", "--type", "stix", "--url",
                              str(bundle), "--secret-env", "MISSING_VARIABLE")
    assert code == 2
    assert "MISSING_VARIABLE" in err
    code, out, _ = folder.run("feeds", "run")
    assert code == 0
    assert "local: 1 received, 1 new" in out
    code, out, _ = folder.run("feeds", "run")
    assert "no feed is due" in out
    listed = folder.json("feeds", "list")["feeds"]
    assert [f["name"] for f in listed] == ["local"]
    assert listed[0]["has_secret"] is True
    assert listed[0]["cursor"] == RECENT
    code, out, _ = folder.run("feeds", "list")
    assert "local" in out
    assert SECRET not in out
    code, out, _ = folder.run("feeds", "show", "local")
    assert "secret: set" in out
    assert SECRET not in out
    bundle.write_text("{broken")
    code, out, _ = folder.run("feeds", "run", "local")
    assert code == 1
    assert "failed" in out
    assert "not JSON" in out
    assert folder.json("feeds", "show", "local")["cursor"] == RECENT
    code, out, _ = folder.run("feeds", "remove", "local")
    assert code == 0
    assert folder.json("feeds", "list")["feeds"] == []


def test_a_secret_can_come_from_a_prompt(folder: Folder) -> None:
    code, out, err = folder.run("feeds", "add", "misp", "--type", "misp-api", "--url",
                                "https://misp.example.org", "--secret-prompt",
                                input=SECRET + "\n")
    assert code == 0, err
    assert SECRET not in out
    assert folder.json("feeds", "show", "misp")["has_secret"] is True


def test_export_writes_a_stix_bundle_within_the_allowed_tlp(folder: Folder) -> None:
    stix = folder.write("bundle.json", BUNDLE)
    folder.run("import", str(stix), "--source", "cert", "--tlp", "green")
    red = folder.write("red.txt", "198.51.100.92\n")
    folder.run("import", str(red), "--source", "secret-list", "--tlp", "red")
    output = folder.root / "out.json"
    code, _, err = folder.run("export", "--output", str(output))
    assert code == 0, err
    exported = json.loads(output.read_text())
    assert exported["type"] == "bundle"
    patterns = [o["pattern"] for o in exported["objects"] if o["type"] == "indicator"]
    assert patterns == ["[domain-name:value = 'c2.example.net']"]
    code, _, err = folder.run("export", "--max-tlp", "red")
    assert code == 2
    assert "share_max_tlp" in err
    code, out, _ = folder.run("export", "--max-tlp", "clear")
    assert code == 0
    assert [o for o in json.loads(out)["objects"] if o["type"] == "indicator"] == []
