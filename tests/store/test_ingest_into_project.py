"""Ingest into a project: each file whole or not at all, the batch goes on, re-ingest adds nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from narratives.ingest.readers import ReadOptions
from narratives.ingest.to_project import ingest_paths
from narratives.schema import SourceKind
from narratives.store.tables import documents, events

SURVEY = "respondent_id,council,q1\nR1,Eastmere,Nothing to add\nR2,Northbridge,Nothing to add\nR3,Eastmere,Waited a year.\n"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding, newline="")
    return path


def stored(project) -> int:
    with project.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(documents)).scalar_one())


def survey_options() -> ReadOptions:
    return ReadOptions(kind=SourceKind.survey, id_column="respondent_id", text_columns=["q1"])


def test_same_answer_from_two_respondents_is_two_documents(backend_project, tmp_path: Path) -> None:
    report = ingest_paths(backend_project, [write(tmp_path / "s.csv", SURVEY)], survey_options(), user="t")
    assert report.documents_added == 3
    assert stored(backend_project) == 3


def test_reingest_adds_nothing_and_leaves_no_event(backend_project, tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", SURVEY)
    ingest_paths(backend_project, [path], survey_options(), user="t")
    again = ingest_paths(backend_project, [path], survey_options(), user="t")
    assert again.files[0].status == "skipped" and again.files[0].unchanged == 3
    with backend_project.connect() as connection:
        kinds = list(connection.execute(select(events.c.kind)).scalars())
    assert kinds == ["ingest.file"]


def test_changed_answer_is_a_new_version(backend_project, tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", SURVEY)
    ingest_paths(backend_project, [path], survey_options(), user="t")
    write(path, SURVEY.replace("Waited a year.", "Waited over a year."))
    report = ingest_paths(backend_project, [path], survey_options(), user="t")
    assert (report.files[0].added, report.files[0].new_versions, report.files[0].unchanged) == (0, 1, 2)


def test_bad_files_are_reported_and_the_rest_go_in(backend_project, tmp_path: Path) -> None:
    good = write(tmp_path / "good.txt", "Interviewer: Hello?\nP01: My PA is brilliant.\n")
    empty = write(tmp_path / "empty.txt", "")
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    report = ingest_paths(
        backend_project,
        [good, empty, binary, tmp_path / "missing.txt"],
        ReadOptions(kind=SourceKind.interview),
        user="t",
    )
    statuses = {Path(f.path).name: f.status for f in report.files}
    assert statuses == {
        "good.txt": "ingested",
        "empty.txt": "failed",
        "photo.txt": "failed",
        "missing.txt": "failed",
    }
    assert report.failed
    reasons = " ".join(r for f in report.files for r in f.reasons)
    assert "empty.txt" in reasons and "photo.txt" in reasons and "missing.txt" in reasons
    assert stored(backend_project) == 1


def test_database_failure_rolls_back_only_that_file(backend_project, tmp_path: Path) -> None:
    first = write(tmp_path / "a.txt", "First post.\n\nSecond paragraph.")
    second = write(tmp_path / "b.txt", "This one breaks half way.")
    calls = {"n": 0}

    def fail_on_b(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO events") and "b.txt" in str(parameters):
            calls["n"] += 1
            raise OperationalError(statement, parameters, Exception("disk I/O error"))

    sa_event.listen(backend_project.engine, "before_cursor_execute", fail_on_b)
    try:
        report = ingest_paths(backend_project, [first, second], ReadOptions(kind=SourceKind.blog), user="t")
    finally:
        sa_event.remove(backend_project.engine, "before_cursor_execute", fail_on_b)
    assert calls["n"] == 1
    with backend_project.connect() as connection:
        paths = list(connection.execute(select(documents.c.path)).scalars())
    # b.txt's document was rolled back with its event; the batch went on and said why
    assert [Path(p.split("#")[0]).name for p in paths] == ["a.txt"]
    assert [f.status for f in report.files] == ["ingested", "failed"]
    assert "nothing from this file was stored" in report.files[1].reasons[0]
