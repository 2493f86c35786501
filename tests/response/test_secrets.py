"""Connector secrets sealed with Fernet; the key from settings or a 0600 file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from watchkeeper.response.secrets import KEY_FILE, SecretBox, SecretKeyError, load_secret_box


def test_round_trip() -> None:
    box = SecretBox(SecretBox.generate_key())
    token = box.seal({"token": "s3cr3t", "password": "pässwörd"})
    assert "s3cr3t" not in token
    assert box.open(token) == {"token": "s3cr3t", "password": "pässwörd"}


def test_another_key_cannot_open_and_says_so() -> None:
    token = SecretBox(SecretBox.generate_key()).seal({"token": "x"})
    with pytest.raises(SecretKeyError, match="sealed with another key"):
        SecretBox(SecretBox.generate_key()).open(token)


def test_a_previous_key_still_opens_old_tokens() -> None:
    old, new = SecretBox.generate_key(), SecretBox.generate_key()
    token = SecretBox(old).seal({"a": "1"})
    rotated = SecretBox(new, previous=[old])
    assert rotated.open(token) == {"a": "1"}
    assert SecretBox(new).open(rotated.seal({"a": "2"})) == {"a": "2"}


def test_a_bad_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(SecretKeyError, match="not a Fernet key") as caught:
        SecretBox("not-a-key-xyz")
    assert "not-a-key-xyz" not in str(caught.value)


def test_repr_hides_the_key() -> None:
    key = SecretBox.generate_key()
    assert key not in repr(SecretBox(key))


def test_key_file_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    first = load_secret_box(folder)
    path = folder / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = first.seal({"url": "https://hooks.example/x"})
    assert load_secret_box(folder).open(token) == {"url": "https://hooks.example/x"}


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    load_secret_box(tmp_path)
    (tmp_path / KEY_FILE).chmod(0o644)
    with pytest.raises(SecretKeyError, match="chmod 600"):
        load_secret_box(tmp_path)


def test_a_key_from_settings_wins_over_the_file(tmp_path: Path) -> None:
    key = SecretBox.generate_key()
    token = SecretBox(key).seal({"a": "b"})
    assert load_secret_box(tmp_path, key).open(token) == {"a": "b"}
    assert not (tmp_path / KEY_FILE).exists()
