"""Documents stored in chunks (save_documents) end up exactly as stored one by one (save_document):
the same rows, ids, versions, participants and attributes, in the same order; a big table goes in a
few statements per chunk, not several per row."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from narratives.ingest.readers import ReadOptions
from narratives.ingest.to_project import ingest_paths
from narratives.schema import Attribute, Document, SourceKind
from narratives.store.documents import save_document, save_documents
from narratives.store.project import Project, init_project
from narratives.store.tables import attributes, documents, participants


def answer(respondent: str, text: str, **extra: Any) -> Document:
    values: dict[str, Any] = {
        "kind": SourceKind.survey,
        "title": respondent,
        "text": text,
        "participant": respondent,
        "question": "q1",
        "path": f"survey.csv#{respondent}",
        "attributes": [Attribute.of("words", len(text.split()))],
        "participant_attributes": [Attribute.of("area", "north")],
    }
    values.update(extra)
    return Document(**values)


def mixed_stream() -> list[Document]:
    """Every case the one-by-one save distinguishes, several inside one chunk of three."""
    return [
        answer("R1", "Waited six months."),
        answer("R2", "Nothing to add."),
        answer("R1", "Waited six months."),  # same content again: unchanged
        answer("R3", "Carer came late – café shut."),
        answer("R3", "Carer came late, then left.", participant_attributes=[Attribute.of("area", "south")]),
        answer("R4", "Nothing to add."),  # same words, another respondent: a document of its own
        answer(
            "R3",
            "Third try.",
            participant_attributes=[Attribute.of("area", "east"), Attribute.of("area", "west")],
        ),
        Document(kind=SourceKind.blog, title="Post", text="A blog post.", path="blog.md"),
        Document(kind=SourceKind.blog, title="Post", text="A blog post, edited.", path="blog.md"),
        Document(
            kind=SourceKind.blog, title="Copy", text="A blog post.", path="copy.md"
        ),  # same post elsewhere
        answer("R5", "No question.", question=None, path="survey.csv#R5"),
        answer(
            "R5", "Another question.", question="q2", path="survey.csv#R5"
        ),  # not a version of the q1-less one
        Document(kind=SourceKind.blog, title="Pathless", text="No path here."),
    ]


def table_rows(project: Project) -> dict[str, list[tuple[Any, ...]]]:
    skip = {"ingested", "created"}
    with project.connect() as connection:
        return {
            table.name: [
                tuple(value for key, value in row._mapping.items() if key not in skip)
                for row in connection.execute(select(table).order_by(table.c.id))
            ]
            for table in (documents, participants, attributes)
        }


@pytest.mark.parametrize("chunk_size", [1, 3, 500])
def test_chunks_store_exactly_what_one_by_one_saving_does(tmp_path: Path, chunk_size: int) -> None:
    one_by_one, chunked = init_project(tmp_path / "one"), init_project(tmp_path / "chunked")
    try:
        for project in (one_by_one, chunked):  # something already stored, to version and to find
            with project.begin() as connection:
                save_document(connection, answer("R2", "An earlier answer.", participant_attributes=[]))
                save_document(connection, answer("R9", "Stored before.", path="old.csv#R9"))
        with one_by_one.begin() as connection:
            expected = [
                save_document(connection, d, batch=7)
                for d in [*mixed_stream(), answer("R9", "Stored before.")]
            ]
        with chunked.begin() as connection:
            stream = iter([*mixed_stream(), answer("R9", "Stored before.")])
            saved = list(save_documents(connection, stream, batch=7, chunk_size=chunk_size))
        assert saved == expected
        assert {s.outcome for s in saved} == {"added", "new_version", "unchanged"}
        assert table_rows(chunked) == table_rows(one_by_one)
    finally:
        one_by_one.close()
        chunked.close()


def test_versions_inside_one_chunk_chain_and_only_the_newest_is_current(backend_project: Project) -> None:
    stream = [answer("R1", f"Version {k}.") for k in range(4)]
    with backend_project.begin() as connection:
        saved = list(save_documents(connection, stream, chunk_size=10))
    assert [s.outcome for s in saved] == ["added", "new_version", "new_version", "new_version"]
    with backend_project.connect() as connection:
        rows = connection.execute(
            select(
                documents.c.id, documents.c.version, documents.c.previous_id, documents.c.current
            ).order_by(documents.c.id)
        ).all()
        areas = connection.execute(
            select(attributes.c.value).where(attributes.c.participant_id.is_not(None))
        ).all()
    ids = [r.id for r in rows]
    assert [r.version for r in rows] == [1, 2, 3, 4]
    assert [r.previous_id for r in rows] == [None, *ids[:3]]
    assert [r.current for r in rows] == [False, False, False, True]
    assert areas == [("north",)]  # set, not stacked: one area for the one participant


def write_survey(path: Path, rows: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "answer", "area"])
        writer.writerows([f"R{k:05d}", f"Answer number {k}.", "north"] for k in range(rows))
    return path


def test_a_big_table_goes_in_a_few_statements_per_chunk(backend_project: Project, tmp_path: Path) -> None:
    table = write_survey(tmp_path / "big.csv", 1200)
    statements: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement.split("(")[0].strip())

    event.listen(backend_project.engine, "before_cursor_execute", note)
    try:
        report = ingest_paths(
            backend_project, [table], ReadOptions(id_column="id", text_columns=["answer"]), user="t"
        )
    finally:
        event.remove(backend_project.engine, "before_cursor_execute", note)
    assert [(f.status, f.added) for f in report.files] == [("ingested", 1200)]
    document_inserts = [s for s in statements if s.startswith("INSERT INTO documents")]
    assert 1 <= len(document_inserts) <= 3  # 1,200 rows in chunks of 500, one statement each
    assert len(statements) < 60  # one by one it was over 6,000
    with backend_project.connect() as connection:
        assert len(connection.execute(select(documents.c.id)).all()) == 1200
        assert len(connection.execute(select(attributes.c.id)).all()) == 1200
