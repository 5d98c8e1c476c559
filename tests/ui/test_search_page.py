"""The Search page (AppTest, in process) on the demo project of :mod:`tests.builders.demo_project`."""

from __future__ import annotations

from narratives.analysis.search import SearchFilters, keyword_search, semantic_search
from narratives.review.state import latest_reviews
from narratives.store.reviews import load_reviews
from tests.builders.demo_project import CODEBOOK, DemoProject
from tests.ui.test_pages import open_app, texts


def search(at, typed: str, mode: str = "words", **extra) -> object:
    at.text_input(key="search_q").input(typed)
    at.radio(key="search_mode").set_value(mode)
    for key, value in extra.items():
        at.multiselect(key=f"search_{key}").set_value(value)
    at.button[0].click()  # the form's Search button
    return at.run()


def as_list(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def shown_segments(at) -> list[int]:
    return [int(c.value.rsplit("segment ", 1)[1]) for c in at.caption if "Codes now:" in c.value]


def test_results_are_keyword_searchs_and_the_url_keeps_the_query(monkeypatch, demo: DemoProject) -> None:
    at = open_app(monkeypatch, demo.project.path, "search")
    assert at.title[0].value == "Search" and not at.exception
    at = search(at, "carers OR carer", kinds=["survey"])
    with demo.project.connect() as connection:
        expected = keyword_search(
            connection, "carers OR carer", SearchFilters(kinds=("survey",), codebook=CODEBOOK)
        )
    assert shown_segments(at) == [hit.segment_id for hit in expected.hits] and expected.hits
    assert f"{expected.total} sentence segments found" in texts(at.markdown)
    assert "<mark>carers</mark>" in texts(at.markdown)
    assert as_list(at.query_params["q"]) == ["carers OR carer"] and as_list(at.query_params["kind"]) == [
        "survey"
    ]


def test_a_url_with_a_query_shows_its_results(monkeypatch, demo: DemoProject) -> None:
    at = open_app(monkeypatch, demo.project.path, "search")
    at.query_params["q"] = "paperwork"
    at.query_params["mode"] = "words"
    at.run()
    with demo.project.connect() as connection:
        expected = keyword_search(connection, "paperwork", SearchFilters(codebook=CODEBOOK))
    assert shown_segments(at) == [hit.segment_id for hit in expected.hits] and len(expected.hits) >= 1
    assert at.text_input(key="search_q").value == "paperwork"


def test_code_all_these_records_one_review_each_then_says_they_carry_it(
    monkeypatch, demo: DemoProject
) -> None:
    at = search(open_app(monkeypatch, demo.project.path, "search"), "carers OR carer")
    picked = shown_segments(at)[:2]
    for segment_id in picked:
        at.checkbox(key=f"search_pick_{segment_id}").check()
    at.selectbox(key="search_apply_code").set_value("choice")
    at.run()
    at.button(key="search_apply").click()
    at = at.run()
    assert "Coded 2 segments with" in texts(at.success) and "(0 carried it already)" in texts(at.success)
    with demo.project.connect() as connection:
        mine = [r for r in load_reviews(connection, CODEBOOK) if r.source == "search"]
        holding = latest_reviews(connection, CODEBOOK)
    assert sorted(r.segment_id for r in mine) == sorted(picked) and {r.user for r in mine} == {"ana"}
    assert all(holding[(s, "choice")].applies for s in picked)
    for segment_id in picked:  # the ticks survive the rerun: code them again
        at.checkbox(key=f"search_pick_{segment_id}").check()
    at.run()
    at.button(key="search_apply").click()
    at = at.run()
    assert "Coded 0 segments with" in texts(at.success) and "(2 carried it already)" in texts(at.success)


def test_errors_are_shown_not_raised(monkeypatch, demo: DemoProject) -> None:
    at = search(open_app(monkeypatch, demo.project.path, "search"), "-carers")
    assert not at.exception and "E1120" in texts(at.error) and "nothing to search for" in texts(at.error)


def test_meaning_search_with_the_projects_model_swapped_for_the_fake(
    monkeypatch, demo: DemoProject, fake_embedder
) -> None:
    """The real model is slow to load in a test: the page's embedder is the fake the coders' tests use."""
    import narratives.ui.common as common

    monkeypatch.setattr(common, "embedder", lambda name: fake_embedder)
    at = search(
        open_app(monkeypatch, demo.project.path, "search"), "The carers change every week.", mode="meaning"
    )
    assert not at.exception, [e.value for e in at.exception]
    with demo.project.begin() as connection:
        from narratives.analysis.search import build_semantic_index

        index = build_semantic_index(connection, fake_embedder, "sentence")
        expected = semantic_search(
            connection,
            "The carers change every week.",
            index,
            fake_embedder,
            SearchFilters(codebook=CODEBOOK),
        )
    assert shown_segments(at) == [hit.segment_id for hit in expected.hits]
    assert "sentence segments compared" in texts(at.markdown)
