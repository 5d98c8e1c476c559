"""De-identification: what is found (exact offsets), what is left alone, and where it is applied."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from narratives.cli import app
from narratives.deidentify import (
    LABELS,
    DeidentificationSettings,
    Span,
    deidentification_settings,
    deidentify_text,
    find_identifiers,
    nhs_number_valid,
    pseudonym,
    pseudonymise,
    scan_documents,
)
from narratives.interop.report import build_report, render_html
from narratives.interop.tables import export_csv
from narratives.review.panel import choose_panel_quote, panel_quotes_by_code, panel_themes
from narratives.review.record import record_review
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
)
from narratives.store.codebooks import store_codebook
from narratives.store.documents import save_document
from narratives.store.project import Project, init_project
from narratives.store.segments import save_segments
from narratives.store.tables import segments

# ------------------------------------------------------------------------------------------ finding


@pytest.mark.parametrize(
    ("text", "kind", "found"),
    [
        ("Write to kev.brown@example.org today.", "email", "kev.brown@example.org"),
        ("Ring 0113 496 0000 after two.", "phone", "0113 496 0000"),
        ("Ring 07700900123 after two.", "phone", "07700900123"),
        ("Ring +44 (0)7700 900123 after two.", "phone", "+44 (0)7700 900123"),
        ("Ring (0161) 496 0000 after two.", "phone", "(0161) 496 0000"),
        ("She lives near LS6 2AB now.", "postcode", "LS6 2AB"),
        ("Post it to EC1A 1BB please.", "postcode", "EC1A 1BB"),
        ("His NHS number is 943 476 5919, I think.", "nhs_number", "943 476 5919"),
        ("His NHS number is 9434765919, I think.", "nhs_number", "9434765919"),
        ("My NI number is AB 12 34 56 C on the form.", "ni_number", "AB 12 34 56 C"),
        ("My NI number is AB123456C on the form.", "ni_number", "AB123456C"),
        ("Date of birth 03/04/1954, she said.", "date", "03/04/1954"),
        ("She was born on 3rd March 1954 in a flat.", "date", "3rd March 1954"),
        ("Born March 3, 1954 in a flat.", "date", "March 3, 1954"),
        ("Admitted 2023-05-16 after a fall.", "date", "2023-05-16"),
        ("I live at 12 Acacia Avenue with my son.", "address", "12 Acacia Avenue"),
        ("The bus stops on Marsh Lane sometimes.", "address", "Marsh Lane"),
        ("It is all on https://example.org/my-story, if you look.", "url", "https://example.org/my-story"),
        ("Follow @carer_kev for updates.", "handle", "@carer_kev"),
        ("Then Mrs Patel came round.", "name", "Mrs Patel"),
        ("I saw Dr Okafor on Tuesday.", "name", "Dr Okafor"),
        ("I saw Dr. Okafor on Tuesday.", "name", "Dr. Okafor"),
        ("The article was by Martin Routledge last year.", "name", "Martin Routledge"),
        ("Thanks for meeting me, Daniel.", "name", "Daniel"),
        ("Kev is my PA.", "name", "Kev"),
        ("We stay with my Aunt Sue in the summer.", "name", "Sue"),
        ("Kev's teaching me to cook.", "name", "Kev"),
        ("Now I know my carer Zoë and she comes.", "name", "Zoë"),
        ("Oliver\xa0Letwin said it.", "name", "Oliver\xa0Letwin"),
    ],
)
def test_each_kind_is_found_with_exact_offsets(text: str, kind: str, found: str) -> None:
    spans = find_identifiers(text)
    assert [(s.kind, s.text) for s in spans] == [(kind, found)]
    (span,) = spans
    assert text[span.start : span.end] == span.text == found
    assert span.start == text.index(found)


def test_known_names_and_places_are_found() -> None:
    text = "Tamsin took me to Fenbury market. Tamsin Okoro is my PA."
    spans = find_identifiers(text, known_names=["Tamsin Okoro"], known_places=["Fenbury"])
    assert [(s.kind, s.text) for s in spans] == [
        ("name", "Tamsin"),
        ("place", "Fenbury"),
        ("name", "Tamsin Okoro"),
    ]
    assert all(text[s.start : s.end] == s.text for s in spans)


def test_a_surname_seen_in_a_full_name_is_found_alone_too() -> None:
    spans = find_identifiers("Mrs Dyson pops round. Dyson brings a paper.")
    assert [s.text for s in spans] == ["Mrs Dyson", "Dyson"]


def test_keep_words_are_never_redacted() -> None:
    assert find_identifiers("I told Will about it.", keep=["will"]) == []
    assert find_identifiers("Fenbury is far.", known_places=["Fenbury"], keep=["Fenbury"]) == []


@pytest.mark.parametrize(
    ("number", "valid"), [("9434765919", True), ("943 476 5919", True), ("9434765918", False)]
)
def test_nhs_number_check_digit(number: str, valid: bool) -> None:
    assert nhs_number_valid(number) is valid
    assert bool(find_identifiers(f"NHS number {number}.")) is valid


def test_nhs_number_check_digit_of_ten_is_never_valid() -> None:
    """A remainder of 1 gives a check digit of 10: no tenth digit makes such a number valid."""
    nine = next(
        f"{n:09d}"
        for n in range(100000000, 100001000)
        if sum(int(d) * w for d, w in zip(f"{n:09d}", range(10, 1, -1), strict=True)) % 11 == 1
    )
    assert not any(nhs_number_valid(nine + str(d)) for d in range(10))


ORDINARY = [
    "The Council said no.",
    "Monday was hard.",
    "My PA, who is brilliant, left in May.",
    "NHS and CQC never talk to each other, and TLAP and ADASS write reports.",
    "Interviewer: How was it?",
    "P03: Sit yourself down. Not that chair, the cushion's gone.",
    "Social Worker: We can look at a direct payment.",
    "In April the Care Act assessment finally happened.",
    "Will you come back next year?",
    "Hope is what keeps me going.",
    "Mark my words, it will get worse.",
    "Grace and favour, that's how it felt.",
    "I waited 18 months and 3 days for the ramp.",
    "It costs £17.50 an hour, 20 hours a week.",
    "[00:01:02] Interviewer: I'm sorry about that.",
    "Sunday dinner at the Royal Albert Hall, imagine.",
    "We met at Victoria Station and Rose Court.",
    "Christmas was quiet. Easter too.",
    "The Local Government Ombudsman upheld it in June 2024.",
    "Section 117 aftercare is supposed to be free.",
    "Personal Budgets and Direct Payments changed things for me.",
    "Carers UK and the Alzheimer's Society were helpful.",
]


@pytest.mark.parametrize("sentence", ORDINARY)
def test_no_false_positives_on_ordinary_social_care_sentences(sentence: str) -> None:
    assert find_identifiers(sentence) == []


def test_lone_first_names_can_be_switched_off() -> None:
    assert find_identifiers("Kev is my PA.", lone_first_names=False) == []
    assert [s.text for s in find_identifiers("Kev Brown is my PA.", lone_first_names=False)] == ["Kev Brown"]


@given(st.text(max_size=200))
def test_spans_are_exact_ordered_and_apart(text: str) -> None:
    spans = find_identifiers(text, known_names=["Kev"], known_places=["Fenbury"])
    assert all(text[s.start : s.end] == s.text and s.start < s.end for s in spans)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


# ------------------------------------------------------------------------------------------ replacing


def test_brackets_style() -> None:
    result = deidentify_text("Kev rang 07700 900123 from LS6 2AB.")
    assert result.text == "[name] rang [phone] from [postcode]."
    assert [(r.original, r.replacement) for r in result.replacements] == [
        ("Kev", "[name]"),
        ("07700 900123", "[phone]"),
        ("LS6 2AB", "[postcode]"),
    ]


def test_consistent_pseudonyms_are_stable_with_the_same_salt() -> None:
    text = "Mrs Patel came with Kev. Patel left; Kev stayed."
    first = deidentify_text(text, style="consistent", salt="project-1")
    again = deidentify_text(text, style="consistent", salt="project-1")
    other = deidentify_text(text, style="consistent", salt="project-2")
    assert first.text == again.text
    patel, kev, patel_again, kev_again = (r.replacement for r in first.replacements)
    assert patel == patel_again != kev == kev_again  # "Mrs Patel" and "Patel" are one person
    assert re.fullmatch(r"Person [A-Z]{4}", kev)
    assert other.text != first.text
    assert deidentify_text("Kev again.", style="consistent", salt="project-1").text.startswith(kev)


def test_consistent_style_keeps_labels_for_numbers() -> None:
    assert deidentify_text("Call 07700 900123.", style="consistent", salt="s").text == "Call [phone]."


def test_pseudonymise_leaves_overlapping_spans_out() -> None:
    text = "abcdefgh"
    spans = [Span(0, 4, "name", "abcd"), Span(2, 6, "place", "cdef")]
    assert pseudonymise(text, spans) == "[name]efgh"


@st.composite
def text_and_spans(draw: st.DrawFn) -> tuple[str, list[Span]]:
    text = draw(st.text(min_size=1, max_size=80))
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=8)))
    spans = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=False):
        if start < end:
            spans.append(Span(start, end, draw(st.sampled_from(sorted(LABELS))), text[start:end]))
    return text, spans


@given(text_and_spans(), st.sampled_from(["brackets", "consistent"]), st.text(max_size=8))
def test_pseudonymise_never_changes_text_outside_the_spans(case, style, salt) -> None:
    text, spans = case
    expected, position = "", 0
    for span in spans:
        new = LABELS[span.kind] if style == "brackets" else pseudonym(span.kind, span.text, salt)
        expected += text[position : span.start] + new
        position = span.end
    assert pseudonymise(text, spans, style=style, salt=salt) == expected + text[position:]


# ------------------------------------------------------------------------------------------ projects

CODEBOOK = "care"
QUOTES = {
    "P1": "Kev Brown is my PA and he rings me on 07700 900123 every single morning.",
    "P2": "Tamsin from Saltbeck council came round and we talked about my support for an hour.",
}


@dataclass
class Tiny:
    project: Project
    segment_ids: dict[str, int]


@pytest.fixture
def tiny(tmp_path: Path) -> Iterator[Tiny]:
    project = init_project(tmp_path / "tiny")
    (project.path / "deidentify.toml").write_text(
        'names = ["Tamsin"]\nplaces = ["Fenbury"]\nkeep = ["Hope"]\n', encoding="utf-8"
    )
    segment_ids = {}
    with project.begin() as connection:
        store_codebook(
            connection,
            Codebook(name=CODEBOOK, codes=[Code(id="support", name="Support", plain_name="Getting help")]),
            "setup",
        )
        for participant, council in (("P1", "Northbridge"), ("P2", "Saltbeck")):
            text = QUOTES[participant]
            saved = save_document(
                connection,
                Document(
                    kind=SourceKind.interview,
                    title=f"Interview {participant}",
                    text=text,
                    participant=participant,
                    path=f"{participant}.txt",
                    participant_attributes=[
                        Attribute.of("council", council),
                        Attribute.of("pa_name", "Kev Brown"),
                    ],
                ),
            )
            segment = Segment(
                document_id=saved.document_id,
                unit=SegmentUnit.sentence,
                index=0,
                start=0,
                end=len(text),
                text=text,
            )
            save_segments(connection, [segment], pipeline="test")
        for segment_id, text in connection.execute(select(segments.c.id, segments.c.text)):
            segment_ids[text] = int(segment_id)
            record_review(
                connection,
                Review(
                    segment_id=segment_id,
                    code_id="support",
                    decision=Decision.add,
                    user="ana",
                    codebook=CODEBOOK,
                ),
            )
    yield Tiny(project, segment_ids)
    project.close()


IDENTIFYING = ("Kev", "Brown", "07700", "Tamsin", "Saltbeck")


def test_project_settings_read_attributes_and_the_settings_file(tiny: Tiny) -> None:
    found = deidentification_settings(tiny.project)
    assert set(found.places) == {"Northbridge", "Saltbeck", "Fenbury"}
    assert set(found.names) == {"Kev Brown", "Tamsin"}  # participant keys P1, P2 stay as they are
    assert found.keep == ("Hope",) and found.style == "brackets" and found.salt
    assert deidentification_settings(tiny.project).salt == found.salt


def test_bad_settings_file_names_the_file(tiny: Tiny) -> None:
    (tiny.project.path / "deidentify.toml").write_text('names = "Kev"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"deidentify\.toml.*list"):
        deidentification_settings(tiny.project)


def test_report_quotes_are_deidentified_by_default(tiny: Tiny) -> None:
    with tiny.project.connect() as connection:
        report = build_report(connection, CODEBOOK)
        kept = build_report(connection, CODEBOOK, deidentify=False)
    quotes = [q.text for t in report.themes for q in t.quotes]
    assert sorted(quotes) == sorted(
        [
            "[name] is my PA and he rings me on [phone] every single morning.",
            "[name] from [place] council came round and we talked about my support for an hour.",
        ]
    )
    page = render_html(report)
    assert not any(word in page for word in ("Kev", "Brown", "07700", "Tamsin"))
    # councils stay in the tables by council (a variable of the study), never in a quote
    assert not any("Saltbeck" in quote for quote in re.findall(r"<blockquote>(.*?)</blockquote>", page))
    assert sorted(q.text for t in kept.themes for q in t.quotes) == sorted(QUOTES.values())


def test_panel_shows_deidentified_quotes_and_keeps_the_stored_ones(tiny: Tiny) -> None:
    with tiny.project.begin() as connection:
        choose_panel_quote(connection, CODEBOOK, "support", tiny.segment_ids[QUOTES["P2"]], "ana")
        (theme,) = panel_themes(connection, CODEBOOK)
        stored = panel_quotes_by_code(connection, CODEBOOK)["support"]
        (original,) = panel_themes(connection, CODEBOOK, deidentify=False)
    assert [q.text for q in theme.quotes] == [
        "[name] from [place] council came round and we talked about my support for an hour."
    ]
    assert [q.text for q in stored] == [QUOTES["P2"]] == [q.text for q in original.quotes]


def test_csv_export_deidentifies_only_when_asked(tiny: Tiny, tmp_path: Path) -> None:
    with tiny.project.connect() as connection:
        plain, _ = export_csv(connection, CODEBOOK, tmp_path / "plain.csv")
        safe, _ = export_csv(
            connection, CODEBOOK, tmp_path / "safe.csv", deidentify=deidentification_settings(tiny.project)
        )
    assert set(pd.read_csv(plain, encoding="utf-8-sig")["text"]) == set(QUOTES.values())
    texts = pd.read_csv(safe, encoding="utf-8-sig")["text"]
    assert not any(word in text for text in texts for word in IDENTIFYING)


def test_scan_counts_by_kind(tiny: Tiny) -> None:
    with tiny.project.connect() as connection:
        scan = scan_documents(connection, deidentification_settings(tiny.project), examples=2)
    assert scan.documents == 2
    assert dict(scan.counts) == {"name": 2, "phone": 1, "place": 1}
    assert len(scan.examples) == 2 and scan.examples[0].replacement.original == "Kev Brown"


# ------------------------------------------------------------------------------------------ CLI


def test_cli_lists_what_would_be_redacted(tiny: Tiny) -> None:
    result = CliRunner().invoke(app, ["deidentify", str(tiny.project.path), "--preview", "3"])
    assert result.exit_code == 0, result.output
    assert "phone" in result.output and "Kev Brown" in result.output
    missing = CliRunner().invoke(app, ["deidentify", str(tiny.project.path), "--document", "99"])
    assert missing.exit_code == 1 and "no document 99" in missing.output


def test_cli_deidentify_text() -> None:
    result = CliRunner().invoke(app, ["deidentify-text", "Kev lives in Leeds, LS6 2AB.", "--place", "Leeds"])
    assert result.exit_code == 0, result.output
    assert "[name] lives in [place], [postcode]." in result.output


def test_cli_export_deidentify(tiny: Tiny) -> None:
    runner, folder = CliRunner(), str(tiny.project.path)
    refused = runner.invoke(app, ["export", folder, "--format", "qdpx", "--deidentify"])
    assert refused.exit_code == 2 and "original text" in " ".join(refused.output.split())
    result = runner.invoke(app, ["export", folder, "--format", "csv", "--deidentify", "--out", "safe.csv"])
    assert result.exit_code == 0, result.output
    texts = pd.read_csv(tiny.project.exports_dir / "safe.csv", encoding="utf-8-sig")["text"]
    assert not any(word in text for text in texts for word in IDENTIFYING)


@pytest.mark.parametrize("command", ["deidentify", "deidentify-text"])
def test_commands_have_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Example: narratives " + command in " ".join(result.output.split())


def test_settings_object_can_be_passed_directly() -> None:
    settings = DeidentificationSettings(names=("Tamsin",), places=("Fenbury",), style="consistent", salt="x")
    assert settings.apply("Tamsin went to Fenbury.").text.startswith("Person ")
