"""Long stories for the passage coder: each hides one theme sentence of :data:`THEMES` among
everyday sentences that carry no code, the way a code lives in a few sentences of an interview turn.

``stories(n, seed)`` gives ``n`` stories with their theme and the offsets of the sentence that
carries it, so a test can check the evidence is exactly that sentence. ``add_stories`` stores them
in a project (each story one response segment, each of its sentences a sentence segment) and
``review_whole`` reviews stories whole, as a reviewer coding stories would; ``coded_stories`` does
all three and codes the stories (by response) before and after the reviews.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from narratives.coding.config import CodingRunResult
from narratives.coding.passages import passage_spans
from narratives.engines import LOCAL, EngineOptions, code_with
from narratives.schema import Decision, Document, Segment, SegmentUnit, SourceKind
from narratives.store.project import Project
from tests.builders.project import ProjectBuilder
from tests.builders.themes import THEMES, FakeEmbedder, make_codebook

FILLER = [
    "The weather was grey that whole week.",
    "Our street has a bakery on the corner.",
    "My brother came round on Sunday afternoon.",
    "The television was on in the other room.",
    "We talked about the football results.",
    "There was a new bus timetable in town.",
    "The garden needs some attention this spring.",
    "I made soup with the last of the vegetables.",
    "The neighbours have painted their front door.",
    "We walked the dog along the canal path.",
]

# every sentence a story is made of: a marked passage is one of these, whole
SENTENCES = {sentence for group in THEMES.values() for sentence in group} | set(FILLER)


@dataclass(frozen=True)
class Story:
    text: str
    theme: str
    start: int  # offsets of the theme sentence in the text
    end: int


def stories(n: int, seed: int = 0, fillers: int = 4) -> list[Story]:
    """``n`` stories, themes in turn, each ``fillers`` everyday sentences with the theme's sentence
    at a random place among them."""
    rng = random.Random(seed)
    themes = list(THEMES)
    made = []
    for k in range(n):
        theme = themes[k % len(themes)]
        sentence = rng.choice(THEMES[theme])
        pieces = rng.sample(FILLER, fillers)
        at = rng.randint(0, fillers)
        pieces.insert(at, sentence)
        text = " ".join(pieces)
        start = text.index(sentence)
        made.append(Story(text, theme, start, start + len(sentence)))
    return made


def story_splitter(document_id: int, document: Document) -> list[Segment]:
    """A story as one response segment, and each of its sentences as a sentence segment."""
    whole = Segment(
        document_id=document_id,
        unit=SegmentUnit.response,
        index=0,
        start=0,
        end=len(document.text),
        text=document.text,
    )
    sentences = [
        Segment(
            document_id=document_id,
            unit=SegmentUnit.sentence,
            index=k,
            start=a,
            end=b,
            text=document.text[a:b],
        )
        for k, (a, b) in enumerate(passage_spans(document.text))
    ]
    return [whole, *sentences]


def add_stories(project: Project, told: list[Story]) -> dict[str, int]:
    """Store the stories as survey answers; returns segment text -> segment id."""
    with project.begin() as connection:
        build = ProjectBuilder(connection, codebook="test-book")
        documents = [
            Document(kind=SourceKind.survey, title=f"story {k}", text=s.text, path=f"s/{k}.txt")
            for k, s in enumerate(told)
        ]
        build.add_documents(documents, split=story_splitter)
        return build.segment_ids()


def review_whole(project: Project, told: list[Story], ids: dict[str, int]) -> None:
    """Each story reviewed whole: its theme accepted, every other code of the themes rejected."""
    with project.begin() as connection:
        build = ProjectBuilder(connection, codebook="test-book")
        for story in told:
            for code in THEMES:
                decision = Decision.accept if code == story.theme else Decision.reject
                build.review(ids[story.text], code, decision, user="ana")


def coded_stories(
    project: Project, n: int, seed: int, reviewed: int = 24, engine: EngineOptions = LOCAL
) -> CodingRunResult:
    """``n`` stories stored, coded by response, the first ``reviewed`` of them reviewed whole, and
    coded again (now with the passage coder, stacked on the reviews); returns the second run."""
    told = stories(n, seed)
    ids = add_stories(project, told)
    book, unit = make_codebook(), SegmentUnit.response
    code_with(engine, project, book, embedder=FakeEmbedder(), user="setup", unit=unit)
    review_whole(project, told[:reviewed], ids)
    return code_with(engine, project, book, embedder=FakeEmbedder(), user="setup", unit=unit)
