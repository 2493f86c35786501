"""``init``, ``users``, ``tokens``, ``search`` and ``import`` on a data folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.serverfixtures import EXAMPLE_RULES, ROOT
from watchkeeper.auth.service import AuthService
from watchkeeper.cli.main import cli, register
from watchkeeper.config import load_settings
from watchkeeper.server.stores import open_state_db

register()
LOGS = ROOT / "examples" / "logs"


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    done = run("init", "--dir", str(tmp_path), "--rules", str(EXAMPLE_RULES),
               "--generate-password")
    assert done.exit_code == 0, done.output
    return tmp_path


def config(folder: Path) -> str:
    return str(folder / "watchkeeper.toml")


def test_init_writes_the_config_data_folder_and_an_admin_who_can_sign_in(folder: Path) -> None:
    settings = load_settings(folder / "watchkeeper.toml")
    assert settings.data_dir == folder / "watchkeeper-data"
    assert settings.rules.paths == [EXAMPLE_RULES]
    assert settings.http.host == "127.0.0.1"
    assert (settings.data_dir.stat().st_mode & 0o777) == 0o700
    db = open_state_db(settings)
    try:
        [admin] = AuthService(db).list_users()
    finally:
        db.close()
    assert (admin.username, admin.role.value) == ("admin", "admin")


def test_the_generated_password_is_printed_once_and_works(tmp_path: Path) -> None:
    done = run("init", "--dir", str(tmp_path), "--generate-password")
    password = re.search(r"password \(shown once, keep it safe\): (\S+)", done.output)
    assert password is not None
    db = open_state_db(load_settings(tmp_path / "watchkeeper.toml"))
    try:
        user = AuthService(db).authenticate("admin", password.group(1), "127.0.0.1")
    finally:
        db.close()
    assert user.username == "admin"


def test_init_refuses_to_overwrite(folder: Path) -> None:
    again = run("init", "--dir", str(folder), "--generate-password")
    assert again.exit_code == 2
    assert "exists already" in again.output


def test_init_with_a_password_from_stdin(tmp_path: Path) -> None:
    short = run("init", "--dir", str(tmp_path / "a"), "--password-stdin", stdin="short\n")
    assert short.exit_code == 2
    assert "12" in short.output
    done = run("init", "--dir", str(tmp_path / "b"), "--password-stdin",
               stdin="a long enough passphrase\n")
    assert done.exit_code == 0, done.output
    assert "shown once" not in done.output


def test_users_and_tokens(folder: Path) -> None:
    added = run("users", "add", "alice", "--role", "analyst", "--config", config(folder),
                "--password-stdin", stdin="alice's long passphrase\n")
    assert added.exit_code == 0, added.output
    listed = run("users", "list", "--config", config(folder))
    assert "alice" in listed.output
    assert "analyst" in listed.output
    made = run("tokens", "create", "--user", "alice", "--name", "laptop",
               "--config", config(folder))
    assert made.exit_code == 0
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("wk_")
    token_id = token.split("_")[1]
    assert run("tokens", "revoke", token_id, "--config", config(folder)).exit_code == 0
    unknown = run("tokens", "create", "--user", "nobody", "--name", "x",
                  "--config", config(folder))
    assert unknown.exit_code == 2
    assert "no user 'nobody'" in unknown.output


def test_import_then_search(folder: Path) -> None:
    imported = run("import", str(LOGS), "--config", config(folder))
    # the example Windows log holds a broken line on purpose: reported, status 1
    assert imported.exit_code == 1, imported.output
    assert re.search(r"imported 20 events in \d+ batches, 8 new alerts", imported.output)
    assert "sysmon-and-security.jsonl (line 7): bad JSON" in imported.output
    found = run("search", "event.code:1102", "--format", "jsonl", "--config", config(folder))
    assert found.exit_code == 0, found.output
    assert '"host.name":"dc-01.corp.example"' in found.output
    stats = run("search", "* | stats count by event.dataset", "--config", config(folder))
    assert "windows.security" in stats.output
    bad = run("search", "process.name:(", "--config", config(folder))
    assert bad.exit_code == 2
    assert "column" in bad.output


def test_import_cuts_large_batches_into_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    import polars as pl

    from watchkeeper.server import importer

    monkeypatch.setattr(importer, "MAX_PIECE_BYTES", 2000)
    frame = pl.DataFrame({"event.dataset": ["x"] * 100, "Message": ["y" * 100] * 100})
    parts = list(importer.pieces(frame))
    assert len(parts) > 1
    assert all(len(p) <= 2000 for p in parts)
    assert sum(p.count(b"\n") for p in parts) == 100


def test_import_does_not_follow_a_redirect_with_the_token() -> None:
    import http.server
    import threading

    from watchkeeper.errors import UsageError
    from watchkeeper.server import importer

    seen: list[str | None] = []

    class Redirecting(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(self.headers.get("Authorization"))
            self.send_response(307)
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/x")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = http.server.HTTPServer(("127.0.0.1", 0), Redirecting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(UsageError, match="307"):
            importer._post(f"http://127.0.0.1:{server.server_port}/api/v1/ingest/x",
                           "wk_secret", b"{}\n")
    finally:
        server.shutdown()
        server.server_close()
    assert seen == ["Bearer wk_secret"]  # the first request only: the redirect not followed
