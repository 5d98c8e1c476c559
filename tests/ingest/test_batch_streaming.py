"""A batch is stored file by file, a big table streams with progress, a crashing reader is our error."""

from __future__ import annotations

import csv
import logging
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import func, select

from narratives.errors import IngestError
from narratives.ingest.readers import ReadOptions, read_file, read_files
from narratives.ingest.survey import survey_reader
from narratives.ingest.to_project import ingest_paths
from narratives.store.tables import documents

ROWS = 2000
ANSWER_CHARS = 10_000  # 2,000 rows of 10,000 characters: a 20 MB table


def big_table(path: Path) -> Path:
    """A 20 MB survey table, written row by row; every answer differs."""
    filler = "the support plan was reviewed and nothing changed " * (ANSWER_CHARS // 50)
    with path.open("w", encoding="utf-8", newline="") as stream:
        stream.write("id,area,answer\n")
        for number in range(1, ROWS + 1):
            stream.write(f"R{number},{'North' if number % 2 else 'South'},Answer {number}: {filler}\n")
    return path


def stored(project) -> int:
    with project.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(documents)).scalar_one())


def explode_on(monkeypatch: pytest.MonkeyPatch, name: str, on_read=None) -> None:
    """Make the csv library fail, as a damaged file might make it, while reading the file ``name``."""
    real_reader = csv.reader

    def reader(stream, *args, **kwargs):
        if Path(getattr(stream, "name", "")).name == name:
            if on_read:
                on_read()
            raise RuntimeError("the parser fell over")
        return real_reader(stream, *args, **kwargs)

    monkeypatch.setattr(csv, "reader", reader)


def test_a_big_table_streams_into_the_project_with_progress(tmp_project, tmp_path: Path) -> None:
    path = big_table(tmp_path / "big.csv")
    assert path.stat().st_size > 20_000_000
    reports: list[tuple[str, int, int]] = []
    report = ingest_paths(
        tmp_project,
        [path],
        ReadOptions(id_column="id", text_columns=["answer"]),
        user="t",
        file_progress=lambda file, done, total: reports.append((file, done, total)),
    )
    assert [(f.status, f.added) for f in report.files] == [("ingested", ROWS)]
    assert stored(tmp_project) == ROWS
    assert len(reports) > 10  # about one a megabyte
    assert {file for file, _, _ in reports} == {str(path)}
    done = [d for _, d, _ in reports]
    assert done == sorted(done) and done[-1] == reports[-1][2]


def test_reading_a_big_table_does_not_hold_it_in_memory(tmp_path: Path) -> None:
    path = big_table(tmp_path / "big.csv")
    reader = survey_reader(path, "id", ["answer"])
    tracemalloc.start()
    try:
        count = sum(1 for _ in reader.documents())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == ROWS
    assert peak < path.stat().st_size / 4  # the whole text would be at least the file's size


def test_a_crash_late_in_a_batch_keeps_the_files_stored_before_it(
    tmp_project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    first = tmp_path / "a_first.txt"
    first.write_text("My PA helps me every morning.\n", encoding="utf-8")
    second = tmp_path / "b_second.csv"
    second.write_text("id,answer\nR1,Fine\nR2,Better\n", encoding="utf-8")
    late = tmp_path / "c_late.csv"
    late.write_text("id,answer\nR9,Never read\n", encoding="utf-8")
    stored_when_late_was_read: list[int] = []
    explode_on(monkeypatch, late.name, on_read=lambda: stored_when_late_was_read.append(stored(tmp_project)))

    with caplog.at_level(logging.DEBUG):
        report = ingest_paths(
            tmp_project, [tmp_path], ReadOptions(id_column="id", text_columns=["answer"]), user="t"
        )

    assert stored_when_late_was_read == [3]  # the first two files were in before the late one was read
    assert [(Path(f.path).name, f.status) for f in report.files] == [
        ("a_first.txt", "ingested"),
        ("b_second.csv", "ingested"),
        ("c_late.csv", "failed"),
    ]
    reason = report.files[2].reasons[0]
    assert str(late) in reason and "RuntimeError" in reason and "the parser fell over" in reason
    assert "Fix:" in reason and "\n" not in reason
    assert stored(tmp_project) == 3
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert tracebacks and all(r.levelno == logging.DEBUG for r in tracebacks)


def test_a_crash_in_a_reader_is_our_error_for_one_file_and_a_failure_in_a_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = tmp_path / "good.csv"
    good.write_text("id,answer\nR1,Fine\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,answer\nR2,Lost\n", encoding="utf-8")
    explode_on(monkeypatch, bad.name)
    options = ReadOptions(id_column="id", text_columns=["answer"])
    with pytest.raises(IngestError, match="RuntimeError"):
        read_file(bad, options=options)
    batch = read_files([bad, good], options)
    assert [d.text for d in batch.documents] == ["Fine"]
    assert batch.files_read == [str(good)]
    assert [(Path(f.path).name, f.row) for f in batch.failures] == [("bad.csv", None)]


def test_a_whole_file_failure_after_some_answers_stores_none_of_them(tmp_project, tmp_path: Path) -> None:
    rows = "".join(f"R{n},Answer {n}\n" for n in range(1, 3000))
    path = tmp_path / "s.csv"
    path.write_text(f'id,answer\n{rows}R3000,"never closed\n', encoding="utf-8")
    report = ingest_paths(tmp_project, [path], ReadOptions(id_column="id", text_columns=["answer"]), user="t")
    assert report.files[0].status == "failed" and report.files[0].added == 0
    assert "row 3001" in report.files[0].reasons[0]
    assert stored(tmp_project) == 0
