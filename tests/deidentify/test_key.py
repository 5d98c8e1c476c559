"""The reversible key: encrypted with a passphrase, owner-only, kept apart from the project."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from narratives.deidentify import KeyEntry, PseudonymKey, read_key, write_key
from narratives.deidentify.key import key_for_project
from narratives.errors import DeidentificationKeyError, NarrativesError

PASSPHRASE = "correct horse battery"


def _key() -> PseudonymKey:
    return PseudonymKey(
        salt="s4lt",
        entries=[KeyEntry("name", 1, ["Sarah Jones", "sarah"]), KeyEntry("place", 1, ["Fenbury"])],
    )


def test_round_trip_keeps_every_entry_and_the_salt(tmp_path: Path) -> None:
    path = write_key(tmp_path / "keys" / "study.key", _key(), PASSPHRASE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert "Sarah" not in text and "Fenbury" not in text and "s4lt" not in text
    back = read_key(path, PASSPHRASE)
    assert back == _key()
    assert back.reidentify("[Person 1] lives in [Place 1].") == "Sarah Jones lives in Fenbury."
    assert back.find("person 1") == back.entries[0] and back.find("[Person 9]") is None


def test_a_wrong_passphrase_is_our_error_naming_the_file(tmp_path: Path) -> None:
    path = write_key(tmp_path / "study.key", _key(), PASSPHRASE)
    with pytest.raises(DeidentificationKeyError, match=r"study\.key.*wrong passphrase"):
        read_key(path, "not the passphrase")


@pytest.mark.parametrize("field", ["token", "salt", "format"])
def test_a_tampered_key_file_is_refused_as_damaged_or_wrong(tmp_path: Path, field: str) -> None:
    path = write_key(tmp_path / "study.key", _key(), PASSPHRASE)
    envelope = json.loads(path.read_text(encoding="utf-8"))
    if field == "token":
        raw = bytearray(base64.urlsafe_b64decode(envelope["token"]))
        raw[40] ^= 1  # one bit of the ciphertext
        envelope["token"] = base64.urlsafe_b64encode(bytes(raw)).decode()
    elif field == "salt":
        envelope["salt"] = base64.b64encode(b"0" * 16).decode()
    else:
        envelope["format"] = "something else"
    path.write_text(json.dumps(envelope), encoding="utf-8")
    with pytest.raises(DeidentificationKeyError, match=r"damaged|wrong passphrase"):
        read_key(path, PASSPHRASE)


def test_the_token_changed_is_reported_as_damage_not_as_a_wrong_passphrase(tmp_path: Path) -> None:
    path = write_key(tmp_path / "study.key", _key(), PASSPHRASE)
    envelope = json.loads(path.read_text(encoding="utf-8"))
    envelope["token"] = envelope["token"][:-8] + "AAAAAAAA"
    path.write_text(json.dumps(envelope), encoding="utf-8")
    with pytest.raises(DeidentificationKeyError, match="damaged"):
        read_key(path, PASSPHRASE)


@pytest.mark.parametrize("content", ["", "not json", "[1, 2]", '{"format": "narratives-pseudonym-key"}'])
def test_a_file_that_is_not_a_key_is_damaged(tmp_path: Path, content: str) -> None:
    path = tmp_path / "study.key"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DeidentificationKeyError, match="damaged"):
        read_key(path, PASSPHRASE)


def test_a_key_inside_the_project_folder_is_refused_and_not_written(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    with pytest.raises(DeidentificationKeyError, match="not kept inside") as caught:
        write_key(project / "sub" / ".." / "study.key", _key(), PASSPHRASE, keep_apart_from=[project])
    assert caught.value.fix and isinstance(caught.value, NarrativesError)
    assert not (project / "study.key").exists()
    write_key(tmp_path / "apart.key", _key(), PASSPHRASE, keep_apart_from=[project])


def test_a_short_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DeidentificationKeyError, match="shorter"):
        write_key(tmp_path / "study.key", _key(), "short")


def test_a_key_of_another_project_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DeidentificationKeyError, match="another project"):
        key_for_project(_key(), "a different salt", tmp_path / "study.key")
    assert key_for_project(PseudonymKey(), "s4lt", tmp_path / "study.key").salt == "s4lt"
    assert key_for_project(_key(), "s4lt", tmp_path / "study.key") == _key()


def test_a_folder_in_place_of_the_key_file_is_our_error(tmp_path: Path) -> None:
    with pytest.raises(DeidentificationKeyError, match="cannot read"):
        read_key(tmp_path, PASSPHRASE)
