"""A codebook of thousands of codes codes every segment, with the right suggestions and progress."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from narratives.coding.config import CodingConfig
from narratives.coding.runner import code_project
from narratives.schema import Code, Codebook
from narratives.store.codebooks import current_codebook
from narratives.store.project import Project, init_project
from narratives.store.tables import segments, suggestions
from tests.builders.themes import FakeEmbedder, add_documents

CODES = 2000
DOCUMENTS, SENTENCES = 10, 5
FILLER = [
    "the",
    "carer",
    "came",
    "late",
    "again",
    "and",
    "we",
    "waited",
    "for",
    "the",
    "council",
    "to",
    "call",
    "back",
]


def large_codebook() -> Codebook:
    return Codebook(
        name="large",
        version="1",
        codes=[
            Code(
                id=f"c{k}",
                name=f"Code {k}",
                definition=f"Topic number {k}.",
                phrases=[f"zork{k}", f"blip{k} flap"],
                patterns=[rf"\bref-{k}\b", rf"£{k}\.\d\d"],
            )
            for k in range(CODES)
        ],
    )


def planted_sentences(rng: random.Random) -> tuple[list[list[str]], list[set[str]]]:
    """Documents of sentences, each naming one code by phrase and another by pattern; and the codes
    each sentence names, in order."""
    docs, named = [], []
    for _ in range(DOCUMENTS):
        sentences = []
        for _ in range(SENTENCES):
            by_phrase, by_pattern = rng.sample(range(CODES), 2)
            words = [*rng.sample(FILLER, 6), f"zork{by_phrase}", f"ref-{by_pattern}", "ref-12x"]
            sentences.append(" ".join(words).capitalize() + ".")
            named.append({f"c{by_phrase}", f"c{by_pattern}"})
        docs.append(sentences)
    return docs, named


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    made = init_project(tmp_path / "project")
    yield made
    made.close()


def test_thousands_of_codes_code_every_segment_with_progress(project: Project) -> None:
    docs, named = planted_sentences(random.Random(0))
    add_documents(project, docs)
    reports: list[tuple[str, int, int]] = []
    result = code_project(
        project,
        large_codebook(),
        embedder=FakeEmbedder(),
        user="ana",
        config=CodingConfig(coders=["phrase"], top_k=0),
        progress=lambda stage, done, total: reports.append((stage, done, total)),
    )
    assert result.segments_coded == DOCUMENTS * SENTENCES and result.warnings == []
    with project.connect() as connection:
        rows = connection.execute(
            select(segments.c.text, suggestions.c.code_id, suggestions.c.evidence, suggestions.c.model)
            .join(segments, segments.c.id == suggestions.c.segment_id)
            .order_by(segments.c.id)
        ).all()
    by_text: dict[str, set[str]] = {}
    for text, code_id, evidence, model in rows:
        by_text.setdefault(text, set()).add(code_id)
        assert evidence is not None and evidence.lower() in text.lower() and model == "fake-bag-of-stems"
    texts = [sentence for doc in docs for sentence in doc]
    assert [by_text.get(text, set()) for text in texts] == named  # "ref-12x" names no code
    coding = [(done, total) for stage, done, total in reports if stage == "coding"]
    assert len(coding) > 2 and coding[-1] == (len(texts), len(texts))
    assert [done for done, _ in coding] == sorted(done for done, _ in coding)


def test_a_pattern_that_runs_out_of_time_is_a_warning_of_the_run(project: Project) -> None:
    add_documents(project, [["a" * 40 + "b and zork1.", "Nothing here."]])
    book = large_codebook().model_copy(update={"codes": large_codebook().codes[:20]})
    book.codes[0] = book.codes[0].model_copy(update={"patterns": [r"(?=a)(a|aa)+$"]})
    result = code_project(
        project, book, embedder=FakeEmbedder(), user="ana", config=CodingConfig(coders=["phrase"])
    )
    [warning] = result.warnings
    assert "c0" in warning and "(a|aa)+" in warning and "simplify" in warning
    assert result.suggestions_written >= 1  # zork1 still found


def test_a_new_codebook_is_coded_as_the_project_then_holds_it(project: Project) -> None:
    add_documents(project, [["We waited for zork1 and ref-2.", "Nothing here."]])
    codes = large_codebook().codes[:4]
    codes[3] = codes[3].model_copy(update={"retired": True, "parent": "c0", "colour": "#123456"})
    book = Codebook(name="fresh", version="2.1", title="Fresh", codes=codes)
    result = code_project(
        project, book, embedder=FakeEmbedder(), user="ana", config=CodingConfig(coders=["phrase"])
    )
    with project.connect() as connection:
        held = current_codebook(connection, "fresh")
    assert held == Codebook.model_validate(book.model_dump(mode="json"))
    assert result.codebook_version == "2.1" and result.codes_recoded == ["c0", "c1", "c2"]  # c3 is retired
