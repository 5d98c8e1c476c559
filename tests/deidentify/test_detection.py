"""Finding names, places, councils, care settings and services (issue 10), and the labelled set.

The tests that run spaCy's NER are marked slow (loading the model takes seconds); the labelled-set
checks use the same scoring function as `narratives bench --deidentify`.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from narratives.bench.deidentify import (
    NAMES_AND_PLACES,
    STRUCTURED,
    Record,
    bench_deidentify,
    load_records,
    score,
)
from narratives.deidentify import gazetteers
from narratives.deidentify.rules import Span, find_identifiers, find_identifiers_in, first_names
from narratives.errors import EvaluationError

PLANTED = Path(__file__).with_name("planted_identifiers.jsonl")


# ------------------------------------------------------------------------------------------ the set


def test_the_labelled_set_has_every_type_and_exact_offsets() -> None:
    rows = [json.loads(line) for line in PLANTED.read_text(encoding="utf-8").splitlines()]
    spans = [(row, span) for row in rows for span in row["spans"]]
    assert len(spans) >= 300
    assert sum(1 for row in rows if not row["spans"]) >= 60
    assert {span["label"] for _, span in spans} == set(NAMES_AND_PLACES) | set(STRUCTURED)
    assert {row["split"] for row in rows} == {"dev", "heldout", "fresh", "lowercase"}
    for row, span in spans:
        value = row["text"][span["start"] : span["end"]]
        assert value == value.strip() and value, (row["id"], span)
    for row in rows:  # spans in order and apart
        ends = [(s["start"], s["end"]) for s in row["spans"]]
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(ends)), row["id"]


def test_the_labelled_set_is_what_its_generator_writes() -> None:
    from tests.deidentify.make_planted_identifiers import records

    written = [json.loads(line) for line in PLANTED.read_text(encoding="utf-8").splitlines()]
    assert written == records()


def test_a_span_outside_its_text_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "a", "split": "dev", "text": "Kev", "spans": []}\n'
        '{"id": "b", "split": "dev", "text": "Kev", "spans": [{"start": 0, "end": 9, "label": "name"}]}\n',
        encoding="utf-8",
    )
    with pytest.raises(EvaluationError, match=r"bad\.jsonl line 2"):
        load_records(bad)


def test_scoring_needs_every_letter_covered_by_a_compatible_kind() -> None:
    record = Record("r", "dev", "Kev Brown rang Leeds City Council.", ())
    from narratives.bench.deidentify import Planted

    record = Record("r", "dev", record.text, (Planted(0, 9, "name"), Planted(15, 33, "council")))
    half = [Span(0, 3, "name", "Kev"), Span(15, 20, "place", "Leeds")]
    whole = [Span(0, 9, "name", "Kev Brown"), Span(15, 33, "council", "Leeds City Council")]
    wrong_kind = [Span(0, 9, "place", "Kev Brown"), Span(15, 33, "name", "Leeds City Council")]
    assert score([record], [half]).pooled(NAMES_AND_PLACES).found == 0
    assert score([record], [whole]).pooled(NAMES_AND_PLACES).found == 2
    wrong = score([record], [wrong_kind])
    assert wrong.pooled(NAMES_AND_PLACES).found == 0 and wrong.pooled(NAMES_AND_PLACES).removed == 2
    assert wrong.precision == 0.0 and score([record], [whole]).precision == 1.0


# ------------------------------------------------------------------------------------------ without NER


@pytest.mark.parametrize(
    ("text", "kind", "found"),
    [
        ("We moved to Rotherham when Dad got ill.", "place", "Rotherham"),
        ("I grew up in Hebden Bridge.", "place", "Hebden Bridge"),
        ("The bus to Stoke-on-Trent takes an hour.", "place", "Stoke-on-Trent"),
        ("We moved from Reading to be near my sister.", "place", "Reading"),
        ("I rang Kirklees Council four times.", "council", "Kirklees Council"),
        ("Sheffield council cut my hours.", "council", "Sheffield council"),
        ("The London Borough of Hackney wrote back.", "council", "London Borough of Hackney"),
        ("Lancashire County Council sent a form.", "council", "Lancashire County Council"),
        ("Mum went into Willow Lodge after the fall.", "organisation", "Willow Lodge"),
        ("The staff at Oakfield Care Home were kind.", "organisation", "Oakfield Care Home"),
        ("She was in St James's Hospital for six weeks.", "organisation", "St James's Hospital"),
        ("I go to Oakwood Day Centre on Thursdays.", "organisation", "Oakwood Day Centre"),
        ("Someone from Leeds Mind helped me.", "organisation", "Leeds Mind"),
        ("Age UK Calderdale rang back.", "organisation", "Age UK Calderdale"),
        ("He was born 5.6.47 and never left.", "date", "5.6.47"),
        ("She was born 5th June '47, in the war.", "date", "5th June '47"),
        ("Email me on jane at example dot com please.", "email", "jane at example dot com"),
        ("It's tom(at)example(dot)org now.", "email", "tom(at)example(dot)org"),
        ("Tariq came round on Tuesday.", "name", "Tariq"),
        ("Aoife rang me about the forms.", "name", "Aoife"),
        ("me and sarah went down the shops.", "name", "sarah"),
        ("The letter was signed DAVID JONES from the team.", "name", "DAVID JONES"),
        ("Grace, my daughter, does the shopping.", "name", "Grace"),
        ("My PA Kwame takes me swimming.", "name", "Kwame"),
    ],
)
def test_places_councils_settings_and_names_are_found_by_the_rules(text: str, kind: str, found: str) -> None:
    spans = find_identifiers(text, ner=False)
    assert [(s.kind, s.text) for s in spans] == [(kind, found)]
    assert text[spans[0].start : spans[0].end] == found


@pytest.mark.parametrize(
    "text",
    [
        "Hope is what keeps me going.",
        "Reading the care plan made me cry.",
        "In March they said the review would be in May.",
        "Bath time is the hardest part of the day.",
        "We met at Victoria Station and Rose Court.",
        "Social Care Wales published a new code.",
        "He was 5.6.47 on the scoreboard.",  # no birth cue: not a date
        "I'll be at home, dot dot dot.",
    ],
)
def test_common_words_that_are_places_or_dates_elsewhere_are_left(text: str) -> None:
    assert find_identifiers(text, ner=False) == []


@pytest.mark.parametrize(
    ("text", "kind", "found"),
    [
        ("now i live in st helens with my son.", "place", "st helens"),
        ("we moved to milton keynes last year.", "place", "milton keynes"),  # not "milton" as a name
        ("We moved to Milton keynes last year.", "place", "Milton keynes"),
        ("My neighbour in Kirkby-in-Ashfield helps me.", "place", "Kirkby-in-Ashfield"),
        ("She grew up in Kirkby in Ashfield.", "place", "Kirkby in Ashfield"),
        ("the bus from stoke-on-trent is late.", "place", "stoke-on-trent"),
        ("He lives in Barrow-in-Furness now.", "place", "Barrow-in-Furness"),
        ("sheffield city council cut my package.", "council", "sheffield city council"),
        ("the london borough of hackney wrote to me.", "council", "london borough of hackney"),
        ("BRADFORD COUNCIL NEVER ANSWER.", "council", "BRADFORD COUNCIL"),
        ("I stayed at oakfield house care home for a month.", "organisation", "oakfield house care home"),
        ("Then THE LIMES NURSING HOME took me in.", "organisation", "THE LIMES NURSING HOME"),
        ("I was in rotherham general hospital for weeks.", "organisation", "rotherham general hospital"),
        ("HE WAS IN ST JAMES'S HOSPITAL FOR A WEEK.", "organisation", "ST JAMES'S HOSPITAL"),
        ("i go to oakwood day centre on thursdays.", "organisation", "oakwood day centre"),
        ("someone from age uk calderdale rang.", "organisation", "age uk calderdale"),
        ("my neighbour mr patel helps me.", "name", "mr patel"),
        ("MR JONES SAID NO.", "name", "MR JONES"),
        ("i told dr okafor about the falls.", "name", "dr okafor"),
    ],
)
def test_lower_and_upper_case_places_services_and_titles_are_found(text: str, kind: str, found: str) -> None:
    spans = find_identifiers(text, ner=False)
    assert [(s.kind, s.text) for s in spans] == [(kind, found)]


@pytest.mark.parametrize(
    "text",
    [
        "the city council said no to everything.",
        "she went into a care home in the end.",
        "a new care home opened near us.",
        "my mum's care home has a new manager.",
        "i hated care home food more than anything.",
        "we took him to see community hospital staff.",
        "THE CARE HOME RANG AT MIDNIGHT.",
        "the local hospital is always full.",
        "the dr said to come back in a month.",
        "i've got a dr appointment on tuesday.",
        "the west end of town has no buses.",  # West End is a place, but not without a place word
        "Age UK have a helpline.",
    ],
)
def test_lower_case_care_words_titles_and_place_words_alone_are_left(text: str) -> None:
    assert find_identifiers(text, ner=False) == []


def test_keep_list_wins_over_the_gazetteers() -> None:
    assert find_identifiers("We moved to Rotherham.", keep=["Rotherham"], ner=False) == []
    assert find_identifiers("I rang Kirklees Council.", keep=["Kirklees Council"], ner=False) == []


def test_restore_case_keeps_length_and_leaves_acronyms() -> None:
    text = "DAVID JONES FROM THE NHS rang; me and sarah jones went. NHS and CQC."
    restored = gazetteers.restore_case(text, first_names())
    assert len(restored) == len(text)
    assert restored.startswith("David Jones from the nhs rang; me and Sarah Jones went.")
    assert restored.endswith("NHS and CQC.")


# ------------------------------------------------------------------------------------------ with NER


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("My social worker is Ifunanya Obi and she is lovely.", "Ifunanya Obi"),
        ("Our neighbour, Wiremu Tane, helps with the bins.", "Wiremu Tane"),
        ("My PA, Oghenekaro, is great.", "Oghenekaro"),
        ("Ifunanya Obi came round on Tuesday.", "Ifunanya Obi"),
    ],
)
def test_names_of_any_origin_are_found_after_a_role_or_before_a_verb(text: str, found: str) -> None:
    assert [(s.kind, s.text) for s in find_identifiers(text, ner=False)] == [("name", found)]


def test_towns_in_no_list_are_found_where_someone_lives_or_moves() -> None:
    texts = [
        "We moved to Eastmere in 2019.",
        "She lives in Kingsmoor now.",
        "I'm originally from Brackenford.",
    ]
    found = find_identifiers_in(texts, ner=False)
    assert [[(s.kind, s.text) for s in spans] for spans in found] == [
        [("place", "Eastmere")],
        [("place", "Kingsmoor")],
        [("place", "Brackenford")],
    ]
    assert find_identifiers_in(["We moved to Direct Payments.", "I lived in March."], ner=False) == [[], []]


@pytest.mark.slow
def test_the_ner_finds_towns_that_no_list_or_cue_gives() -> None:
    texts = ["He works in Kingsmoor now.", "My sister still lives at Fenbury."]
    found = find_identifiers_in(texts)
    assert [[(s.kind, s.text) for s in spans] for spans in found] == [
        [("place", "Kingsmoor")],
        [("place", "Fenbury")],
    ]
    assert [find_identifiers(t, ner=False) for t in texts] == [[], []]


@pytest.mark.slow
def test_every_miss_in_the_issue_is_now_found() -> None:
    texts = {
        "Tariq came round on Tuesday.": "Tariq",
        "Chidi Okonkwo is my social worker.": "Chidi Okonkwo",
        "Aoife rang me.": "Aoife",
        "me and sarah went to town.": "sarah",
        "DAVID JONES from the council rang.": "DAVID JONES",
        "Grace, my daughter, helps.": "Grace",
    }
    found = find_identifiers_in(list(texts))
    assert [[s.text for s in spans if s.kind == "name"] for spans in found] == [[v] for v in texts.values()]


@pytest.mark.slow
def test_clean_sentences_of_the_set_produce_nothing() -> None:
    clean = [r.text for r in load_records(PLANTED) if not r.spans]
    found = find_identifiers_in(clean)
    assert {text: spans for text, spans in zip(clean, found, strict=True) if spans} == {}


# Floors a little below the figures measured when this was written (dev / held-out / fresh: names
# and places 0.993 / 0.992 / 0.897, structured 1.000 on all three, precision 1.000 / 1.000 / 0.992).
# "fresh" was written after the tuning and holds names that no list knows, so its floor is lower.
# "lowercase" (1.000 recall and precision when its rules were written, but they were written
# knowing its sentences, so its floor is that of the fresh half).
FLOORS = {"dev": (0.95, 0.85), "heldout": (0.95, 0.85), "fresh": (0.85, 0.75), "lowercase": (0.85, 0.75)}


@pytest.mark.slow
def test_recall_and_precision_on_the_labelled_set_stay_above_their_floors() -> None:
    result = bench_deidentify(PLANTED)
    assert set(result.scores) == set(FLOORS)
    for split, scores in result.scores.items():
        pooled, each = FLOORS[split]
        assert scores.pooled(STRUCTURED).recall >= 0.98, split  # 1.0 for a half with none
        assert scores.pooled(NAMES_AND_PLACES).recall >= pooled, split
        assert scores.precision >= 0.95, split
        for label in NAMES_AND_PLACES:
            assert scores.recall_by_type[label].recall >= each, (split, label)
    assert result.sentences_per_second > 0
