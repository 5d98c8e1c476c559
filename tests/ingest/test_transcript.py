from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from narratives.errors import IngestError
from narratives.ingest.captions import captions_document
from narratives.ingest.speakers import normalise_speaker
from narratives.ingest.transcript import (
    find_turns,
    looks_like_transcript,
    read_transcript,
    transcript_document,
)
from narratives.schema import Document, SourceKind


def spoken(document: Document) -> list[tuple[str, str]]:
    return [(t.speaker, document.text[t.start : t.end]) for t in document.turns]


def assert_turns_well_formed(document: Document) -> None:
    previous_end = 0
    for turn in document.turns:
        content = document.text[turn.start : turn.end]
        assert content and content == content.strip()
        assert previous_end <= turn.start
        previous_end = turn.end
    # no turn contains a later turn's speaker label line
    labels = [f"\n{t.speaker}:" for t in document.turns]
    for turn in document.turns:
        assert not any(label in document.text[turn.start : turn.end] for label in labels)


def test_interviewer_and_participant_code_with_timestamps(fixtures: Path) -> None:
    path = fixtures / "transcript_interviewer_p03.txt"
    document = read_transcript(path, wave=1)
    assert document.text == path.read_text(encoding="utf-8")
    assert [speaker for speaker, _ in spoken(document)] == ["Interviewer", "P03", "Interviewer", "P03"]
    assert spoken(document)[1][1] == (
        "It started after my fall. The social worker came round\nand asked a lot of questions.\n\n"
        "I didn't really understand the forms, to be honest."
    )
    assert spoken(document)[3][1].endswith("Note: I wrote the times down.")
    assert (document.kind, document.participant, document.wave) == (SourceKind.interview, "P03", 1)
    assert document.title == "Interview with P03, wave 1"
    assert {a.key: a.value for a in document.attributes} == {"first_timestamp": "00:00:05"}
    assert_turns_well_formed(document)


def test_q_and_a_are_normalised(fixtures: Path) -> None:
    document = read_transcript(fixtures / "transcript_qa.txt", participant="P07")
    assert spoken(document) == [
        ("Interviewer", "How do you feel about your personal budget?"),
        ("P07", "Mostly positive. I can choose who comes.\n\nIt took a long time to set up, mind."),
        ("Interviewer", "Anything you would change?"),
        ("P07", "The paperwork. There's far too much of it."),
    ]
    assert document.participant == "P07"


def test_names_with_crlf_and_mixed_timestamps_keep_the_text_exactly(fixtures: Path) -> None:
    path = fixtures / "transcript_names.txt"
    document = read_transcript(path)
    assert document.text == path.read_bytes().decode("utf-8")
    assert "\r\n" in document.text
    assert spoken(document) == [
        ("Jane Smith", "Shall we begin?"),
        (
            "Tom Jones",
            "Yes. My mum has dementia and I care for her.\r\n\r\nSome days are harder than others.",
        ),
        ("Jane Smith", "How do services support you?"),
        ("Tom Jones", "Respite: two days a month, when they can staff it."),
    ]
    assert_turns_well_formed(document)


def test_a_word_and_colon_inside_a_turn_does_not_start_a_turn() -> None:
    text = (
        "Interviewer: What helped?\n"
        "P01: Two things.\n"
        "Respite: two days a month.\n"
        "Money: the carer's allowance.\n"
        "Interviewer: Thank you.\n"
    )
    turns = find_turns(text)
    assert [t.speaker for t in turns] == ["Interviewer", "P01", "Interviewer"]
    assert text[turns[1].start : turns[1].end] == (
        "Two things.\nRespite: two days a month.\nMoney: the carer's allowance."
    )


def test_timestamp_line_before_a_label_is_not_part_of_the_previous_turn() -> None:
    text = "Interviewer: Hello.\n[00:00:09]\nP02: Hi there.\n"
    turns = find_turns(text)
    assert [text[t.start : t.end] for t in turns] == ["Hello.", "Hi there."]


def test_label_with_content_on_the_next_line() -> None:
    text = "INTERVIEWER:\nHow are you?\n\nP9:\nNot bad.\n"
    turns = find_turns(text)
    assert [(t.speaker, text[t.start : t.end]) for t in turns] == [
        ("Interviewer", "How are you?"),
        ("P9", "Not bad."),
    ]


@pytest.mark.parametrize(
    ("label", "participant", "expected"),
    [
        ("Q", None, "Interviewer"),
        ("I", None, "Interviewer"),
        ("A", "P03", "P03"),
        ("R", None, "Participant"),
        ("p03", None, "P03"),
        ("Jane Smith", "P03", "Jane Smith"),
    ],
)
def test_normalise_speaker(label: str, participant: str | None, expected: str) -> None:
    assert normalise_speaker(label, participant) == expected


def test_looks_like_transcript(fixtures: Path) -> None:
    assert looks_like_transcript((fixtures / "transcript_qa.txt").read_text(encoding="utf-8"))
    blog = (fixtures / "blog_multi_post.txt").read_text(encoding="utf-8")
    assert not looks_like_transcript(blog)


def test_unlabelled_text_is_one_transcript_without_turns(tmp_path: Path) -> None:
    document = transcript_document("Just a monologue.\n", tmp_path / "mono.txt")
    assert document.turns == [] and document.text == "Just a monologue.\n"


def test_vtt_voices_become_a_readable_transcript(fixtures: Path) -> None:
    document = read_transcript(fixtures / "interview_p04.vtt", wave=2)
    assert document.text == (
        "Interviewer: Can you tell me about the day centre?\n\n"
        "P04: It closed last year. Now I don't see anyone & the days are long.\n\n"
        "Interviewer: I'm sorry to hear that."
    )
    assert spoken(document)[1] == ("P04", "It closed last year. Now I don't see anyone & the days are long.")
    assert (document.participant, document.wave, document.source_format) == ("P04", 2, "vtt")
    assert {a.key: a.value for a in document.attributes} == {
        "first_timestamp": "00:00:01.000",
        "last_timestamp": "00:00:15.000",
    }
    assert_turns_well_formed(document)


def test_srt_name_prefixes_continue_until_the_speaker_changes(fixtures: Path) -> None:
    document = read_transcript(fixtures / "interview_p05.srt")
    assert spoken(document) == [
        ("Interviewer", "What support do you get at home?"),
        ("P05", "Someone comes in the morning to help me wash. Only fifteen minutes though."),
        ("Interviewer", "Is that enough?"),
    ]
    assert document.attributes[0].value == "00:00:02.000"
    assert_turns_well_formed(document)


def test_srt_without_speakers_has_paragraphs_and_no_turns(tmp_path: Path) -> None:
    text = (
        "1\n00:00:01,000 --> 00:00:02,000\nHello.\n\n2\n00:00:02,100 --> 00:00:03,000\nStill me.\n\n"
        "3\n00:00:09,000 --> 00:00:10,000\nAfter a pause.\n"
    )
    document = captions_document(text, tmp_path / "plain.srt")
    assert document.text == "Hello. Still me.\n\nAfter a pause."
    assert document.turns == []


def test_caption_file_without_cues_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.vtt"
    path.write_text("WEBVTT\n\nNOTE nothing here\n", encoding="utf-8")
    with pytest.raises(IngestError, match="no cues"):
        read_transcript(path)


speaker_labels = st.sampled_from(["Interviewer", "P01", "Q", "A", "[00:01:02] P02", "Jane Smith"])
speech = st.text(alphabet=st.sampled_from(list("abc .,:\n–’")), min_size=1, max_size=40)


@given(st.lists(st.tuples(speaker_labels, speech), min_size=1, max_size=8))
def test_turn_offsets_always_index_their_content(pairs: list[tuple[str, str]]) -> None:
    text = "\n".join(f"{label}: {words}" for label, words in pairs) + "\n"
    document = transcript_document(text, "generated.txt")
    for turn in document.turns:
        content = text[turn.start : turn.end]
        assert content == content.strip() and content
    assert_turns_well_formed(document)
