"""Balanced exemplar quotes on the hand-checked study of :mod:`tests.builders.study`."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from narratives.analysis.quotes import _words, exemplar_quotes, is_near_duplicate
from narratives.errors import AnalysisError
from narratives.review.record import record_review
from narratives.schema import Decision, Document, Review, Segment, SegmentUnit, SourceKind
from narratives.store.documents import save_document
from narratives.store.segments import save_segments
from narratives.store.tables import segments
from tests.builders.study import CODEBOOK, REVIEWER, Study


def test_one_quote_per_participant_spread_over_groups_and_waves(study: Study) -> None:
    with study.project.connect() as connection:
        quotes = exemplar_quotes(connection, CODEBOOK, "continuity", n=3)
    assert len({q.participant for q in quotes}) == 3
    # the best-scoring of P2 first, then R1 (new need group, council and kind), then P1 in wave 2 (new wave)
    assert [(q.participant, q.wave) for q in quotes] == [("P2", 1), ("R1", 1), ("P1", 2)]
    assert quotes[1].attributes == {"need_group": "mental_health", "council": "South"}
    assert quotes[0].document_title == "Interview P2 wave 1" and quotes[0].source == "machine"


def test_all_candidates_when_n_is_large(study: Study) -> None:
    with study.project.connect() as connection:
        quotes = exemplar_quotes(connection, CODEBOOK, "continuity", n=10)
    assert sorted(q.participant for q in quotes) == ["P1", "P2", "R1"]  # one each


def test_reviewed_quotes_come_first(study: Study) -> None:
    with study.project.begin() as connection:
        record_review(
            connection,
            Review(
                segment_id=study.segment("Different carers"),
                code_id="continuity",
                decision=Decision.accept,
                user=REVIEWER,
                codebook=CODEBOOK,
            ),
        )
        first = exemplar_quotes(connection, CODEBOOK, "continuity", n=1)[0]
        unpreferred = exemplar_quotes(connection, CODEBOOK, "continuity", n=1, prefer_reviewed=False)[0]
    assert (first.participant, first.source) == ("R1", "reviewed")
    assert unpreferred.participant == "P2"


def test_word_limits_and_min_score(study: Study) -> None:
    with study.project.connect() as connection:
        short = exemplar_quotes(connection, CODEBOOK, "paperwork")  # "explains the paperwork": 3 words
        roomy = exemplar_quotes(connection, CODEBOOK, "paperwork", min_words=1)
        strict = exemplar_quotes(connection, CODEBOOK, "waiting", min_score=0.85)
    assert short == [] and roomy[0].text == "explains the paperwork"
    # reviewed stays whatever its score; of machine ones only P3 (0.9) reaches 0.85
    assert sorted((q.participant or "blog") for q in strict) == ["P1", "P3"]


def test_near_duplicates_are_skipped(study: Study) -> None:
    text = "Waiting lists for assessments are far too long in our county now!"
    with study.project.begin() as connection:
        saved = save_document(
            connection,
            Document(
                kind=SourceKind.survey,
                title="Survey answer R3",
                text=text,
                participant="R3",
                wave=1,
                question="q1",
                path="survey.csv#R3",
            ),
        )
        save_segments(
            connection,
            [
                Segment(
                    document_id=saved.document_id,
                    unit=SegmentUnit.sentence,
                    index=0,
                    start=0,
                    end=len(text),
                    text=text,
                )
            ],
            pipeline="test",
        )
        segment_id = connection.execute(select(segments.c.id).where(segments.c.text == text)).scalar_one()
        record_review(
            connection,
            Review(
                segment_id=segment_id,
                code_id="waiting",
                decision=Decision.add,
                user=REVIEWER,
                codebook=CODEBOOK,
            ),
        )
        quotes = exemplar_quotes(connection, CODEBOOK, "waiting", n=10)
    people = sorted(q.participant or "blog" for q in quotes)
    assert people == ["P1", "P2", "P3", "R3"]  # R3 (reviewed) is chosen; the blog post says the same


def test_near_duplicate_rule() -> None:
    assert is_near_duplicate(_words("The carers are always rushed."), _words("the carers are ALWAYS rushed"))
    assert is_near_duplicate(_words("always rushed"), _words("The carers are always rushed today."))
    assert not is_near_duplicate(_words("The carers are always rushed."), _words("Nobody returned my calls."))


def test_balance_by_attributes_the_project_lacks_is_fine(study: Study) -> None:
    with study.project.connect() as connection:
        quotes = exemplar_quotes(connection, CODEBOOK, "waiting", balance_by=["postcode"], n=2)
        with pytest.raises(AnalysisError):
            exemplar_quotes(connection, CODEBOOK, "nope")
    assert len(quotes) == 2
