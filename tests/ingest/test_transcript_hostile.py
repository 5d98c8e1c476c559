"""Transcripts and caption files with damaged lines: nothing folded into a neighbour, nothing dropped
without a note that names the line (or cue)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from narratives.cli import app
from narratives.errors import IngestError
from narratives.ingest.captions import CueProblem, captions_document, parse_cues
from narratives.ingest.readers import ReadOptions, read_files
from narratives.ingest.transcript import (
    UNKNOWN_SPEAKER,
    find_turns,
    find_unrecognised_lines,
    transcript_document,
)
from narratives.schema import Document, SourceKind

DAMAGED = """Interview with P01

[00:00:05] Interviewer: How did the care start?
[00:00:09] P01: After my fall. They came
twice a day at first.
[00:1x:22] Interviewer: And then?
[00:00:31] P01: Then only once.
00:12 -- Interviewer: Why was that?
[00:00:40] P01: Money, they said.
[00:0x]
Interviewr: Did anyone explain?
[00:00:52] P01: No.
PO1: Nobody ever does.
[00:01:03] Interviewer: Thank you.
"""


def spoken(document: Document) -> list[tuple[str, str]]:
    return [(turn.speaker, document.text[turn.start : turn.end]) for turn in document.turns]


def test_a_turn_after_a_damaged_line_is_its_own_unknown_turn_with_exact_offsets() -> None:
    notes: list[str] = []
    document = transcript_document(DAMAGED, "p01.txt", notes=notes)
    assert document.text == DAMAGED
    assert spoken(document) == [
        ("Interviewer", "How did the care start?"),
        ("P01", "After my fall. They came\ntwice a day at first."),
        (UNKNOWN_SPEAKER, "[00:1x:22] Interviewer: And then?"),
        ("P01", "Then only once."),
        (UNKNOWN_SPEAKER, "00:12 -- Interviewer: Why was that?"),
        ("P01", "Money, they said."),
        (UNKNOWN_SPEAKER, "[00:0x]"),
        (UNKNOWN_SPEAKER, "Interviewr: Did anyone explain?"),
        ("P01", "No."),
        (UNKNOWN_SPEAKER, "PO1: Nobody ever does."),
        ("Interviewer", "Thank you."),
    ]
    assert not any("Interviewer:" in content for speaker, content in spoken(document) if speaker == "P01")
    assert document.participant == "P01"


def test_each_unrecognised_line_is_noted_with_file_and_line_number() -> None:
    notes: list[str] = []
    transcript_document(DAMAGED, "p01.txt", notes=notes)
    assert [note.split(":")[0] for note in notes] == [
        "p01.txt line 6",
        "p01.txt line 8",
        "p01.txt line 10",
        "p01.txt line 11",
        "p01.txt line 13",
    ]
    assert "'[00:1x:22]'" in notes[0] and f"speaker '{UNKNOWN_SPEAKER}'" in notes[0] and "Fix:" in notes[0]
    assert "'Interviewer' with a typo" in notes[3]
    assert "'P01' with a typo" in notes[4]


@pytest.mark.parametrize(
    "line",
    [
        "Respite: two days a month.",
        "Money: the carer's allowance.",
        "Note: I wrote the times down.",
        "Pool: closed on Mondays.",
        "Rio: we went once.",
        "3 times a week, sometimes 4.",
        "At 12:30 they still had not come.",
        "[00:00:41]",
    ],
)
def test_ordinary_lines_inside_a_turn_are_not_unrecognised(line: str) -> None:
    text = f"Interviewer: What helped?\nP01: Two things.\n{line}\nInterviewer: Thank you.\n"
    assert find_unrecognised_lines(text) == []
    assert [turn.speaker for turn in find_turns(text)] == ["Interviewer", "P01", "Interviewer"]


def test_a_typo_of_a_name_used_as_a_label_is_caught() -> None:
    text = (
        "Jane Smith: Shall we start?\nTom Jones: Yes.\nJane Smtih: How are things?\nTom Jones: Hard.\n"
        "Jane Smith: I see.\n"
    )
    [line] = find_unrecognised_lines(text)
    assert (line.line, line.text) == (3, "Jane Smtih: How are things?")
    assert "Jane Smith" in line.reason


def test_unrecognised_lines_reach_the_notes_of_a_batch_read(tmp_path: Path) -> None:
    path = tmp_path / "p01.txt"
    path.write_text(DAMAGED, encoding="utf-8")
    batch = read_files([path], ReadOptions(kind=SourceKind.interview))
    assert len(batch.documents) == 1 and batch.failures == []
    assert sum("line " in note and UNKNOWN_SPEAKER in note for note in batch.notes) == 5


def test_ingest_prints_the_notes_for_a_damaged_transcript(tmp_path: Path) -> None:
    project, path = tmp_path / "project", tmp_path / "p01.txt"
    path.write_text(DAMAGED, encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(project)]).exit_code == 0
    result = runner.invoke(app, ["ingest", str(project), str(path), "--kind", "interview"])
    assert result.exit_code == 0, result.output
    assert "line 6" in result.output and "[00:1x:22]" in result.output


speaker_labels = st.sampled_from(
    ["Interviewer", "P01", "[00:1x:22] P02", "00:12 -- Q", "Interviewr", "[0:0x]"]
)
speech = st.text(alphabet=st.sampled_from(list("abc .,:\n–’1")), min_size=1, max_size=40)


@given(st.lists(st.tuples(speaker_labels, speech), min_size=1, max_size=8))
def test_damaged_turns_keep_exact_offsets_and_every_word(pairs: list[tuple[str, str]]) -> None:
    text = "\n".join(f"{label}: {words}" for label, words in pairs) + "\n"
    document = transcript_document(text, "generated.txt", notes=[])
    previous_end = 0
    for turn in document.turns:
        content = text[turn.start : turn.end]
        assert content and content == content.strip()
        assert previous_end <= turn.start
        previous_end = turn.end
    unknown_starts = {turn.start for turn in document.turns if turn.speaker == UNKNOWN_SPEAKER}
    offset = 0
    for label, words in pairs:
        if label not in ("Interviewer", "P01"):  # a damaged label: its line is a turn of its own
            assert offset in unknown_starts, (label, words)
        offset += len(f"{label}: {words}\n")


# --- caption files -------------------------------------------------------------------------------

BAD_SRT = """1
00:00:01,000 --> 00:00:03,000
Interviewer: How are the carers?

2
00:00:03,500 -> 00:00:06,000
P06: Late, mostly.

00:00:06,500 --> 00:00:08,000
P06: And rushed.

4
00:00:08,000 --> 00:00:09,000

5
00:00:07,000 --> 00:00:10,000
Interviewer: Rushed how?

6
00:00:12,000 --> 00:00:11,000
P06: Ten minutes for a wash.

stray words after a blank line

8
00:00:14,000 --> 00:00:16,000
9
00:00:16,500 --> 00:00:18,000
Interviewer: Thank you.
"""


def test_bad_srt_cues_keep_their_text_and_are_each_reported() -> None:
    problems: list[CueProblem] = []
    cues = parse_cues(BAD_SRT, "p06.srt", problems)
    texts = [text for cue in cues for _, text in cue.pieces]
    for words in ("Late, mostly.", "And rushed.", "Rushed how?", "Ten minutes for a wash.", "stray words"):
        assert any(words in text for text in texts), words
    assert [(p.kind, p.cue, p.line) for p in problems] == [
        ("timing", 2, 6),
        ("empty", 4, 13),
        ("overlap", 5, 16),
        ("backwards", 6, 20),
        ("outside", None, 23),
        ("empty", 8, 26),
    ]


def test_bad_cues_reach_the_notes_and_the_text_reads_in_file_order() -> None:
    notes: list[str] = []
    document = captions_document(BAD_SRT, "p06.srt", notes=notes)
    assert document.text.index("Late, mostly.") < document.text.index("And rushed.")
    assert document.text.index("Rushed how?") < document.text.index("Ten minutes")
    assert "stray words after a blank line" in document.text
    assert [t.speaker for t in document.turns][:2] == ["Interviewer", "P06"]
    joined = "\n".join(notes)
    for expected in (
        "cue 2 (line 6)",
        "cue 4 (line 13), cue 8 (line 26)",
        "cue 5 (line 16)",
        "cue 6 (line 20)",
        "line 23",
    ):
        assert expected in joined, expected
    assert {a.key: a.value for a in document.attributes} == {
        "first_timestamp": "00:00:01.000",
        "last_timestamp": "00:00:18.000",
    }


def test_a_cue_without_a_blank_line_before_the_next_is_not_merged_into_it() -> None:
    text = "1\n00:00:01,000 --> 00:00:02,000\nFirst.\n2\n00:00:02,500 --> 00:00:03,000\nSecond.\n"
    problems: list[CueProblem] = []
    cues = parse_cues(text, "tight.srt", problems)
    assert [cue.pieces for cue in cues] == [[(None, "First.")], [(None, "Second.")]]
    assert problems == []


def test_garbled_vtt_timestamps_are_reported_and_the_text_kept(tmp_path: Path) -> None:
    path = tmp_path / "p07.vtt"
    path.write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Interviewer>Hello.</v>\n\n"
        "00:00:0x.000 --> 00:00:04.000\n<v P07>Hello, love.</v>\n\n"
        "00:00:05.000 --> 00:00:61.000\n<v P07>Come in.</v>\n",
        encoding="utf-8",
    )
    batch = read_files([path], ReadOptions())
    [document] = batch.documents
    assert spoken(document) == [("Interviewer", "Hello."), ("P07", "Hello, love. Come in.")]
    assert any("2 cue(s) with a timing line that cannot be read" in note for note in batch.notes)


def test_a_caption_file_with_no_readable_timing_is_still_an_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no cues"):
        captions_document("1\n00:00:0x --> soon\nHello.\n", tmp_path / "broken.srt")


caption_lines = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "",
                "",
                "7",
                "00:00:01,000 --> 00:00:02,000",
                "00:00:05,000 --> 00:00:03,000",
                "00:00:0x,000 --> 00:00:04,000",
                "00:00:02,000 -> 00:00:03,000",
                "00:00:61,000 --> 00:01:00,000",
            ]
        ),
        st.integers(min_value=0, max_value=999).map(lambda n: f"Interviewer: word{n}"),
        st.integers(min_value=0, max_value=999).map(lambda n: f"word{n} and more"),
    ),
    max_size=30,
)


@given(caption_lines)
def test_every_caption_text_line_is_kept_or_the_file_refused(lines: list[str]) -> None:
    text = "1\n00:00:00,000 --> 00:00:00,500\nStart.\n\n" + "\n".join(lines) + "\n"
    notes: list[str] = []
    try:
        document = captions_document(text, "generated.srt", notes=notes)
    except IngestError:
        return
    for line in lines:
        words = line.split(": ", 1)[-1]
        if words.startswith("word"):
            assert words in document.text, (words, notes)
