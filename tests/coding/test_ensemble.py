"""The ensemble: fixed weights without reviews, stacking and per-code thresholds with them."""

from __future__ import annotations

import numpy as np
import pytest

from narratives.coding.base import CoderOutput, LabelledExamples
from narratives.coding.ensemble import EnsembleCoder, best_f1_threshold, sentences_of
from narratives.coding.learned import LearnedCoder
from narratives.coding.phrase import PhraseCoder
from narratives.coding.similarity import SimilarityCoder
from narratives.schema import Code, Codebook
from tests.coding.test_learned import MONEY, WAITING


def codebook() -> Codebook:
    return Codebook(
        name="t",
        codes=[
            Code(
                id="waiting",
                name="Waiting",
                definition="Delays before care.",
                phrases=["waiting list"],
                examples=["we waited months"],
            ),
            Code(id="money", name="Money", definition="Costs and budgets.", examples=["the budget was cut"]),
        ],
    )


def reviewed(embedder) -> LabelledExamples:
    texts = WAITING + MONEY + ["lovely staff", "kind people", "nice room", "good food"]
    labels = [{"waiting"}] * 8 + [{"money"}] * 8 + [set()] * 4
    rejected = [{"money"}] * 8 + [{"waiting"}] * 8 + [{"waiting", "money"}] * 4
    return LabelledExamples(texts, embedder.encode(texts), labels, rejected)


def test_best_f1_threshold_on_a_hand_made_case() -> None:
    probs = np.array([0.9, 0.8, 0.4, 0.3, 0.2])
    truth = np.array([1, 1, 1, 0, 0])
    threshold, f1 = best_f1_threshold(probs, truth, np.array([0.25, 0.35, 0.5, 0.85]))
    assert threshold == 0.35 and f1 == 1.0


def test_without_reviews_uses_fixed_weights_and_global_threshold(fake_embedder) -> None:
    ensemble = EnsembleCoder([PhraseCoder(), SimilarityCoder()], threshold=0.4).fit(codebook(), fake_embedder)
    assert ensemble.mode_ == "fixed weights"
    assert set(ensemble.thresholds_.values()) == {0.4}
    texts = ["on the waiting list", "zebra quartz"]
    output = ensemble.predict(texts, fake_embedder.encode(texts))
    decided = ensemble.decide(output)
    assert decided[0] == ["waiting"] and decided[1] == []
    assert output.evidence[(0, 0)].kind == "phrase"


def test_with_reviews_stacks_and_chooses_thresholds(fake_embedder) -> None:
    coders = [PhraseCoder(), SimilarityCoder(), LearnedCoder(use_codebook_examples=False)]
    ensemble = EnsembleCoder(coders, min_reviewed=10).fit(codebook(), fake_embedder, reviewed(fake_embedder))
    assert ensemble.mode_ == "stacked"
    assert all(0.1 <= t <= 0.9 for t in ensemble.thresholds_.values())
    config = ensemble.get_config()
    assert "calibration" in config and config["thresholds"] == ensemble.thresholds_
    texts = ["we waited months again", "the budget and charges", "zebra quartz"]
    decided = ensemble.decide(ensemble.predict(texts, fake_embedder.encode(texts)))
    assert "waiting" in decided[0] and "money" in decided[1] and decided[2] == []


def test_thresholds_shrink_toward_the_global_one(fake_embedder) -> None:
    coders = [SimilarityCoder(), LearnedCoder(use_codebook_examples=False)]
    loose = EnsembleCoder(coders, min_reviewed=10, shrinkage=0.0).fit(
        codebook(), fake_embedder, reviewed(fake_embedder)
    )
    coders = [SimilarityCoder(), LearnedCoder(use_codebook_examples=False)]
    tight = EnsembleCoder(coders, min_reviewed=10, shrinkage=1e9).fit(
        codebook(), fake_embedder, reviewed(fake_embedder)
    )
    assert all(abs(t - tight.global_threshold_) < 1e-3 for t in tight.thresholds_.values())
    assert loose.global_threshold_ == tight.global_threshold_


def test_best_code_is_mapped_onto_its_threshold_and_further_codes_need_the_floor(fake_embedder) -> None:
    ensemble = EnsembleCoder([PhraseCoder(), SimilarityCoder()], top_threshold=0.2, extra_threshold=0.5)
    ensemble.fit(codebook(), fake_embedder)
    ensemble.thresholds_ = {"waiting": 0.6, "money": 0.6}
    scores = np.array([[0.3, 0.1], [0.1, 0.05], [0.7, 0.65], [0.4, 0.35]], dtype=np.float32)
    lifted = ensemble._lift_best(scores)
    # [0.2, 1] -> [0.6, 1]: the best code passes its threshold and keeps its place in the order
    assert lifted[0].tolist() == pytest.approx([0.65, 0.1])  # best code passes 0.2: mapped
    assert lifted[1].tolist() == pytest.approx([0.1, 0.05])  # below 0.2: no code applies
    assert lifted[2].tolist() == pytest.approx([0.85, 0.65])  # both pass on their own
    assert lifted[3].tolist() == pytest.approx([0.7, 0.35])  # the runner-up stays below its threshold
    output = CoderOutput("ensemble", "1", ["waiting", "money"], lifted)
    assert ensemble.decide(output) == [["waiting"], [], ["waiting", "money"], ["waiting"]]


def test_stacked_thresholds_never_fall_below_the_extra_floor(fake_embedder) -> None:
    coders = [SimilarityCoder(), LearnedCoder(use_codebook_examples=False)]
    ensemble = EnsembleCoder(coders, min_reviewed=10, extra_threshold=0.55)
    ensemble.fit(codebook(), fake_embedder, reviewed(fake_embedder))
    assert all(t >= 0.55 for t in ensemble.thresholds_.values())


def test_sentences_of_splits_only_texts_with_two_or_more_sentences() -> None:
    assert sentences_of("The nurses were kind. We waited for six hours!") == [
        "The nurses were kind.",
        "We waited for six hours!",
    ]
    assert sentences_of("One sentence only.") == []
    assert sentences_of("Good. The parking was awful and expensive.") == []  # short pieces are dropped


def test_sentence_pooling_keeps_each_codes_best_sentence(fake_embedder) -> None:
    text = "The budget was cut again this year. Then we were left on the waiting list."
    parts = sentences_of(text)
    pooled = EnsembleCoder([PhraseCoder(), SimilarityCoder()], top_threshold=None).fit(
        codebook(), fake_embedder
    )
    whole = EnsembleCoder([PhraseCoder(), SimilarityCoder()], top_threshold=None, sentence_pooling=False).fit(
        codebook(), fake_embedder
    )
    each = whole.predict([text, *parts], fake_embedder.encode([text, *parts])).scores
    scores = pooled.predict([text], fake_embedder.encode([text])).scores
    assert np.allclose(scores[0], each.max(axis=0), atol=1e-6)
    assert pooled.get_config()["sentence_pooling"] is True


def test_sentence_pooling_is_off_when_stacked(fake_embedder) -> None:
    coders = [PhraseCoder(), SimilarityCoder(), LearnedCoder(use_codebook_examples=False)]
    ensemble = EnsembleCoder(coders, min_reviewed=10).fit(codebook(), fake_embedder, reviewed(fake_embedder))
    assert ensemble.mode_ == "stacked"
    texts = ["The budget was cut again this year. Then we were left on the waiting list."]
    vectors = fake_embedder.encode(texts)
    encoded = fake_embedder.encoded
    ensemble.predict(texts, vectors)
    assert fake_embedder.encoded == encoded  # no sentence was embedded


def test_sentence_pooling_evidence_points_into_the_whole_text(fake_embedder) -> None:
    text = "The staff were all very kind to us. Then we sat on the waiting list for a year."
    ensemble = EnsembleCoder([PhraseCoder(), SimilarityCoder()]).fit(codebook(), fake_embedder)
    output = ensemble.predict([text], fake_embedder.encode([text]))
    ev = output.evidence[(0, 0)]
    assert ev.kind == "phrase" and text[ev.start : ev.end].lower() == "waiting list"
