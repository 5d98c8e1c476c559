"""Small gaps in reading: text files that are blank once decoded, and table columns with values but
no name. Each is our error or a note naming the file, never a silent loss."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import narratives.ingest as ingest
from narratives.cli import app
from narratives.errors import IngestError
from narratives.ingest.checks import GUESS_SAMPLE, detect_file_encoding, read_text_checked
from narratives.ingest.readers import ReadOptions, read_files
from narratives.ingest.survey import read_survey

TEXT_SUFFIXES = [".csv", ".tsv", ".vtt", ".srt", ".html", ".htm", ".txt", ".md"]
BLANK_CONTENTS = {
    "utf8-bom": b"\xef\xbb\xbf",
    "bom-and-whitespace": b"\xef\xbb\xbf \r\n\t\n",
    "utf16-bom": b"\xff\xfe",
    "utf16-bom-and-spaces": "\ufeff  \n".encode("utf-16-le"),
    "unicode-spaces": "\u00a0\u3000\u2003\n".encode(),
    "zero-width": "\u200b\ufeff\u2060 \n".encode(),
}


@pytest.mark.parametrize("suffix", TEXT_SUFFIXES)
@pytest.mark.parametrize("content", list(BLANK_CONTENTS.values()), ids=list(BLANK_CONTENTS))
def test_a_text_file_blank_once_decoded_is_one_error_naming_the_file(
    tmp_path: Path, suffix: str, content: bytes
) -> None:
    path = tmp_path / f"blank{suffix}"
    path.write_bytes(content)
    options = ReadOptions(id_column="id", text_columns=["answer"])

    batch = read_files([path], options)

    assert batch.documents == []
    assert batch.files_read == []
    assert len(batch.failures) == 1
    failure = batch.failures[0]
    assert failure.row is None and failure.path == str(path)
    assert f"{path}: the file has no text" in failure.message
    assert "Fix: check you exported the right file." in failure.message


@pytest.mark.parametrize("content", list(BLANK_CONTENTS.values()), ids=list(BLANK_CONTENTS))
def test_read_text_checked_is_where_blank_text_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "blank.txt"
    path.write_bytes(content)
    with pytest.raises(IngestError, match="has no text") as info:
        read_text_checked(path)
    assert str(path) in str(info.value)


def test_an_empty_file_and_a_blank_one_get_the_same_error(tmp_path: Path) -> None:
    empty, blank = tmp_path / "empty.txt", tmp_path / "blank.txt"
    empty.write_bytes(b"")
    blank.write_bytes(b"\xef\xbb\xbf\n")
    messages = []
    for path in (empty, blank):
        with pytest.raises(IngestError) as info:
            read_text_checked(path)
        messages.append(str(info.value).replace(str(path), "FILE"))
    assert messages[0] == messages[1]


def test_text_that_is_not_blank_after_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "short.txt"
    path.write_bytes("\ufeff\u200bOk.\n".encode())
    assert read_text_checked(path).text == "\u200bOk.\n"
    table = tmp_path / "short.csv"
    table.write_bytes(b"\xef\xbb\xbfid,answer\nR1,Ok\n")
    assert detect_file_encoding(table) == ("utf-8-sig", 1.0)


def test_a_table_with_text_after_a_long_blank_start_is_not_refused_as_blank(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"  # blank for longer than the sample the encoding is guessed from
    path.write_bytes(b" " * GUESS_SAMPLE + b"\nid,answer\nR1,Fine\n")
    assert detect_file_encoding(path) == ("utf-8", 1.0)


def test_ingest_of_a_blank_file_prints_the_error_without_a_traceback(tmp_path: Path) -> None:
    blank = tmp_path / "notes.vtt"
    blank.write_bytes(b"\xef\xbb\xbf\n\n")
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(tmp_path / "p")]).exit_code == 0

    result = runner.invoke(app, ["ingest", str(tmp_path / "p"), str(blank)], terminal_width=250)

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "notes.vtt: the file has no text" in " ".join(result.output.split())


# ---------------------------------------------------------------- columns without a name


@pytest.mark.parametrize("delimiter, suffix", [(",", ".csv"), ("\t", ".tsv"), (";", ".csv")])
def test_a_column_with_values_but_no_name_is_noted_with_its_position(
    tmp_path: Path, delimiter: str, suffix: str
) -> None:
    rows = [
        ["id", "answer", "age", "", "region", ""],
        ["R1", "The carers changed every week", "71", "", "North", ""],
        ["R2", "I chose my own PA", "64", "asked for a call back", "South", ""],
        ["R3", "Fine", "80", "", "East", ""],
    ]
    path = tmp_path / f"answers{suffix}"
    path.write_text("\n".join(delimiter.join(row) for row in rows) + "\n", encoding="utf-8")

    batch = read_files([path], ReadOptions(id_column="id", text_columns=["answer"]))

    assert [d.participant for d in batch.documents] == ["R1", "R2", "R3"]
    assert {a.key for a in batch.documents[0].attributes} == {"age", "region"}
    unnamed = [note for note in batch.notes if "has no name" in note]
    assert unnamed == [
        f"{path}: column 4 has no name; its values were not read (the first is on row 3); "
        "give it a header in row 1 and read the file again"
    ]


def test_empty_columns_without_a_name_are_not_noted(tmp_path: Path) -> None:
    path = tmp_path / "trailing.csv"  # a trailing comma on every line, as some exports write
    path.write_text("id,answer,\nR1,Fine,\nR2,Good,  \n", encoding="utf-8")
    result = read_survey(path, "id", ["answer"])
    assert len(result.documents) == 2
    assert not [note for note in result.notes if "has no name" in note]


def test_the_note_comes_with_read_survey_and_names_each_column(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text(",id,answer,\nx,R1,Fine,\n,R2,Good,late value\n", encoding="utf-8")
    result = read_survey(path, "id", ["answer"])
    assert [note.split(";")[0] for note in result.notes] == [
        f"{path}: column 1 has no name",
        f"{path}: column 4 has no name",
    ]
    assert "(the first is on row 2)" in result.notes[0]
    assert "(the first is on row 3)" in result.notes[1]


# ---------------------------------------------------------------- the package's names


def test_every_name_the_package_exports_is_there() -> None:
    missing = [name for name in ingest.__all__ if not hasattr(ingest, name)]
    assert missing == []
    assert {"FileRead", "iter_files", "split_posts", "BlogSplit", "captions_document"} <= set(ingest.__all__)
