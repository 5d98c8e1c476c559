"""A small study checked by hand, shared by the analysis and interop tests.

``build_study(path)``: three interviewees over two waves, two survey respondents and a blog post, a
codebook of five codes, one coding run and a few reviews. What each segment carries (see the table
in ``CODED``) can be checked by reading this file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from narratives.schema import (
    Attribute,
    Code,
    Codebook,
    Decision,
    Document,
    Segment,
    SegmentUnit,
    SourceKind,
)
from narratives.store.project import Project, init_project
from tests.builders.project import Cell, ProjectBuilder, WrittenRun

CODEBOOK = "study"
USER = "setup"
REVIEWER = "Aisha"


def _interview(participant: str, wave: int, text: str, need: str, council: str) -> Document:
    return Document(
        kind=SourceKind.interview,
        title=f"Interview {participant} wave {wave}",
        text=text,
        participant=participant,
        wave=wave,
        path=f"{participant.lower()}-w{wave}.txt",
        participant_attributes=[Attribute.of("need_group", need), Attribute.of("council", council)],
    )


def _survey(participant: str, text: str, need: str, council: str) -> Document:
    return Document(
        kind=SourceKind.survey,
        title=f"Survey answer {participant}",
        text=text,
        participant=participant,
        wave=1,
        question="q1",
        path=f"survey.csv#{participant}",
        attributes=[Attribute.of("council", council)],
        participant_attributes=[Attribute.of("need_group", need)],
    )


DOCUMENTS = [
    _interview(
        "P1",
        1,
        "The carers change every week and nobody tells me who is coming. "
        "I waited eight months for my assessment to happen at all.",
        "learning_disability",
        "North",
    ),
    _interview(
        "P1",
        2,
        "Now I know my carer Zoë and she comes every single morning. "
        "My personal budget lets me choose what I do each day.",
        "learning_disability",
        "North",
    ),
    _interview(
        "P2",
        1,
        "I never know which carer will arrive at my door today. "
        "The café trip is the only choice I really get now.",
        "physical",
        "North",
    ),
    _interview(
        "P2",
        2,
        "The carers still change all the time without any warning to me. "
        "Getting the ramp fitted took a whole year of waiting 🙂.",
        "physical",
        "North",
    ),
    _interview(
        "P3",
        1,
        "I waited ages for anyone to return my many phone calls. "
        "My budget gives me real choice over the support I get.",
        "physical",
        "South",
    ),
    _survey(
        "R1", "Different carers arrive every day and it is very unsettling for me.", "mental_health", "South"
    ),
    _survey(
        "R2",
        "Forms forms forms. Nobody ever explains the paperwork to us properly at all.",
        "learning_disability",
        "North",
    ),
    Document(
        kind=SourceKind.blog,
        title="Waiting lists",
        text="Waiting lists for assessments are far too long in our county now. "
        "People deserve choice and control over their own lives.",
        author="A blogger",
        path="blog.md",
    ),
]

CODES = [
    Code(id="continuity", name="Continuity of care", definition="The same carers come.", colour="#1f77b4"),
    Code(id="access", name="Access to support", definition="Getting support at all.", colour="#ff7f0e"),
    Code(id="waiting", name="Waiting for help", parent="access", definition="Long waits.", colour="#2ca02c"),
    Code(id="choice", name="Choice and control", definition="Having a say.", colour="#9467bd"),
    Code(id="paperwork", name="Paperwork", parent="access", definition="Forms & <admin>."),
]

# (sentence start, code, ensemble score); the run's thresholds: 0.5, and 0.7 for "waiting"
ENSEMBLE = [
    ("The carers change every week", "continuity", 0.9),
    ("I waited eight months", "waiting", 0.65),  # below 0.7, accepted by the reviewer
    ("Now I know my carer", "continuity", 0.6),
    ("My personal budget lets", "choice", 0.8),
    ("My personal budget lets", "waiting", 0.3),
    ("I never know which carer", "continuity", 0.95),
    ("The café trip", "choice", 0.55),  # rejected by the reviewer
    ("The carers still change", "continuity", 0.85),
    ("Getting the ramp fitted", "waiting", 0.75),
    ("I waited ages", "waiting", 0.9),
    ("My budget gives me", "choice", 0.4),
    ("Different carers arrive", "continuity", 0.7),
    ("Waiting lists for", "waiting", 0.8),
    ("People deserve choice", "choice", 0.9),
]

# What each code applies to now: sentence starts, and the source
CODED = {
    ("The carers change every week", "continuity"): "machine",
    ("I waited eight months", "waiting"): "reviewed",
    ("Now I know my carer", "continuity"): "machine",
    ("My personal budget lets", "choice"): "machine",
    ("I never know which carer", "continuity"): "machine",
    ("The carers still change", "continuity"): "machine",
    ("Getting the ramp fitted", "waiting"): "machine",
    ("I waited ages", "waiting"): "machine",
    ("Different carers arrive", "continuity"): "machine",
    ("Waiting lists for", "waiting"): "machine",
    ("People deserve choice", "choice"): "machine",
    ("Nobody ever explains", "paperwork"): "reviewed",
}


@dataclass
class Study:
    project: Project
    segment_ids: dict[str, int]  # sentence start (first words) -> segment id
    document_ids: dict[str, int]  # title -> document id
    suggestion_ids: dict[tuple[str, str], int]

    def segment(self, start: str) -> int:
        return next(i for text, i in self.segment_ids.items() if text.startswith(start))


def sentences(document_id: int, text: str) -> list[Segment]:
    found = []
    for match in re.finditer(r"[^.?!]+[.?!]", text):
        start = match.start() + len(match.group()) - len(match.group().lstrip())
        body = match.group().strip()
        found.append(
            Segment(
                document_id=document_id,
                unit=SegmentUnit.sentence,
                index=len(found),
                start=start,
                end=start + len(body),
                text=body,
            )
        )
    return found


def build_study(path: Path) -> Study:
    project = init_project(path)
    with project.begin() as connection:
        build = ProjectBuilder(connection, codebook=CODEBOOK, user=USER)
        document_ids = build.add_documents(DOCUMENTS, split=lambda i, document: sentences(i, document.text))
        build.store_codebook(Codebook(name=CODEBOOK, version="1", codes=CODES))
        study = Study(project, build.segment_ids(), document_ids, {})
        study.suggestion_ids = _coding(build, study)
        _reviews(build, study)
    return study


RUN_CONFIG = {"settings": {"threshold": 0.5, "thresholds": {}}}


def add_coding_run(
    build: ProjectBuilder, cells: list[Cell], thresholds: dict[str, float], *, with_ids: bool = True
) -> WrittenRun:
    """A run of the study's codebook: threshold 0.5, and the per-code ``thresholds`` it recorded."""
    return build.coding_run(cells, thresholds=thresholds, config=RUN_CONFIG, with_ids=with_ids)


def _coding(build: ProjectBuilder, study: Study) -> dict[tuple[str, str], int]:
    cells = [Cell(study.segment(start), code_id, score) for start, code_id, score in ENSEMBLE]
    # ignored: another coder, and a suggestion a later run replaced
    cells.append(Cell(study.segment("I never know which"), "continuity", 1.0, coder="phrase"))
    cells.append(Cell(study.segment("My budget gives me"), "choice", 0.99))
    run = add_coding_run(build, cells, {"waiting": 0.7})
    build.supersede(run.suggestion_ids[-1:])
    ensemble = run.suggestion_ids[: len(ENSEMBLE)]
    return {(start, code_id): i for (start, code_id, _), i in zip(ENSEMBLE, ensemble, strict=True)}


def _reviews(build: ProjectBuilder, study: Study) -> None:
    def review(sentence: str, code_id: str, decision: Decision, **extra: Any) -> None:
        suggestion = study.suggestion_ids.get((sentence, code_id))
        build.review(
            study.segment(sentence), code_id, decision, user=REVIEWER, suggestion_id=suggestion, **extra
        )

    review("I waited eight months", "waiting", Decision.reject)
    review("I waited eight months", "waiting", Decision.accept, memo="Eight months — “far too long”.")
    review("The café trip", "choice", Decision.reject)
    paperwork = DOCUMENTS[6].text.index("explains the paperwork")
    review(
        "Nobody ever explains",
        "paperwork",
        Decision.add,
        start=paperwork,
        end=paperwork + len("explains the paperwork"),
    )
