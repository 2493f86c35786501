"""``watchkeeper scan --push``: the token only travels over HTTPS (or to loopback), and a
scan that could not see everything pushes with ``complete=false``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.test_hunt_cli import run

CLEAN_TF = 'resource "aws_ebs_volume" "v" {\n  encrypted = true\n}\n'


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def post(url: str, **kwargs: Any) -> httpx.Response:
        calls.append({"url": url, **kwargs})
        return httpx.Response(200, json={"new": 0, "updated": 0, "fixed": 0})

    monkeypatch.setattr(httpx, "post", post)
    monkeypatch.setenv("WATCHKEEPER_TOKEN", "wk_secret")
    return calls


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "main.tf").write_text(CLEAN_TF)
    return tmp_path


@pytest.mark.parametrize("url", ["http://watchkeeper.example.org", "http://10.0.0.5:8080",
                                 "http://127.0.0.1.example.org", "http://localhostx"])
def test_the_token_is_not_sent_over_plain_http(sent: list[dict[str, Any]], tree: Path,
                                               url: str) -> None:
    code, _, err = run("scan", str(tree), "--push", url)
    assert code == 2
    assert f"refusing to send the token over plain HTTP to {url}" in " ".join(err.split())
    assert sent == []


@pytest.mark.parametrize("url", ["https://watchkeeper.example.org", "http://127.0.0.1:8080",
                                 "http://localhost:8080", "http://[::1]:8080"])
def test_https_and_loopback_are_allowed(sent: list[dict[str, Any]], tree: Path,
                                        url: str) -> None:
    code, _, err = run("scan", str(tree), "--push", url)
    assert code == 0, err
    assert [call["url"] for call in sent] == [f"{url}/api/v1/vulns/import"]


def test_without_an_osv_database_the_push_is_incomplete(sent: list[dict[str, Any]],
                                                       tree: Path) -> None:
    run("scan", str(tree), "--push", "https://wk.example.org")
    assert sent[0]["params"]["complete"] == "false"


def test_a_scan_with_problems_pushes_incomplete(sent: list[dict[str, Any]], tree: Path,
                                                tmp_path_factory: pytest.TempPathFactory
                                                ) -> None:
    records = Path(__file__).resolve().parents[1] / "data" / "osv" / "records"
    database = tmp_path_factory.mktemp("osv") / "osv.sqlite"
    assert run("vulns", "osv-import", str(records), "--db", str(database))[0] == 0
    (tree / "requirements.txt").write_text("AccessControl==5.2\n")
    run("scan", str(tree), "--osv-db", str(database), "--push", "https://wk.example.org")
    assert "complete" not in sent[0]["params"]  # everything was read: a complete scan
    (tree / "requirements.txt").write_text("AccessControl==5.2\nrequests>=2\n")
    run("scan", str(tree), "--osv-db", str(database), "--push", "https://wk.example.org")
    assert sent[1]["params"]["complete"] == "false"
