"""keyword_page: the count and the best rows of a keyword search, without fetching every match."""

from __future__ import annotations

from narratives.analysis.search_query import parse_query
from narratives.schema import Document, SourceKind
from narratives.store import Project
from narratives.store.search import Scope, keyword_matches, keyword_page
from tests.builders.project import ProjectBuilder
from tests.builders.study import sentences

TEXTS = {
    SourceKind.blog: [
        "Care came late. Care and more care, care all day. The care was kind.",
        "Nobody mentioned it here. Respite care helps.",
    ],
    SourceKind.interview: ["Care, care, care. The carers cared. Home care was late again.", "No match here."],
}


def add_texts(project: Project) -> None:
    with project.begin() as connection:
        build = ProjectBuilder(connection, codebook="c", user="setup")
        docs = [
            Document(kind=kind, title=f"{kind.value} {i}", text=text, path=f"{kind.value}-{i}.md")
            for kind, texts in TEXTS.items()
            for i, text in enumerate(texts)
        ]
        build.add_documents(docs, split=lambda i, document: sentences(i, document.text))


def test_the_page_is_the_head_of_every_match_and_the_count_is_all_of_them(tmp_project: Project) -> None:
    add_texts(tmp_project)
    query = parse_query("care OR late")
    with tmp_project.connect() as connection:
        for scope in (Scope("sentence"), Scope("sentence", kinds=("interview",))):
            every = keyword_matches(connection, query, scope)
            assert len(every) >= 3
            assert keyword_page(connection, query, scope, 3) == (len(every), every[:3])
            assert keyword_page(connection, query, scope, 0) == (len(every), [])
            assert keyword_page(connection, query, scope, 1000) == (len(every), every)


def test_among_keeps_only_the_segments_given(tmp_project: Project) -> None:
    add_texts(tmp_project)
    query, scope = parse_query("care"), Scope("sentence")
    with tmp_project.connect() as connection:
        every = keyword_matches(connection, query, scope)
        among = {m.segment_id for m in every[1::2]} | {10_000}  # every other match, and one unknown id
        kept = [m for m in every if m.segment_id in among]
        assert 0 < len(kept) < len(every)
        assert keyword_page(connection, query, scope, 2, among=among) == (len(kept), kept[:2])
        assert keyword_page(connection, query, scope, 2, among=set()) == (0, [])
