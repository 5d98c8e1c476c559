"""The full-text index of migration 0003, on SQLite (FTS5) and PostgreSQL (GIN on to_tsvector)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, text, update

from narratives.analysis.search_query import parse_query
from narratives.schema import Document, SourceKind
from narratives.store import Project, init_project, open_project
from narratives.store.search import Scope, highlighted_spans, keyword_matches, marks_to_spans
from narratives.store.tables import documents, segments
from tests.builders.project import ProjectBuilder
from tests.builders.study import sentences

TEXTS = [
    "Nobody listened until the crisis came.",
    "The social worker listens now, and the carers listen too.",
    "Respite breaks in Leeds keep families going.",
]


def add(project: Project, texts: list[str], kind: SourceKind = SourceKind.blog) -> dict[str, int]:
    with project.begin() as connection:
        build = ProjectBuilder(connection, codebook="c", user="setup")
        docs = [
            Document(kind=kind, title=f"doc {i}", text=t, path=f"{kind.value}-{i}.md")
            for i, t in enumerate(texts)
        ]
        build.add_documents(docs, split=lambda i, document: sentences(i, document.text))
        return build.segment_ids()


def found(project: Project, typed: str, **scope: object) -> list[int]:
    with project.connect() as connection:
        return [
            m.segment_id for m in keyword_matches(connection, parse_query(typed), Scope("sentence", **scope))
        ]  # type: ignore[arg-type]


def test_stemmed_matches_best_first_and_highlights_as_offsets(backend_project: Project) -> None:
    ids = add(backend_project, TEXTS)
    matched = found(backend_project, "listening")
    assert set(matched) == {ids[TEXTS[0]], ids[TEXTS[1]]}
    assert matched[0] == ids[TEXTS[1]]  # two forms of the word rank above one
    with backend_project.connect() as connection:
        spans = highlighted_spans(connection, parse_query("listening"), matched)
    assert [TEXTS[1][s:e] for s, e in spans[ids[TEXTS[1]]]] == ["listens", "listen"]
    assert [TEXTS[0][s:e] for s, e in spans[ids[TEXTS[0]]]] == ["listened"]


def test_the_index_follows_inserts_updates_and_deletes(backend_project: Project) -> None:
    ids = add(backend_project, TEXTS)
    assert found(backend_project, "respite") == [ids[TEXTS[2]]]
    with backend_project.begin() as connection:
        connection.execute(
            update(segments).where(segments.c.id == ids[TEXTS[2]]).values(text="Short breaks help.")
        )
    assert found(backend_project, "respite") == [] and found(backend_project, "short breaks") == [
        ids[TEXTS[2]]
    ]
    with backend_project.begin() as connection:
        connection.execute(delete(segments).where(segments.c.id == ids[TEXTS[0]]))
    assert found(backend_project, "crisis") == []


def test_only_current_documents_of_the_scope_are_searched(backend_project: Project) -> None:
    blog = add(backend_project, TEXTS[:1])
    survey = add(backend_project, ["The crisis team came at night."], SourceKind.survey)
    assert set(found(backend_project, "crisis")) == set(blog.values()) | set(survey.values())
    assert set(found(backend_project, "crisis", kinds=("survey",))) == {
        survey["The crisis team came at night."]
    }
    with backend_project.begin() as connection:
        connection.execute(update(documents).where(documents.c.kind == "blog").values(current=False))
    assert found(backend_project, "crisis") == [survey["The crisis team came at night."]]
    assert found(backend_project, "crisis", waves=(3,)) == []


def test_an_older_project_gets_its_existing_segments_indexed_on_upgrade(tmp_path: Path) -> None:
    project = init_project(tmp_path / "old")
    ids = add(project, TEXTS)
    with project.begin() as connection:  # as a project made before migration 0003 was
        for name in ("segments_fts_insert", "segments_fts_delete", "segments_fts_update"):
            connection.execute(text(f"DROP TRIGGER {name}"))
        connection.execute(text("DROP TABLE segments_fts"))
        connection.execute(text("DROP TABLE sentiment_reviews"))  # and without what 0004 and 0005 add
        connection.execute(text("DROP TABLE segment_sentiments"))
        connection.execute(text("DROP TABLE llm_answers"))
        connection.execute(text("ALTER TABLE suggestions DROP COLUMN reason"))
        connection.execute(text("UPDATE alembic_version SET version_num = '0002'"))
    project.close()
    reopened = open_project(tmp_path / "old")
    try:
        assert found(reopened, "respite") == [ids[TEXTS[2]]]
        new = add(reopened, ["Respite at home would help."])
        assert set(found(reopened, "respite")) == {ids[TEXTS[2]], *new.values()} - {
            ids[TEXTS[0]],
            ids[TEXTS[1]],
        }
    finally:
        reopened.close()


@pytest.mark.parametrize(
    ("marked", "expected"),
    [
        ("a \x02b\x03 c", ("a b c", [(2, 3)])),
        ("\x02ab\x03\x02c\x03", ("abc", [(0, 2), (2, 3)])),
        ("plain", ("plain", [])),
        ("a \x02b", None),
        ("a b\x03", None),
        ("\x02a\x02b\x03\x03", None),
    ],
)
def test_marked_text_becomes_offsets_or_nothing_when_malformed(marked: str, expected: object) -> None:
    assert marks_to_spans(marked) == expected
