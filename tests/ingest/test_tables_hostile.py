"""Hostile and sloppy tables and file names: nothing is lost, misplaced or dropped without a word."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select

from narratives.errors import IngestError
from narratives.ingest import csv_records
from narratives.ingest.attributes_file import read_attributes_file
from narratives.ingest.checks import decode_text, read_text_checked
from narratives.ingest.readers import ReadOptions, read_files
from narratives.ingest.survey import MAX_CELL_CHARS, read_survey
from narratives.ingest.to_project import ingest_paths
from narratives.store.tables import documents

ANSWERS = "id,answer,age\nR1,Fine,30\nR2,Slow to start,41\n"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def stored_paths(project) -> list[str]:
    with project.connect() as connection:
        return sorted(connection.execute(select(documents.c.path)).scalars())


@pytest.mark.parametrize(
    "name",
    [
        "care #1 notes.txt",
        "a#b#c.txt",
        "#post-2.txt",
        "100% sure.txt",
        'Siân\'s "diary" – week 1.txt',
        "notes#row=3.md",
    ],
)
def test_text_file_names_with_any_character_are_ingested(tmp_project, tmp_path: Path, name: str) -> None:
    path = write(tmp_path / name, "I manage my own budget now, with help from a PA.\n")
    report = ingest_paths(tmp_project, [path], ReadOptions(), user="t")
    assert [(f.path, f.status, f.added) for f in report.files] == [(str(path), "ingested", 1)]
    assert stored_paths(tmp_project) == [str(path)]


def test_survey_and_blog_fragments_are_added_after_a_name_holding_hashes(tmp_project, tmp_path: Path) -> None:
    survey = write(tmp_path / "a#b#c.csv", ANSWERS)
    blog = write(tmp_path / "care #1.txt", "# First post\n\nOne.\n\n# Second post\n\nTwo.\n")
    options = ReadOptions(id_column="id", text_columns=["answer"], split="headings")
    report = ingest_paths(tmp_project, [survey, blog], options, user="t")
    assert [(f.status, f.added) for f in report.files] == [("ingested", 2), ("ingested", 2)]
    assert stored_paths(tmp_project) == sorted(
        [f"{survey}#row=2", f"{survey}#row=3", f"{blog}#post-1", f"{blog}#post-2"]
    )


def test_attributes_row_matches_a_file_whose_name_holds_a_hash(tmp_path: Path) -> None:
    transcript = write(tmp_path / "care #1 notes.txt", "Interviewer: Hello?\nP01: Hello.\n")
    table = write(tmp_path / "people.csv", "file,participant,wave\ncare #1 notes.txt,P01,2\n")
    batch = read_files([transcript], ReadOptions(attributes=read_attributes_file(table)))
    assert [(d.participant, d.wave) for d in batch.documents] == [("P01", 2)]


STRAY_QUOTE = (
    "id,answer,age\n"
    "R1,Fine,30\n"
    "R2,Slow to start,41\n"
    'R3,"It was hard at first,52\n'
    "R4,Much better now,60\n"
    "R5,No change,71\n"
)


@pytest.mark.parametrize(
    "text",
    [
        STRAY_QUOTE,  # the quote is never closed: the rest of the file would be R3's answer
        STRAY_QUOTE + 'R6,"Good, mostly",80\n',  # a later quote would close it, a row on
        STRAY_QUOTE.replace("R5,No change,71", 'R5,"No" change,71'),  # or a quote mid-cell
        STRAY_QUOTE.replace("R5,No change,71", 'R5,No change",71'),  # closed before a comma
    ],
)
def test_an_unbalanced_quote_is_an_error_naming_the_row_and_line(tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "answers.csv", text)
    with pytest.raises(IngestError) as info:
        read_survey(path, "id", ["answer"])
    message = str(info.value)
    assert "answers.csv" in message and "row 4 (the record starting on line 4)" in message
    assert "quote" in message and "Fix:" in message and "on line 4" in message


def test_an_unbalanced_quote_stores_nothing_of_the_file(tmp_project, tmp_path: Path) -> None:
    good = write(tmp_path / "good.csv", ANSWERS)
    bad = write(tmp_path / "bad.csv", STRAY_QUOTE)
    options = ReadOptions(id_column="id", text_columns=["answer"])
    report = ingest_paths(tmp_project, [bad, good], options, user="t")
    assert [f.status for f in report.files] == ["failed", "ingested"]
    assert "row 4" in report.files[0].reasons[0]
    with tmp_project.connect() as connection:
        texts = list(connection.execute(select(documents.c.text)).scalars())
    assert sorted(texts) == ["Fine", "Slow to start"]
    assert not any("R4" in t for t in texts)


def test_quotes_written_properly_still_hold_commas_newlines_and_quotes(tmp_path: Path) -> None:
    answer = 'He said ""no"", then\nlater, yes\nR7 was my old number, and now'
    path = write(tmp_path / "ok.csv", f'id,answer,age\nR1,"{answer}",40\nR2,Fine,50\n')
    result = read_survey(path, "id", ["answer"])
    assert [d.text for d in result.documents] == [answer.replace('""', '"'), "Fine"]
    assert [d.path for d in result.documents] == [f"{path}#row=2", f"{path}#row=3"]


def test_a_repeated_column_is_noted_and_its_answers_are_kept(tmp_path: Path) -> None:
    path = write(tmp_path / "dup.csv", "id,comment,area,comment,area\nR1,First,North,Second,South\n")
    result = read_survey(path, "id", ["comment"])
    assert [(d.question, d.text) for d in result.documents] == [
        ("comment", "First"),
        ("comment (2)", "Second"),
    ]
    attributes = {a.key: a.value for a in result.documents[0].attributes}
    assert attributes == {"area": "North", "area (2)": "South"}
    assert any("dup.csv" in n and "'comment' appears 2 times (columns 2, 4)" in n for n in result.notes)
    assert any("'area' appears 2 times" in n and "'area (2)'" in n for n in result.notes)


def test_a_repeated_column_reaches_the_batch_notes(tmp_path: Path) -> None:
    path = write(tmp_path / "dup.csv", "id,answer,answer\nR1,A,B\n")
    batch = read_files([path], ReadOptions(id_column="id", text_columns=["answer"]))
    assert len(batch.documents) == 2
    assert any("'answer' appears 2 times" in note for note in batch.notes)


def test_a_repeated_column_in_an_attributes_file_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "people.csv", "participant,age,Age\nP01,30,31\n")
    with pytest.raises(IngestError, match=r"column 'Age' appears twice \(columns 2 and 3\)"):
        read_attributes_file(path)


def test_a_quote_left_open_over_a_big_file_stops_at_the_parse_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_records, "PARSE_CELL_LIMIT", 10_000)
    rows = "".join(f"R{n},Answer {n}\n" for n in range(3, 3000))
    path = write(tmp_path / "open.csv", f'id,answer\nR1,Fine\nR2,"Opened {rows}')
    try:
        with pytest.raises(IngestError) as info:
            read_survey(path, "id", ["answer"])
    finally:
        csv.field_size_limit(131072)
    assert "row 3 (the record starting on line 3)" in str(info.value)
    assert "never closed" in str(info.value) and "on line 3" in str(info.value)


def test_a_huge_cell_fails_its_row_and_the_others_go_in(tmp_path: Path) -> None:
    huge = "word " * (5 * 1024 * 1024 // 5)  # 5 MB in one cell
    path = write(tmp_path / "big.csv", f"id,answer,note\nR1,Fine,-\nR2,{huge},-\nR3,Good,-\n")
    result = read_survey(path, "id", ["answer"])
    assert [d.participant for d in result.documents] == ["R1", "R3"]
    assert [f.row for f in result.failures] == [3]
    message = result.failures[0].message
    assert "row 3" in message and "column 'answer'" in message and f"{MAX_CELL_CHARS:,}" in message
    assert "quote" not in message


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_legacy_encoded_csv_with_pounds_and_accents_is_read(tmp_path: Path, encoding: str) -> None:
    path = write(tmp_path / "s.csv", "id,answer\nR1,£25 a week for the café\nR2,Café\n", encoding)
    result = read_survey(path, "id", ["answer"])
    assert [d.text for d in result.documents] == ["£25 a week for the café", "Café"]
    assert result.encoding == "cp1252"


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("cp1252", "£25 a week for the café"),
        ("latin-1", "£25 a week for the café"),
        ("cp1252", "Café"),
        ("latin-1", "Café"),
        ("cp1252", "Grüße, £4 – “thanks” … €5"),
    ],
)
def test_legacy_encoded_text_with_pounds_and_accents_is_read(encoding: str, text: str) -> None:
    assert decode_text(text.encode(encoding), "x.txt").text == text


def test_cyrillic_and_greek_are_not_taken_for_cp1252() -> None:
    text = "Καλημέρα σας, πώς είστε σήμερα; Ελπίζω καλά."
    assert decode_text(text.encode("cp1253"), "x.txt").text == text


def test_an_unrecognised_encoding_says_to_give_one(tmp_path: Path) -> None:
    path = tmp_path / "odd.txt"
    path.write_bytes(bytes(range(0x80, 0x100)) * 3 + b"abc")
    with pytest.raises(IngestError) as info:
        read_text_checked(path)
    assert "odd.txt" in str(info.value) and "--encoding cp1252" in str(info.value)


def test_a_forced_encoding_that_does_not_fit_names_the_line(tmp_path: Path) -> None:
    lines = "".join(f"R{i},fine\n" for i in range(1, 500))
    path = tmp_path / "s.csv"
    path.write_bytes(f"id,answer\n{lines}".encode() + "R999,£5\n".encode("cp1252"))
    with pytest.raises(IngestError) as info:
        read_survey(path, "id", ["answer"], encoding="utf-8")
    assert "on line 501" in str(info.value) and "--encoding cp1252" in str(info.value)


def test_an_unknown_forced_encoding_is_our_error(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", ANSWERS)
    with pytest.raises(IngestError, match="not an encoding"):
        read_survey(path, "id", ["answer"], encoding="klingon")
