"""Big writes in few statements, with the same results as one row at a time.

Documents stored in chunks (save_documents) end up exactly as stored one by one (save_document): the
same rows, ids, versions, participants and attributes, in the same order; a big table goes in a few
statements per chunk, not several per row. A codebook's changes (apply_code_changes, store_codebook)
likewise: the same codes, change log and events as one change at a time, in a few statements."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from narratives.ingest.readers import ReadOptions
from narratives.ingest.to_project import ingest_paths
from narratives.schema import Attribute, Code, Codebook, Document, SourceKind
from narratives.store.codebooks import (
    CodeChange,
    apply_code_change,
    apply_code_changes,
    current_codes,
    store_codebook,
)
from narratives.store.documents import save_document, save_documents
from narratives.store.project import Project, init_project
from narratives.store.tables import attributes, codebook_events, codes, documents, events, participants


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


# ------------------------------------------------------------------------------ codebooks


def code(number: int, **changes: Any) -> Code:
    return Code(**{"id": f"c{number}", "name": f"Code {number}", "definition": f"Topic {number}.", **changes})


def code_rows(project: Project) -> dict[str, list[tuple[Any, ...]]]:
    skip = {"created", "updated"}
    with project.connect() as connection:
        rows = {
            table.name: [
                tuple(value for key, value in row._mapping.items() if key not in skip)
                for row in connection.execute(select(table).order_by(table.c.id))
            ]
            for table in (codes, codebook_events)
        }
        rows["events"] = [
            (e.kind, e.target, e.payload)
            for e in connection.execute(
                select(events).where(events.c.kind.like("code.%")).order_by(events.c.id)
            )
        ]
    return rows


def test_changes_applied_together_match_changes_applied_one_by_one(tmp_path: Path) -> None:
    together, one_by_one = init_project(tmp_path / "together"), init_project(tmp_path / "one")
    changes = [
        CodeChange("c1", "create", None, code(1)),
        CodeChange("c2", "create", None, code(2)),
        CodeChange("c1", "edit", code(1), code(1, definition="Changed in the same batch.")),  # then changed
        CodeChange("c0", "rename", code(0), code(0, name="Renamed"), {"reason": "clearer"}),  # stored before
        CodeChange("c3", "create", None, code(3, parent="c2")),
        CodeChange("c0", "retire", code(0, name="Renamed"), code(0, name="Renamed", retired=True)),
    ]
    try:
        for project in (together, one_by_one):
            with project.begin() as connection:
                apply_code_change(connection, "book", "c0", "create", None, code(0), "ana")
        with together.begin() as connection:
            apply_code_changes(connection, "book", changes, "ana")
        with one_by_one.begin() as connection:
            for c in changes:
                apply_code_change(connection, "book", c.code_id, c.action, c.before, c.after, "ana", c.extra)
        assert code_rows(together) == code_rows(one_by_one)
        with together.connect() as connection:
            now = {c.id: c for c in current_codes(connection, "book", include_retired=True)}
        assert list(now) == ["c0", "c1", "c2", "c3"]
        assert now["c1"].definition == "Changed in the same batch." and now["c0"].retired
    finally:
        together.close()
        one_by_one.close()


def test_a_large_codebook_is_stored_in_a_few_statements(backend_project: Project) -> None:
    first = Codebook(name="big", version="1", codes=[code(k) for k in range(600)])
    # the second file edits 200 codes and drops 100
    second = Codebook(
        name="big",
        version="2",
        codes=[code(k, definition="Edited.") if k < 200 else code(k) for k in range(500)],
    )
    statements: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(backend_project.engine, "before_cursor_execute", note)
    try:
        with backend_project.begin() as connection:
            created = store_codebook(connection, first, "ana")
        with backend_project.begin() as connection:
            changed = store_codebook(connection, second, "ana")
    finally:
        event.remove(backend_project.engine, "before_cursor_execute", note)
    assert len(created) == 600 and len(changed) == 300
    assert len(statements) < 40  # one by one it was four per code: over 3,600
    with backend_project.connect() as connection:
        now = current_codes(connection, "big", include_retired=True)
        log = connection.execute(select(codebook_events.c.action)).scalars().all()
    assert [c.id for c in now] == [f"c{k}" for k in range(600)]
    assert [c.definition for c in now[:200]] == ["Edited."] * 200
    assert [c.retired for c in now] == [False] * 500 + [True] * 100
    assert sorted(set(log)) == ["create", "edit", "retire"] and len(log) == 900
