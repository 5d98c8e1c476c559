from __future__ import annotations

import os
from pathlib import Path

import pytest

from narratives.errors import IngestError
from narratives.ingest.checks import decode_text, looks_binary, read_bytes_checked, read_text_checked


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="not found") as info:
        read_bytes_checked(tmp_path / "nope.txt")
    assert "nope.txt" in str(info.value)


@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n  "])
def test_empty_or_whitespace_file_is_an_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(IngestError, match="empty"):
        read_bytes_checked(path)


def test_oversized_file_gives_size_limit_and_option(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("word " * 400, encoding="utf-8")
    with pytest.raises(IngestError) as info:
        read_bytes_checked(path, max_bytes=1000)
    message = str(info.value)
    assert "2.0 KB" in message and "1000 bytes" in message and "--max-mb" in message


@pytest.mark.parametrize("suffix", [".txt", ".md", ".csv", ".vtt", ".srt"])
def test_binary_disguised_as_text_is_an_error(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"disguised{suffix}"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + os.urandom(500))
    with pytest.raises(IngestError, match="binary"):
        read_bytes_checked(path)


def test_binary_check_skips_binary_formats(tmp_path: Path) -> None:
    path = tmp_path / "file.docx"
    path.write_bytes(b"PK\x03\x04\x00\x00")
    assert read_bytes_checked(path).startswith(b"PK")


def test_utf16_with_bom_is_not_binary() -> None:
    data = "Hello there".encode("utf-16")
    assert not looks_binary(data)
    assert decode_text(data, "x.txt").text == "Hello there"


def test_utf8_is_kept_exactly_with_crlf_and_unicode() -> None:
    text = "Café\r\nit’s “fine”\r\ne\u0301\n"
    decoded = decode_text(text.encode("utf-8"), "x.txt")
    assert decoded.text == text
    assert (decoded.encoding, decoded.confidence) == ("utf-8", 1.0)


def test_utf8_bom_is_stripped_and_reported() -> None:
    decoded = decode_text("\ufeffhello".encode(), "x.txt")
    assert decoded.text == "hello"
    assert decoded.encoding == "utf-8-sig"


def test_cp1252_is_guessed_and_reported() -> None:
    text = "It cost £25 – “too much”, they said. I wasn’t told beforehand.\r\n"
    decoded = decode_text(text.encode("cp1252"), "x.txt")
    assert decoded.text == text
    assert decoded.encoding == "cp1252"
    assert decoded.guessed and 0 < decoded.confidence <= 1


def test_forced_encoding_is_used() -> None:
    assert decode_text("£5".encode("latin-1"), "x.txt", encoding="latin-1").text == "£5"


def test_undecodable_bytes_are_an_error_suggesting_utf8(tmp_path: Path) -> None:
    path = tmp_path / "garbled.txt"
    path.write_bytes(bytes(range(128, 256)) * 20)
    with pytest.raises(IngestError, match="UTF-8") as info:
        read_text_checked(path)
    assert "garbled.txt" in str(info.value)


def test_wrong_forced_encoding_is_an_error() -> None:
    with pytest.raises(IngestError, match="cannot decode"):
        decode_text("£".encode("cp1252"), "x.txt", encoding="utf-8")
