"""The passage coder: long segments coded from their sentences, learned from whole-segment reviews
(multiple-instance learning), with the deciding sentence as the evidence."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from narratives.coding.base import LabelledExamples
from narratives.coding.config import CodingConfig
from narratives.coding.ensemble import EnsembleCoder
from narratives.coding.learned import LearnedCoder
from narratives.coding.passages import PassageCoder, long_segments, passage_spans
from narratives.coding.phrase import PhraseCoder
from narratives.coding.runner import code_project
from narratives.coding.similarity import SimilarityCoder
from narratives.coding.training import reviewed_set
from narratives.schema import Decision, SegmentUnit
from narratives.store.project import Project
from narratives.store.segments import load_segments
from narratives.store.tables import coding_runs, suggestions
from tests.builders.project import ProjectBuilder
from tests.builders.stories import Story, add_stories, review_whole, stories
from tests.builders.themes import THEMES, FakeEmbedder, make_codebook

CODES = list(THEMES)


def examples_of(told: list[Story], embedder: FakeEmbedder, **extra: list) -> LabelledExamples:
    """Each story reviewed whole: its theme accepted, every other code rejected."""
    return LabelledExamples(
        texts=[s.text for s in told],
        embeddings=embedder.encode([s.text for s in told]),
        labels=[{s.theme} for s in told],
        rejected=[set(CODES) - {s.theme} for s in told],
        **extra,
    )


def test_passages_are_the_sentences_or_the_whole_text() -> None:
    text = "  I waited six months. Nobody rang back at all.  "
    spans = passage_spans(text)
    assert [text[a:b] for a, b in spans] == ["I waited six months.", "Nobody rang back at all."]
    assert passage_spans("  One short answer here  ") == [(2, 23)]
    assert long_segments([s.text for s in stories(8)]) and not long_segments(["One sentence only."] * 8)


def test_learns_from_whole_story_reviews_and_shows_the_sentence_that_decides() -> None:
    embedder = FakeEmbedder()
    coder = PassageCoder(use_codebook_examples=False).fit(
        make_codebook(), embedder, examples_of(stories(24, 1), embedder)
    )
    assert coder.fitted_codes_ == CODES and not coder.skipped_codes_
    unseen = stories(12, seed=2)
    output = coder.predict([s.text for s in unseen], embedder.encode([s.text for s in unseen]))
    right = [CODES[int(np.argmax(row))] == s.theme for row, s in zip(output.scores, unseen, strict=True)]
    assert sum(right) >= 9  # each story's best code is mostly its theme
    shown = 0
    for i, story in enumerate(unseen):
        j = CODES.index(story.theme)
        if output.scores[i, j] >= 0.5:
            evidence = output.evidence[(i, j)]
            assert evidence.kind == "passage"
            assert (evidence.start, evidence.end) == (story.start, story.end)
            assert story.text[evidence.start : evidence.end] == evidence.text
            shown += 1
    assert shown >= 9
    # out-of-fold: every reviewed story has a score from a model that did not see it
    assert not np.isnan(coder.oof_scores_).any() and coder.oof_scores_.shape == (24, len(CODES))


def test_a_hand_coded_passage_decides_which_sentence_carries_the_code() -> None:
    """Every 'waiting' story also holds the same unrelated sentence; only a hand-coded span says
    which of the two sentences carries the code."""
    embedder = FakeEmbedder()
    decoy = "The garden at the home has roses."
    told = []
    for story in stories(24, seed=3):
        if story.theme == "waiting":
            story = Story(story.text + " " + decoy, story.theme, story.start, story.end)
        told.append(story)
    spans = [{"waiting": [(s.start, s.end)]} if s.theme == "waiting" else {} for s in told]
    waiting, garden = "We are still on the waiting list for a care package.", decoy
    probes = embedder.encode([waiting, garden])

    def margin(coder: PassageCoder) -> float:
        scores = coder.predict([waiting, garden], probes).column("waiting")
        return float(scores[0] - scores[1])

    book = make_codebook()
    guided = PassageCoder(use_codebook_examples=False).fit(
        book, embedder, examples_of(told, embedder, spans=spans)
    )
    unguided = PassageCoder(use_codebook_examples=False).fit(book, embedder, examples_of(told, embedder))
    assert margin(guided) > 0.2
    assert margin(guided) > margin(unguided)


def test_the_ensemble_stacks_the_passage_coder_out_of_fold() -> None:
    embedder = FakeEmbedder()
    told = stories(32, seed=4)
    coders = [PhraseCoder(), SimilarityCoder(), LearnedCoder(), PassageCoder()]
    ensemble = EnsembleCoder(coders).fit(make_codebook(), embedder, examples_of(told, embedder))
    config = ensemble.get_config()
    assert config["mode"] == "stacked" and "passage_logit" in config["calibration"]
    assert ensemble.features[-2:] == ("passage_logit", "passage_fitted")
    unseen = stories(12, seed=5)
    texts = [s.text for s in unseen]
    # the passages it will score are what a run embeds beforehand
    assert set(ensemble.sentences_to_encode(texts)) >= {s.text[s.start : s.end] for s in unseen}
    output = ensemble.predict(texts, embedder.encode(texts))
    decided = ensemble.decide(output)
    assert sum(s.theme in codes for s, codes in zip(unseen, decided, strict=True)) >= 9
    passages = [ev for ev in output.evidence.values() if ev.kind == "passage"]
    assert passages and all(
        texts[i][ev.start : ev.end] == ev.text
        for (i, _), ev in output.evidence.items()
        if ev.kind == "passage"
    )


# ------------------------------------------------------------------------------ in a project


@pytest.fixture
def story_project(tmp_project: Project) -> tuple[Project, list[Story], dict[str, int]]:
    told = stories(40, seed=6)
    return tmp_project, told, add_stories(tmp_project, told)


def test_a_run_on_long_segments_codes_them_from_their_passages(story_project) -> None:
    project, told, ids = story_project
    code_project(project, make_codebook(), embedder=FakeEmbedder(), user="ana", unit=SegmentUnit.response)
    review_whole(project, told[:24], ids)
    result = code_project(
        project, make_codebook(), embedder=FakeEmbedder(), user="ana", unit=SegmentUnit.response
    )
    assert result.run_id is not None
    with project.connect() as connection:
        run = connection.execute(select(coding_runs).where(coding_runs.c.id == result.run_id)).one()
        rows = connection.execute(
            select(suggestions).where(suggestions.c.run_id == result.run_id, suggestions.c.current.is_(True))
        ).all()
    assert "passage" in [c["coder"] for c in run.config["coders"]]  # "auto": these segments are long
    by_text = {s.text: s for s in told[24:]}
    text_of = {segment_id: text for text, segment_id in ids.items()}
    exact = 0
    for row in rows:
        story = by_text.get(text_of[row.segment_id])
        if story is None or row.code_id != story.theme or row.evidence_start is None:
            continue
        assert story.text[row.evidence_start : row.evidence_end] == row.evidence
        exact += (row.evidence_start, row.evidence_end) == (story.start, story.end)
    assert exact >= 10  # the theme sentence is what the reviewer is shown, for most unseen stories


def test_auto_leaves_the_passage_coder_out_of_short_segments(themed_project: Project) -> None:
    from tests.builders.themes import FakeEmbedder as Fake

    result = code_project(themed_project, make_codebook(), embedder=Fake(), user="ana")
    forced = code_project(
        themed_project, make_codebook(), embedder=Fake(), user="ana", config=CodingConfig(passages="on")
    )
    with themed_project.connect() as connection:
        configs = dict(connection.execute(select(coding_runs.c.id, coding_runs.c.config)).all())
    assert "passage" not in [c["coder"] for c in configs[result.run_id]["coders"]]
    assert "passage" in [c["coder"] for c in configs[forced.run_id]["coders"]]


def test_a_decision_on_a_passage_counts_for_its_story(story_project) -> None:
    project, told, ids = story_project
    story, other = told[0], told[1]
    sentence = story.text[story.start : story.end]
    with project.begin() as connection:
        build = ProjectBuilder(connection, codebook="test-book")
        build.store_codebook(make_codebook())
        sentence_id = next(
            int(s.id or 0) for s in load_segments(connection, unit=SegmentUnit.sentence) if s.text == sentence
        )
        build.review(sentence_id, story.theme, Decision.accept, user="ana")  # a sentence of story 0
        # a span of story 1 coded by hand (document offsets; the story starts at 0)
        build.review(ids[other.text], other.theme, Decision.add, user="ana", start=other.start, end=other.end)
    found = reviewed_set(project, "test-book", SegmentUnit.response)
    story_id, other_id = ids[story.text], ids[other.text]
    assert story.theme in found.accepted[story_id] and story_id in found.ids
    assert found.spans[story_id][story.theme] == [(story.start, story.end)]
    assert found.spans[other_id][other.theme] == [(other.start, other.end)]
    # without the unit nothing is lifted: the sentence is a reviewed text of its own
    plain = reviewed_set(project, "test-book")
    assert story_id not in plain.ids and sentence_id in plain.ids
