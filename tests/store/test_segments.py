"""Segmenting stored documents: offsets back into the source, turns kept, idempotent."""

from __future__ import annotations

from narratives.schema import Document, SegmentUnit, SourceKind, Turn
from narratives.segment.to_project import segment_project
from narratives.store.documents import load_document, save_document
from narratives.store.segments import load_segments
from narratives.store.status import project_status

TRANSCRIPT = (
    "Interviewer: How was it?\r\n\r\nP01: Awful. They sent “someone new” every day 🙁\r\nNobody asked me.\r\n"
)


def transcript() -> Document:
    first = TRANSCRIPT.index("How")
    second = TRANSCRIPT.index("Awful")
    return Document(
        kind=SourceKind.interview,
        title="P01",
        text=TRANSCRIPT,
        participant="P01",
        wave=1,
        turns=[
            Turn(speaker="Interviewer", start=first, end=TRANSCRIPT.index("?") + 1),
            Turn(speaker="P01", start=second, end=TRANSCRIPT.rindex(".") + 1),
        ],
    )


def survey_answer() -> Document:
    return Document(kind=SourceKind.survey, title="R1", text="Good PA. Bad council.", participant="R1")


def test_segments_point_back_into_documents(backend_project) -> None:
    with backend_project.begin() as connection:
        save_document(connection, transcript())
        save_document(connection, survey_answer())
    report = segment_project(backend_project, "sentence", user="tester")
    assert report.segments == 5 and "sentencizer" in report.pipeline
    with backend_project.connect() as connection:
        for segment in load_segments(connection, unit=SegmentUnit.sentence):
            document = load_document(connection, segment.document_id)
            assert document.text[segment.start : segment.end] == segment.text
        speakers = [s.speaker for s in load_segments(connection, unit=SegmentUnit.sentence) if s.speaker]
    assert speakers == ["Interviewer", "P01", "P01"]  # the emoji and single line break do not end a sentence


def test_turn_unit_falls_back_to_response_for_survey_answers(backend_project) -> None:
    with backend_project.begin() as connection:
        save_document(connection, transcript())
        save_document(connection, survey_answer())
    report = segment_project(backend_project, SegmentUnit.turn, user="tester")
    assert report.failures == []
    with backend_project.connect() as connection:
        texts = [s.text for s in load_segments(connection, unit=SegmentUnit.turn)]
    assert texts[-1] == "Good PA. Bad council."
    assert texts[0] == "How was it?"


def test_segmenting_twice_adds_nothing(backend_project) -> None:
    with backend_project.begin() as connection:
        save_document(connection, survey_answer())
    segment_project(backend_project, "paragraph", user="tester")
    again = segment_project(backend_project, "paragraph", user="tester")
    assert again.segments == 0
    with backend_project.connect() as connection:
        assert project_status(connection).segments_by_unit == {"paragraph": 1}


def test_interviewer_turns_can_be_left_out(backend_project) -> None:
    with backend_project.begin() as connection:
        save_document(connection, transcript())
        save_document(connection, survey_answer())
    segment_project(backend_project, "sentence", user="tester")
    with backend_project.connect() as connection:
        kept = load_segments(connection, unit=SegmentUnit.sentence, exclude_speakers=["Interviewer"])
    assert [s.speaker for s in kept] == ["P01", "P01", None, None]  # survey sentences have no speaker


def test_neighbours_stay_in_the_segments_own_unit(backend_project) -> None:
    from narratives.store.segments import neighbours

    with backend_project.begin() as connection:
        save_document(connection, transcript())
    segment_project(backend_project, "sentence", user="tester")
    segment_project(backend_project, "turn", user="tester")
    with backend_project.connect() as connection:
        every_unit = load_segments(connection)  # sentences and turns of the same document
    sentences = [s for s in every_unit if s.unit is SegmentUnit.sentence]
    before, after = neighbours(every_unit, sentences[1].id)
    assert before == sentences[0] and after == sentences[2]
    assert neighbours(every_unit, sentences[0].id) == (None, sentences[1])
    assert neighbours(every_unit, 10_000) == (None, None)


def test_a_document_that_cannot_be_segmented_is_reported_not_counted(backend_project) -> None:
    broken = transcript().model_copy(update={"turns": [Turn(speaker="P01", start=0, end=10_000)]})
    with backend_project.begin() as connection:
        save_document(connection, broken)
        save_document(connection, survey_answer())
    report = segment_project(backend_project, "sentence", user="tester")
    assert report.documents == 1 and report.segments == 2
    assert len(report.failures) == 1 and "turn" in report.failures[0]


def test_segments_asked_for_by_more_ids_than_one_query_takes_come_back_in_document_order(tmp_path) -> None:
    from narratives.schema import Document, Segment, SegmentUnit, SourceKind
    from narratives.store import init_project
    from narratives.store.documents import save_document
    from narratives.store.rows import IN_CHUNK
    from narratives.store.segments import load_segments, save_segments

    project = init_project(tmp_path / "many")
    count = IN_CHUNK + 7
    with project.begin() as connection:
        saved = save_document(
            connection, Document(kind=SourceKind.blog, title="t", text="x" * count, path="t")
        )
        pieces = [
            Segment(
                document_id=saved.document_id,
                unit=SegmentUnit.sentence,
                index=i,
                start=i,
                end=i + 1,
                text="x",
            )
            for i in range(count)
        ]
        save_segments(connection, pieces, pipeline="test")
    with project.connect() as connection:
        every = load_segments(connection)
        asked = load_segments(connection, ids=reversed([int(s.id or 0) for s in every]))
    project.close()
    assert [s.index for s in asked] == list(range(count))
