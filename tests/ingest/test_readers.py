from __future__ import annotations

import shutil
from pathlib import Path

import docx
import pytest

from narratives.errors import IngestError
from narratives.ingest.attributes_file import read_attributes_file
from narratives.ingest.readers import ReadOptions, read_file, read_files
from narratives.schema import SourceKind
from tests.builders.pdf import minimal_pdf


def test_txt_kind_blog_is_split_into_posts(fixtures: Path) -> None:
    documents = read_file(fixtures / "blog_multi_post.txt", SourceKind.blog)
    assert len(documents) >= 6
    assert documents[0].title == "Commissioning"
    assert all(d.kind == SourceKind.blog for d in documents)


def test_txt_without_kind_is_one_text_or_a_transcript_when_labels_dominate(fixtures: Path) -> None:
    [blog] = read_file(fixtures / "blog_multi_post.txt")
    assert blog.kind == SourceKind.blog and not blog.turns
    [interview] = read_file(fixtures / "transcript_qa.txt")
    assert interview.kind == SourceKind.interview and len(interview.turns) == 4


def test_explicit_split_splits_without_kind(fixtures: Path) -> None:
    options = ReadOptions(split="heuristic")
    assert len(read_file(fixtures / "blog_multi_post.txt", options=options)) >= 6


def test_options_set_participant_wave_and_date(fixtures: Path) -> None:
    options = ReadOptions(kind=SourceKind.interview, participant="P11", wave=2, date="2024-01-05")
    [document] = read_file(fixtures / "transcript_qa.txt", options=options)
    assert (document.participant, document.wave, document.date) == ("P11", 2, "2024-01-05")
    assert {t.speaker for t in document.turns} == {"Interviewer", "P11"}


def test_attributes_file_sets_participant_used_for_a_labels(tmp_path: Path, fixtures: Path) -> None:
    table = tmp_path / "attributes.csv"
    table.write_text("file,participant,wave,need_group\ntranscript_qa.txt,P21,1,carer\n", encoding="utf-8")
    options = ReadOptions(attributes=read_attributes_file(table))
    [document] = read_file(fixtures / "transcript_qa.txt", options=options)
    assert (document.participant, document.wave) == ("P21", 1)
    assert {t.speaker for t in document.turns} == {"Interviewer", "P21"}
    assert document.participant_attributes[0].value == "carer"


def test_docx_read_as_interview_gets_turns(tmp_path: Path) -> None:
    word = docx.Document()
    for line in ["Interviewer: How was the assessment?", "P08: Long.", "Interviewer: Why?", "P08: Forms."]:
        word.add_paragraph(line)
    path = tmp_path / "p08.docx"
    word.save(str(path))
    [document] = read_file(path, SourceKind.interview)
    assert [(t.speaker, document.text[t.start : t.end]) for t in document.turns] == [
        ("Interviewer", "How was the assessment?"),
        ("P08", "Long."),
        ("Interviewer", "Why?"),
        ("P08", "Forms."),
    ]
    assert document.source_format == "docx" and document.participant == "P08"


def test_read_file_raises_for_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.rtf"
    path.write_text("{\\rtf1 hello}", encoding="utf-8")
    with pytest.raises(IngestError, match=r"unsupported file type '\.rtf'"):
        read_file(path)


def make_folder(tmp_path: Path, fixtures: Path) -> Path:
    folder = tmp_path / "inputs"
    (folder / "nested").mkdir(parents=True)
    shutil.copy(fixtures / "transcript_interviewer_p03.txt", folder / "nested")
    shutil.copy(fixtures / "interview_p04.vtt", folder)
    shutil.copy(fixtures / "survey_cp1252.csv", folder)
    (folder / "good.md").write_text("# A post\n\nSome words about care.\n", encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (folder / "garbled.txt").write_bytes(bytes(range(128, 256)) * 20)
    (folder / "tiny_limit_breaker.md").write_text("word " * 5000, encoding="utf-8")
    (folder / "scan.pdf").write_bytes(minimal_pdf([]))
    (folder / "text.pdf").write_bytes(minimal_pdf(["A PDF story about respite care."]))
    (folder / "picture.png").write_bytes(b"\x89PNG\r\n")
    (folder / ".hidden.txt").write_text("ignored", encoding="utf-8")
    return folder


def test_read_files_never_stops_at_a_bad_file(tmp_path: Path, fixtures: Path) -> None:
    folder = make_folder(tmp_path, fixtures)
    extra = tmp_path / "notes.xyz"
    extra.write_text("what is this", encoding="utf-8")
    options = ReadOptions(id_column="id", text_columns=["q1_experience"], max_bytes=10_000)
    batch = read_files([folder, extra, tmp_path / "missing.txt"], options)

    by_format = sorted({d.source_format for d in batch.documents})
    assert by_format == ["csv", "md", "pdf", "txt", "vtt"]
    failed = {Path(f.path).name: f.message for f in batch.failures}
    assert set(failed) == {
        "empty.txt",
        "binary.txt",
        "garbled.txt",
        "tiny_limit_breaker.md",
        "scan.pdf",
        "notes.xyz",
        "missing.txt",
    }
    assert "empty" in failed["empty.txt"]
    assert "binary" in failed["binary.txt"]
    assert "UTF-8" in failed["garbled.txt"]
    assert "limit" in failed["tiny_limit_breaker.md"]
    assert "OCR" in failed["scan.pdf"]
    assert "unsupported file type '.xyz'" in failed["notes.xyz"] and "Fix:" in failed["notes.xyz"]
    assert "not found" in failed["missing.txt"]
    assert all(f.row is None for f in batch.failures)
    assert any("cp1252" in note for note in batch.notes)
    assert any("picture.png" in note for note in batch.notes)
    assert not any("hidden" in d.path for d in batch.documents if d.path)


def test_survey_row_failures_are_reported_with_rows(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("id,answer\nR1,Fine\n,Lost id\nR1,Again\nR2,Good\n", encoding="utf-8")
    batch = read_files([path], ReadOptions(id_column="id", text_columns=["answer"]))
    assert [d.participant for d in batch.documents] == ["R1", "R2"]
    assert [(f.row, f.path) for f in batch.failures] == [(3, str(path)), (4, str(path))]


def test_missing_survey_column_is_a_failure_naming_file_and_column(fixtures: Path) -> None:
    batch = read_files([fixtures / "survey_cp1252.csv"], ReadOptions(id_column="id", text_columns=["q9"]))
    [failure] = batch.failures
    assert "survey_cp1252.csv" in failure.message and "'q9'" in failure.message
    assert batch.documents == []


def test_each_file_is_read_once(fixtures: Path) -> None:
    path = fixtures / "transcript_qa.txt"
    batch = read_files([path, path, str(path)])
    assert len(batch.documents) == 1
