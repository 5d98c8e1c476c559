"""Stored candidates: read back with their run's codebook and the last action taken on them."""

from __future__ import annotations

from narratives.schema import Document, Segment, SegmentUnit, SourceKind
from narratives.store.discovery import (
    Candidate,
    insert_candidate_event,
    latest_discovery_run_id,
    segment_owners,
    store_candidates,
    stored_candidate,
    stored_candidates,
)
from narratives.store.documents import participant_id, save_document
from narratives.store.project import Project
from narratives.store.segments import load_segments, save_segments


def _candidate(topic: int, size: int) -> Candidate:
    return Candidate(
        id=None,
        topic=topic,
        label=f"topic {topic}",
        keywords=["carers"],
        quotes=[{"segment_id": 1, "text": "Carers change."}],
        segment_ids=[1],
        size=size,
        sizes={"kind": {"blog": size}},
        overlap=[],
    )


def test_candidates_come_back_largest_first_with_their_last_action(backend_project: Project) -> None:
    with backend_project.begin() as connection:
        assert latest_discovery_run_id(connection) is None
        small, large = _candidate(0, 2), _candidate(1, 5)
        run = store_candidates(connection, [small, large], {"codebook": "care"}, {}, "fake", "ana")
        insert_candidate_event(connection, int(small.id or 0), "merge", "continuity", "ana")
        insert_candidate_event(connection, int(small.id or 0), "dismiss", None, "ben")
    with backend_project.connect() as connection:
        found = stored_candidates(connection, run)
        one = stored_candidate(connection, int(large.id or 0))
        missing = stored_candidate(connection, int(large.id or 0) + 100)
        latest = latest_discovery_run_id(connection)
    assert latest == run
    assert [(c.topic, c.size, c.status, c.status_code_id) for c in found] == [
        (1, 5, None, None),
        (0, 2, "dismiss", None),
    ]
    assert one is not None and one.codebook == "care" and one.sizes == {"kind": {"blog": 5}}
    assert missing is None


def test_segment_owners_name_the_document_kind_and_participant(backend_project: Project) -> None:
    with backend_project.begin() as connection:
        blog = save_document(connection, Document(kind=SourceKind.blog, title="b", text="One. Two."))
        survey = save_document(
            connection, Document(kind=SourceKind.survey, title="s", text="Three.", participant="R1")
        )
        save_segments(
            connection,
            [
                Segment(
                    document_id=blog.document_id,
                    unit=SegmentUnit.sentence,
                    index=0,
                    start=0,
                    end=4,
                    text="One.",
                ),
                Segment(
                    document_id=survey.document_id,
                    unit=SegmentUnit.sentence,
                    index=0,
                    start=0,
                    end=6,
                    text="Three.",
                ),
            ],
            pipeline="test",
        )
        ids = {s.text: int(s.id or 0) for s in load_segments(connection)}
        person = participant_id(connection, "R1")
        owners = segment_owners(connection, ids.values())
        nothing = segment_owners(connection, [])
    assert owners[ids["One."]] == (blog.document_id, "blog", None)
    assert owners[ids["Three."]] == (survey.document_id, "survey", person)
    assert nothing == {}
