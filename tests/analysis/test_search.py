"""Keyword and semantic search over the hand-checked study (tests/builders/study.py)."""

from __future__ import annotations

import re

import pytest

from narratives.analysis.search import (
    SearchFilters,
    build_semantic_index,
    codes_by_segment,
    context_of,
    keyword_search,
    semantic_search,
)
from narratives.errors import SearchError
from narratives.schema import Document, SourceKind
from tests.builders.project import ProjectBuilder
from tests.builders.study import CODEBOOK, DOCUMENTS, sentences


def ids_of(result) -> set[int]:
    return {hit.segment_id for hit in result.hits}


def starting(study, *starts: str) -> set[int]:
    return {study.segment(start) for start in starts}


def search(study, typed: str, **filters) -> object:
    with study.project.connect() as connection:
        return keyword_search(connection, typed, SearchFilters(**filters), limit=50)


WAIT_SENTENCES = ("I waited eight months", "Getting the ramp fitted", "I waited ages", "Waiting lists for")


def test_a_word_finds_every_form_of_it_and_marks_each(study) -> None:
    result = search(study, "waited")
    assert ids_of(result) == starting(study, *WAIT_SENTENCES)
    assert result.total == 4 and result.unit == "sentence" and result.mode == "keyword"
    for hit in result.hits:
        marked = [hit.text[start:end].lower() for start, end in hit.highlights]
        words = [w.lower() for w in re.findall(r"\w+", hit.text) if w.lower().startswith("wait")]
        assert marked == words  # every form of "wait" marked, nothing else


def test_phrases_exclusions_and_or(study) -> None:
    assert ids_of(search(study, '"personal budget"')) == starting(study, "My personal budget lets")
    assert ids_of(search(study, "budget -personal")) == starting(study, "My budget gives me")
    assert ids_of(search(study, "ramp OR forms")) == starting(study, "Getting the ramp fitted", "Forms forms")
    assert ids_of(search(study, "assess*")) == starting(study, "I waited eight months", "Waiting lists for")


def test_accents_and_case_do_not_matter(study) -> None:
    assert ids_of(search(study, "CAFE")) == starting(study, "The café trip")
    hit = search(study, "zoe").hits[0]
    assert [hit.text[s:e] for s, e in hit.highlights] == ["Zoë"]


def test_filters_by_kind_wave_and_code_with_its_subcodes(study) -> None:
    carers = "carers OR carer"
    interviews = search(study, carers, kinds=("interview",), waves=(2,))
    assert {hit.kind for hit in interviews.hits} == {"interview"} and {h.wave for h in interviews.hits} == {2}
    assert ids_of(interviews) == starting(study, "Now I know my carer", "The carers still change")
    # "access" is the parent of "waiting" and "paperwork": it carries what they carry, by id or by name
    access = search(study, "waited OR forms OR paperwork", code="Access to support", codebook=CODEBOOK)
    assert ids_of(access) == starting(study, *WAIT_SENTENCES, "Nobody ever explains")
    assert ids_of(search(study, "waited", code="choice", codebook=CODEBOOK)) == set()


def test_each_hit_says_where_it_is_its_context_and_its_codes_now(study) -> None:
    result = search(study, "eight months", codebook=CODEBOOK)
    (hit,) = result.hits
    document = DOCUMENTS[0]
    assert (hit.document_title, hit.kind, hit.wave, hit.participant) == (
        "Interview P1 wave 1",
        "interview",
        1,
        "P1",
    )
    assert document.text[hit.start : hit.end] == hit.text
    assert hit.before == document.text[: hit.start] and hit.after == ""
    assert set(hit.codes) == {"waiting", "access"}  # reviewed "waiting", and its parent
    first = search(study, "carers change every week").hits[0]
    assert first.before == "" and first.after == document.text[first.end :]


def test_context_is_cut_at_a_space_on_long_documents() -> None:
    text = "alpha beta gamma " * 30 + "TARGET" + " delta epsilon" * 30
    start, end = text.index("TARGET"), text.index("TARGET") + 6
    before, after = context_of(text, start, end, chars=40)
    assert 0 < len(before) <= 40 and 0 < len(after) <= 40
    assert text[start - len(before) : start] == before and text[start - len(before) - 1] == " "
    assert text[end : end + len(after)] == after and text[end + len(after)] == " "


def test_new_segments_are_found_at_once_and_old_versions_are_not(study) -> None:
    with study.project.begin() as connection:
        build = ProjectBuilder(connection, codebook=CODEBOOK, user="setup")
        new = Document(
            kind=SourceKind.blog, title="Respite", text="Respite breaks keep families going.", path="r.md"
        )
        build.add_documents([new], split=lambda i, document: sentences(i, document.text))
    assert [hit.document_title for hit in search(study, "respite").hits] == ["Respite"]


def test_a_query_with_nothing_to_find_or_an_unknown_unit_or_code_is_an_error(study) -> None:
    with pytest.raises(SearchError, match="nothing to search for"):
        search(study, "-carers")
    with pytest.raises(SearchError, match=r"no 'paragraph' segments.*sentence"):
        search(study, "carers", unit="paragraph")
    with pytest.raises(SearchError, match=r"no active code 'nope'.*continuity"):
        search(study, "carers", code="nope", codebook=CODEBOOK)
    with pytest.raises(SearchError, match="needs a codebook"):
        search(study, "carers", code="choice")


def test_limit_keeps_the_best_and_total_counts_all(study) -> None:
    with study.project.connect() as connection:
        result = keyword_search(connection, "carers OR carer", limit=2)
        every = keyword_search(connection, "carers OR carer", limit=100)
    assert result.total == every.total == len(every.hits) > 2
    assert [h.segment_id for h in result.hits] == [h.segment_id for h in every.hits[:2]]
    scores = [h.score for h in every.hits]
    assert scores == sorted(scores, reverse=True)


# ---------------------------------------------------------------------------------- semantic


def test_the_semantic_index_embeds_what_is_missing_once(study, fake_embedder) -> None:
    with study.project.begin() as connection:
        index = build_semantic_index(connection, fake_embedder, "sentence")
    assert index.size == len(study.segment_ids) and fake_embedder.encoded == len(set(study.segment_ids))
    with study.project.begin() as connection:
        again = build_semantic_index(connection, fake_embedder, "sentence")
    assert fake_embedder.encoded == len(set(study.segment_ids))  # nothing embedded twice
    assert (again.vectors.segment_ids == index.vectors.segment_ids).all()


def test_semantic_search_ranks_the_nearest_first_within_the_filters(study, fake_embedder) -> None:
    with study.project.begin() as connection:
        index = build_semantic_index(connection, fake_embedder, "sentence")
        passage = "The carers change every week and nobody tells me who is coming."
        result = semantic_search(connection, passage, index, fake_embedder, limit=3)
        surveys = semantic_search(
            connection, passage, index, fake_embedder, SearchFilters(kinds=("survey",)), limit=5
        )
        coded = semantic_search(
            connection,
            passage,
            index,
            fake_embedder,
            SearchFilters(code="waiting", codebook=CODEBOOK),
            limit=9,
        )
        carried = codes_by_segment(connection, CODEBOOK, "sentence")
    assert result.hits[0].segment_id == study.segment("The carers change every week")
    assert result.hits[0].score == pytest.approx(1.0, abs=1e-5) and result.total == index.size
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)
    assert {h.kind for h in surveys.hits} == {"survey"} and surveys.total == 3  # R1 one sentence, R2 two
    waiting = {segment for segment, codes in carried.items() if "waiting" in codes}
    assert ids_of(coded) == waiting and coded.total == len(waiting)


def test_semantic_search_refuses_an_empty_query_and_another_models_index(study, fake_embedder) -> None:
    from tests.conftest import HashingEmbedder

    other = HashingEmbedder(dim=8)
    other.name = "another-model"  # type: ignore[misc]
    with study.project.begin() as connection:
        index = build_semantic_index(connection, fake_embedder, "sentence")
        with pytest.raises(SearchError, match="nothing to search for"):
            semantic_search(connection, "  ", index, fake_embedder)
        with pytest.raises(SearchError, match="another-model"):
            semantic_search(connection, "carers", index, other)


def test_on_the_demo_project_search_agrees_with_its_texts_and_codes(demo) -> None:
    """Runs on PostgreSQL too in the suite's second pass (``NARRATIVES_TEST_DEMO_ON_PG=1``)."""
    from narratives.store.segments import load_segments

    with demo.project.connect() as connection:
        result = keyword_search(connection, "carers", SearchFilters(codebook="care"), limit=50)
        carried = codes_by_segment(connection, "care", result.unit)
        every = [s for s in load_segments(connection) if s.unit.value == result.unit]
    expected = {s.id for s in every if re.search(r"\bcarers?\b", s.text, re.IGNORECASE)}
    assert ids_of(result) == expected and len(expected) >= 2
    for hit in result.hits:
        assert [hit.text[s:e].lower() for s, e in hit.highlights] == re.findall(
            r"\bcarers?\b", hit.text.lower()
        )
        assert hit.codes == carried.get(hit.segment_id, ())
