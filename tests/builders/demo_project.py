"""A small populated project for the explorer's tests and the library tests that use it.

``build_demo_project(path)`` makes a project with four documents (two survey answers in two waves,
a blog post, an interview transcript with speaker turns), sentence segments, a codebook of five
codes, one coding run with ensemble and phrase suggestions, and a discovery run with two candidates.
The figures are small enough to check by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from narratives.ingest.transcript import find_turns
from narratives.schema import (
    Attribute,
    Code,
    Codebook,
    Document,
    Segment,
    SegmentUnit,
    SourceKind,
    Turn,
)
from narratives.store.discovery import Candidate
from narratives.store.project import Project, init_project
from tests.builders.project import Cell, ProjectBuilder

CODEBOOK = "care"
USER = "setup"

TRANSCRIPT = (
    "Interviewer: How was the support?\n"
    "P01: The social worker listened to me. But the carers change every week.\n"
    "Interviewer: Thank you."
)

DOCUMENTS = [
    Document(
        kind=SourceKind.survey,
        title="Survey answer R01",
        text="The carers are always rushed. I never know who is coming.",
        participant="R01",
        wave=1,
        question="q1",
        path="survey.csv#1",
        attributes=[Attribute.of("council", "North")],
        participant_attributes=[Attribute.of("age_band", "65+")],
    ),
    Document(
        kind=SourceKind.survey,
        title="Survey answer R02",
        text="My personal budget gives me choice. The paperwork is exhausting.",
        participant="R02",
        wave=2,
        question="q1",
        path="survey.csv#2",
        participant_attributes=[Attribute.of("age_band", "18-64")],
    ),
    Document(
        kind=SourceKind.blog,
        title="Waiting for an assessment",
        text="Getting an assessment took eight months. Nobody returned my calls. When help came it was good.",
        author="A blogger",
        path="blog.md",
    ),
    Document(
        kind=SourceKind.interview,
        title="Interview P01",
        text=TRANSCRIPT,
        participant="P01",
        wave=1,
        path="p01.txt",
        turns=find_turns(TRANSCRIPT),  # as the transcript reader finds them: labels left out
        participant_attributes=[Attribute.of("carer", True)],
    ),
]

CODES = [
    Code(
        id="continuity",
        name="Continuity of care",
        plain_name="Seeing the same people",
        definition="Whether the same care workers come, and people know who is coming.",
        examples=["A different carer every day."],
        phrases=["never know who", "change every week"],
        colour="#1f77b4",
    ),
    Code(id="access", name="Access to support", definition="Getting support at all.", colour="#ff7f0e"),
    Code(
        id="waiting",
        name="Waiting for help",
        plain_name="Waiting too long",
        parent="access",
        definition="Long waits for assessments, calls or services.",
        phrases=["eight months"],
        colour="#2ca02c",
    ),
    Code(
        id="paperwork",
        name="Paperwork",
        parent="access",
        definition="Forms, bureaucracy and administration.",
        colour="#d62728",
    ),
    Code(
        id="choice",
        name="Choice and control",
        definition="Having a say over one's support.",
        colour="#9467bd",
    ),
    Code(id="listening", name="Being listened to", definition="Professionals who listen.", colour="#8c564b"),
]

# (sentence text, code id, ensemble score)
ENSEMBLE = [
    ("The carers are always rushed.", "continuity", 0.55),
    ("I never know who is coming.", "continuity", 0.9),
    ("My personal budget gives me choice.", "choice", 0.8),
    ("The paperwork is exhausting.", "paperwork", 0.7),
    ("Getting an assessment took eight months.", "waiting", 0.85),
    ("Nobody returned my calls.", "waiting", 0.4),
    ("The social worker listened to me.", "listening", 0.75),
    ("But the carers change every week.", "continuity", 0.95),
]


@dataclass
class DemoProject:
    project: Project
    segment_ids: dict[str, int]  # sentence text -> segment id
    document_ids: dict[str, int]  # title -> document id
    suggestion_ids: dict[tuple[str, str], int]  # (sentence, code) -> ensemble suggestion id
    candidate_ids: list[int]


def sentence_segments(document_id: int, document: Document) -> list[Segment]:
    """Sentences with exact offsets; in a transcript, turn labels are left out and speakers kept."""
    found = []
    for turn in document.turns or [Turn(speaker="", start=0, end=len(document.text))]:
        body_start = turn.start
        label = re.match(r"[^:\n]{1,40}:\s*", document.text[turn.start : turn.end])
        if document.turns and label:
            body_start += label.end()
        for match in re.finditer(r"[^.?!]+[.?!]", document.text[body_start : turn.end]):
            text = match.group().strip()
            start = body_start + match.start() + (len(match.group()) - len(match.group().lstrip()))
            found.append(
                Segment(
                    document_id=document_id,
                    unit=SegmentUnit.sentence,
                    index=len(found),
                    start=start,
                    end=start + len(text),
                    text=text,
                    speaker=turn.speaker or None,
                )
            )
    return found


def build_demo_project(
    path: Path, *, with_coding: bool = True, with_discovery: bool = True, db_url: str | None = None
) -> DemoProject:
    project = init_project(path, db_url=db_url)
    with project.begin() as connection:
        build = ProjectBuilder(connection, codebook=CODEBOOK, user=USER)
        document_ids = build.add_documents(DOCUMENTS, split=sentence_segments)
        segment_ids = build.segment_ids()
        build.store_codebook(Codebook(name=CODEBOOK, version="1", codes=CODES))
        suggestion_ids = _coding(build, segment_ids) if with_coding else {}
        candidate_ids = _discovery(build, segment_ids) if with_discovery else []
    return DemoProject(project, segment_ids, document_ids, suggestion_ids, candidate_ids)


def _coding(build: ProjectBuilder, segment_ids: dict[str, int]) -> dict[tuple[str, str], int]:
    """One run: the ensemble's score of each ``ENSEMBLE`` sentence, and the phrase coder's where a
    phrase of the code is in it; returns (sentence, code) -> the ensemble suggestion's id."""
    cells, keys = [], []
    for text, code_id, score in ENSEMBLE:
        phrase = next((p for c in CODES if c.id == code_id for p in c.phrases if p in text), None)
        for coder, value in [("ensemble", score)] + ([("phrase", 1.0)] if phrase else []):
            cells.append(
                Cell(
                    segment_ids[text],
                    code_id,
                    value,
                    coder=coder,
                    evidence=phrase or "closest example: A different carer every day.",
                    evidence_start=text.index(phrase) if phrase else None,
                    evidence_end=text.index(phrase) + len(phrase) if phrase else None,
                )
            )
            keys.append((text, code_id, coder))
    run = build.coding_run(cells)
    return {
        (text, code_id): suggestion_id
        for (text, code_id, coder), suggestion_id in zip(keys, run.suggestion_ids, strict=True)
        if coder == "ensemble"
    }


def _discovery(build: ProjectBuilder, segment_ids: dict[str, int]) -> list[int]:
    found = [
        ("Rushed carers", ["rushed", "carers"], ["The carers are always rushed."], {"kind": {"survey": 1}}),
        ("Unanswered calls", ["calls", "returned"], ["Nobody returned my calls."], {"kind": {"blog": 1}}),
    ]
    candidates = [
        Candidate(
            id=None,
            topic=topic,
            label=label,
            keywords=keywords,
            quotes=[{"segment_id": segment_ids[q], "text": q} for q in quotes],
            segment_ids=[segment_ids[q] for q in quotes],
            size=len(quotes),
            sizes=sizes,
            overlap=[{"code_id": "continuity", "name": "Continuity of care", "share": 1.0}]
            if topic == 0
            else [],
        )
        for topic, (label, keywords, quotes, sizes) in enumerate(found)
    ]
    return build.candidates(candidates, config={"min_topic_size": 2})
