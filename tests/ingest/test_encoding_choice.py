"""Which legacy encoding a non-UTF-8 file is read as, and how sure the note says the guess is.

charset-normalizer alone reads cp1252 "Déjà" as cp1257 "Déją" (equal chaos on a few words); English
text with French, Irish or Welsh words saved on Windows must come back as written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from narratives.ingest.checks import (
    CLOSE_CALL_CONFIDENCE,
    decode_text,
    detect_file_encoding,
)

# The acceptance run's file: the second row came back as "Déją" with confidence 1.00
DEJA_VU = "id,answer\nR1,Fine\nR2,Déjà vu with the council again\n"
WORDS_LATIN1 = ["Déjà vu", "café", "Siân", "Seán", "naïve", "£40"]
WORDS_CP1252_ONLY = ["€10", "“never again”", "it’s", "Zoë – twice"]


def _answers(words: list[str]) -> str:
    rows = [f"R{i},The council said {word} about the care plan again" for i, word in enumerate(words)]
    return "id,answer\n" + "\n".join(rows) + "\n"


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_deja_vu_reads_as_written(encoding: str) -> None:
    decoded = decode_text(DEJA_VU.encode(encoding), "answers.csv")
    assert decoded.text == DEJA_VU
    assert decoded.encoding == "cp1252"


def test_a_close_call_is_not_reported_as_certain() -> None:
    decoded = decode_text(DEJA_VU.encode("cp1252"), "answers.csv")
    assert 0 < decoded.confidence <= CLOSE_CALL_CONFIDENCE


@pytest.mark.parametrize("word", WORDS_LATIN1 + WORDS_CP1252_ONLY)
def test_each_word_reads_as_written_in_cp1252(word: str) -> None:
    text = _answers([word])
    assert decode_text(text.encode("cp1252"), "answers.csv").text == text


@pytest.mark.parametrize("word", WORDS_LATIN1)
def test_each_word_reads_as_written_in_latin1(word: str) -> None:
    text = _answers([word])
    assert decode_text(text.encode("latin-1"), "answers.csv").text == text


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_all_the_words_in_one_file(encoding: str) -> None:
    words = WORDS_LATIN1 + (WORDS_CP1252_ONLY if encoding == "cp1252" else [])
    text = _answers(words)
    decoded = decode_text(text.encode(encoding), "answers.csv")
    assert decoded.text == text


def test_streamed_csv_is_read_as_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_bytes(DEJA_VU.encode("cp1252"))
    encoding, confidence = detect_file_encoding(path)
    assert encoding == "cp1252"
    assert path.read_bytes().decode(encoding) == DEJA_VU
    assert confidence <= CLOSE_CALL_CONFIDENCE


def test_polish_in_cp1250_is_still_read_as_cp1250() -> None:
    # charset-normalizer finds Polish here; cp1252 would turn "ż" into "¿"
    text = "Zażółć gęślą jaźń. Świadczenia opiekuńcze są ważne dla rodzin, które opiekują się chorymi.\n"
    decoded = decode_text(text.encode("cp1250"), "odpowiedzi.txt")
    assert decoded.text == text
    assert decoded.encoding == "cp1250"


def test_czech_prose_in_cp1250_is_not_turned_into_cp1252() -> None:
    # every cp1250 byte here is a letter in cp1252 too ("ů" -> "ù"): too many accents for English
    text = "Sociální služby jsou důležité pro rodiny, které pečují o nemocné. Děkuji za pomoc.\n"
    decoded = decode_text(text.encode("cp1250"), "odpovedi.txt")
    assert decoded.text == text


def test_the_same_text_under_cp1250_is_named_cp1252() -> None:
    # German umlauts are the same bytes in cp1250 and cp1252: name the Windows Western encoding
    text = "Die Pflegekräfte kommen zu spät, und die Gebühren für Betreuung sind höher geworden.\n"
    decoded = decode_text(text.encode("cp1252"), "antworten.txt")
    assert (decoded.text, decoded.encoding) == (text, "cp1252")
