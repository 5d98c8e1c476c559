"""Which codes a segment carries now, on a small study checked by hand.

``build_study(path)`` is shared by the analysis and interop tests: three interviewees over two waves,
two survey respondents and a blog post, a codebook of five codes, one coding run and a few reviews.
What each segment carries (see the table in ``CODED``) can be checked by reading this file.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from narratives.analysis.coded import coded_segments, document_table, machine_coder, run_thresholds
from narratives.review import record_review
from narratives.schema import (
    Attribute,
    Code,
    Codebook,
    Decision,
    Document,
    Review,
    Segment,
    SegmentUnit,
    SourceKind,
    utcnow,
)
from narratives.store.codebooks import store_codebook
from narratives.store.documents import save_document
from narratives.store.project import Project, init_project
from narratives.store.segments import save_segments
from narratives.store.tables import coding_runs, segments, suggestions

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
        document_ids = {}
        for document in DOCUMENTS:
            saved = save_document(connection, document)
            document_ids[document.title] = saved.document_id
            save_segments(connection, sentences(saved.document_id, document.text), pipeline="test")
        segment_ids = {text: int(i) for i, text in connection.execute(select(segments.c.id, segments.c.text))}
        store_codebook(connection, Codebook(name=CODEBOOK, version="1", codes=CODES), USER)
        study = Study(project, segment_ids, document_ids, {})
        study.suggestion_ids = _coding(connection, study)
        _reviews(connection, study)
    return study


def _run(connection, thresholds: dict[str, float]) -> int:  # type: ignore[no-untyped-def]
    now = utcnow()
    return int(
        connection.execute(
            insert(coding_runs).values(
                codebook=CODEBOOK,
                codebook_version="1",
                unit="sentence",
                model="fake",
                config={"settings": {"threshold": 0.5, "thresholds": {}}},
                config_hash="x",
                codes=[c.id for c in CODES],
                stats={"thresholds": thresholds},
                user=USER,
                started=now,
                finished=now,
            )
        ).inserted_primary_key[0]
    )


def _suggest(
    connection,
    run_id: int,
    segment_id: int,
    code_id: str,
    score: float,
    coder: str = "ensemble",
    current: bool = True,
) -> int:  # type: ignore[no-untyped-def]
    result = connection.execute(
        insert(suggestions).values(
            run_id=run_id,
            segment_id=segment_id,
            codebook=CODEBOOK,
            code_id=code_id,
            coder=coder,
            coder_version="1",
            score=score,
            model="fake",
            codebook_version="1",
            config_hash="x",
            current=current,
            created=utcnow(),
        )
    )
    return int(result.inserted_primary_key[0])


def _coding(connection, study: Study) -> dict[tuple[str, str], int]:  # type: ignore[no-untyped-def]
    run_id = _run(connection, {"waiting": 0.7})
    ids = {}
    for start, code_id, score in ENSEMBLE:
        ids[(start, code_id)] = _suggest(connection, run_id, study.segment(start), code_id, score)
    # ignored: another coder, and a suggestion a later run replaced
    _suggest(connection, run_id, study.segment("I never know which"), "continuity", 1.0, coder="phrase")
    _suggest(connection, run_id, study.segment("My budget gives me"), "choice", 0.99, current=False)
    return ids


def _reviews(connection, study: Study) -> None:  # type: ignore[no-untyped-def]
    def review(sentence: str, code_id: str, decision: Decision, **extra) -> None:  # type: ignore[no-untyped-def]
        suggestion = study.suggestion_ids.get((sentence, code_id))
        record_review(
            connection,
            Review(
                segment_id=study.segment(sentence),
                code_id=code_id,
                decision=decision,
                user=REVIEWER,
                codebook=CODEBOOK,
                suggestion_id=suggestion,
                **extra,
            ),
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


@pytest.fixture
def study(tmp_path: Path):  # type: ignore[no-untyped-def]
    built = build_study(tmp_path / "study")
    yield built
    built.project.close()


def _pairs(study: Study, frame) -> dict[tuple[str, str], str]:  # type: ignore[no-untyped-def]
    text_of = {i: text for text, i in study.segment_ids.items()}
    found = {}
    for row in frame.itertuples():
        start = (
            next(s for s, _ in CODED if text_of[row.segment_id].startswith(s))
            if any(text_of[row.segment_id].startswith(s) for s, _ in CODED)
            else text_of[row.segment_id]
        )
        found[(start, row.code_id)] = row.source
    return found


def test_reviews_override_machine_and_thresholds_come_from_the_run(study: Study) -> None:
    with study.project.connect() as connection:
        coded = coded_segments(connection, CODEBOOK)
    assert _pairs(study, coded) == CODED
    assert list(coded.columns[:5]) == ["segment_id", "document_id", "code_id", "source", "score"]


def test_reviewed_rows_keep_the_machine_score_and_the_reviewer(study: Study) -> None:
    with study.project.connect() as connection:
        coded = coded_segments(connection, CODEBOOK)
    accepted = coded[coded["segment_id"] == study.segment("I waited eight months")].iloc[0]
    assert accepted["score"] == pytest.approx(0.65)
    assert accepted["reviewer"] == REVIEWER
    hand = coded[coded["code_id"] == "paperwork"].iloc[0]
    assert math.isnan(hand["score"])
    assert DOCUMENTS[6].text[hand["start"] : hand["end"]] == "explains the paperwork"


def test_reviewed_only_leaves_machine_suggestions_out(study: Study) -> None:
    with study.project.connect() as connection:
        coded = coded_segments(connection, CODEBOOK, include_machine=False)
    assert sorted(coded["code_id"]) == ["paperwork", "waiting"]
    assert set(coded["source"]) == {"reviewed"}


@pytest.mark.parametrize(("threshold", "machine_rows"), [(0.0, 12), (0.5, 10), (0.8, 7), (0.96, 0)])
def test_a_given_threshold_replaces_the_runs(study: Study, threshold: float, machine_rows: int) -> None:
    with study.project.connect() as connection:
        coded = coded_segments(connection, CODEBOOK, threshold=threshold)
    assert (coded["source"] == "machine").sum() == machine_rows


def test_run_thresholds_and_coder(study: Study) -> None:
    with study.project.connect() as connection:
        runs = run_thresholds(connection, CODEBOOK)
        assert [(r.default, r.of("waiting"), r.of("choice")) for r in runs.values()] == [(0.5, 0.7, 0.5)]
        assert machine_coder(connection, CODEBOOK) == "ensemble"
        assert machine_coder(connection, "unknown") is None
        assert coded_segments(connection, "unknown").empty


def test_retired_codes_are_left_out_unless_asked(study: Study) -> None:
    with study.project.begin() as connection:
        store_codebook(connection, Codebook(name=CODEBOOK, version="2", codes=CODES[:4]), USER)
        assert "paperwork" not in set(coded_segments(connection, CODEBOOK)["code_id"])
        assert "paperwork" in set(coded_segments(connection, CODEBOOK, include_retired=True)["code_id"])


def test_document_table_merges_participant_and_document_attributes(study: Study) -> None:
    with study.project.connect() as connection:
        docs = document_table(connection).set_index("title")
        surveys = document_table(connection, kinds=["survey"])
    assert docs.loc["Survey answer R1", "council"] == "South"  # the document's own attribute
    assert docs.loc["Interview P3 wave 1", "council"] == "South"  # the participant's
    assert docs.loc["Interview P1 wave 2", "need_group"] == "learning_disability"
    assert docs.loc["Waiting lists", "person"] == f"document {study.document_ids['Waiting lists']}"
    assert len(surveys) == 2


def test_coded_segments_is_fast_on_100000_suggestions(tmp_path: Path) -> None:
    project = init_project(tmp_path / "big")
    with project.begin() as connection:
        store_codebook(connection, Codebook(name=CODEBOOK, version="1", codes=CODES), USER)
        document_id = save_document(
            connection, Document(kind=SourceKind.blog, title="t", text="x" * 20_000, path="t")
        ).document_id
        save_segments(
            connection,
            [
                Segment(
                    document_id=document_id, unit=SegmentUnit.sentence, index=i, start=i, end=i + 1, text="x"
                )
                for i in range(20_000)
            ],
            pipeline="test",
        )
        run_id = _run(connection, {"waiting": 0.7})
        first = connection.execute(select(segments.c.id).order_by(segments.c.id)).scalar()
        now = utcnow()
        rows = [
            {
                "run_id": run_id,
                "segment_id": first + i % 20_000,
                "codebook": CODEBOOK,
                "code_id": CODES[i // 20_000].id,
                "coder": "ensemble",
                "coder_version": "1",
                "score": (i % 100) / 100,
                "model": "fake",
                "codebook_version": "1",
                "config_hash": "x",
                "current": True,
                "created": now,
            }
            for i in range(100_000)
        ]
        connection.execute(insert(suggestions), rows)
    began = time.perf_counter()
    with project.connect() as connection:
        coded = coded_segments(connection, CODEBOOK)
    elapsed = time.perf_counter() - began
    project.close()
    assert len(coded) == 4 * 10_000 + 6_000  # scores 0.5..0.99, and 0.7..0.99 for "waiting"
    assert elapsed < 5.0
