"""``watchkeeper scan --push`` against a real ``watchkeeper serve``: the findings of a CI
scan arrive under the keys the scan reported, and a second push updates, never adds."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.serverproc import CLI, ROOT, ServerProcess, prepared

RECORDS = ROOT / "tests" / "data" / "osv" / "records"


@pytest.fixture
def server(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess.create(tmp_path / "server", prepared(tmp_path_factory))
    try:
        yield process
    finally:
        process.cleanup()


def cli(*args: str, token: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHKEEPER_")}
    if token:
        env["WATCHKEEPER_TOKEN"] = token
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env,
                          timeout=120, check=False)


def test_a_ci_scan_is_pushed_and_kept_by_its_keys(server: ServerProcess,
                                                  tmp_path: Path) -> None:
    database = tmp_path / "osv.sqlite"
    assert cli("vulns", "osv-import", str(RECORDS), "--db", str(database)).returncode == 0
    tree = tmp_path / "shop"
    tree.mkdir()
    (tree / "requirements.txt").write_text("AccessControl==5.1\n")
    (tree / "Dockerfile").write_text("FROM python\nADD https://example.org/x.tgz /x\n")
    server.start()
    report = tmp_path / "report.json"
    done = cli("scan", str(tree), "--osv-db", str(database), "--format", "json", "-o",
               str(report), "--push", server.url, "--source", "repo:shop",
               token=server.api_token)
    assert done.returncode == 1, done.stderr  # high findings
    assert "pushed to" in done.stderr
    assert server.api_token not in done.stderr + done.stdout
    keys = {f["key"] for f in json.loads(report.read_text())["findings"]}
    assert len(keys) >= 3
    stored = server.get("/api/v1/vulns/findings", include_decided="true", limit=1000)
    assert {f["key"] for f in stored} == keys
    assert {f["sources"][0] for f in stored} == {"repo:shop"}
    again = cli("scan", str(tree), "--osv-db", str(database), "--push", server.url,
                "--source", "repo:shop", token=server.api_token)
    assert f"0 new, {len(keys)} updated, 0 fixed" in again.stderr
    refused = cli("scan", str(tree), "--push", server.url, token="wk_not-a-token")
    assert refused.returncode == 2
    assert "refused the push: 401" in refused.stderr
