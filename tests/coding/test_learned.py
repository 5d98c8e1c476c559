"""The learned coder: learns from examples, skips thin codes, writes model cards, pickles."""

from __future__ import annotations

import io
import pickle

import joblib
import numpy as np
import pytest

from narratives.coding.base import LabelledExamples
from narratives.coding.learned import LearnedCoder
from narratives.schema import Code, Codebook

WAITING = [
    "we waited months",
    "the wait was long",
    "waiting list for weeks",
    "we waited and waited",
    "a long wait for help",
    "still waiting for a visit",
    "months of waiting",
    "the wait went on",
]
MONEY = [
    "the budget was cut",
    "charges went up",
    "money for care ran out",
    "the budget is too small",
    "costs of care rose",
    "we pay charges",
    "budget reductions hurt",
    "care costs money",
]


def codebook() -> Codebook:
    return Codebook(
        name="t",
        codes=[
            Code(id="waiting", name="Waiting", definition="Delays."),
            Code(id="money", name="Money", definition="Costs."),
            Code(id="rare", name="Rare", definition="Hardly ever seen."),
        ],
    )


def examples(embedder, n: int) -> LabelledExamples:
    texts = WAITING[:n] + MONEY[:n]
    labels = [{"waiting"}] * len(WAITING[:n]) + [{"money"}] * len(MONEY[:n])
    return LabelledExamples(texts, embedder.encode(texts), labels, [{"money"}] * n + [{"waiting"}] * n)


def accuracy(coder: LearnedCoder, embedder) -> float:
    tests = ["waiting for weeks again", "the charges and costs", "long wait", "money is short"]
    truth = np.array([0, 1, 0, 1])
    scores = coder.predict(tests, embedder.encode(tests)).scores[:, :2]
    return float((scores.argmax(axis=1) == truth).mean())


def test_learned_coder_improves_with_examples(fake_embedder) -> None:
    few = LearnedCoder(use_codebook_examples=False, min_positives=2).fit(
        codebook(), fake_embedder, examples(fake_embedder, 2)
    )
    many = LearnedCoder(use_codebook_examples=False).fit(
        codebook(), fake_embedder, examples(fake_embedder, 8)
    )
    assert accuracy(many, fake_embedder) >= accuracy(few, fake_embedder)
    assert accuracy(many, fake_embedder) == 1.0


def test_thin_codes_are_skipped_and_cards_written(fake_embedder) -> None:
    coder = LearnedCoder(use_codebook_examples=False).fit(
        codebook(), fake_embedder, examples(fake_embedder, 8)
    )
    assert set(coder.fitted_codes_) == {"waiting", "money"}
    assert "rare" in coder.skipped_codes_
    card = coder.model_cards_["waiting"]
    assert card["n_positive"] == 8 and card["n_negative"] == 8
    assert card["model"] == fake_embedder.name and card["date"] and card["cv_f1"] is not None
    assert not np.isnan(coder.oof_scores_[:, 0]).any()


def test_evidence_is_nearest_accepted_example_and_coder_pickles(fake_embedder) -> None:
    coder = LearnedCoder(use_codebook_examples=False).fit(
        codebook(), fake_embedder, examples(fake_embedder, 8)
    )
    buffer = io.BytesIO()
    joblib.dump(coder, buffer)
    again = joblib.load(io.BytesIO(buffer.getvalue()))
    texts = ["we waited months again"]
    output = again.predict(texts, fake_embedder.encode(texts))
    assert output.scores[0, 0] > 0.5
    assert output.evidence[(0, 0)].text in WAITING


def test_codebook_examples_alone_train_a_coder(fake_embedder) -> None:
    book = codebook()
    book.codes[0].examples = WAITING[:4]
    book.codes[1].examples = MONEY[:4]
    coder = LearnedCoder().fit(book, fake_embedder, None)
    assert set(coder.fitted_codes_) == {"waiting", "money"}


def test_fits_are_reproducible_whatever_numpy_global_state(fake_embedder) -> None:
    """liblinear visits examples in a random order: the coder seeds it, so two fits score alike to
    the last bit, whatever has drawn from numpy's global generator in between; the one product over
    every code gives each estimator's own predict_proba."""
    texts = ["the wait for care was long", "charges went up again", "nothing happened at all"]
    vectors = fake_embedder.encode(texts)
    first = LearnedCoder().fit(codebook(), fake_embedder, examples(fake_embedder, 8))
    np.random.seed(1234)
    np.random.random(17)
    second = LearnedCoder().fit(codebook(), fake_embedder, examples(fake_embedder, 8))
    scores = first.predict(texts, vectors).scores
    assert np.array_equal(scores, second.predict(texts, vectors).scores)
    features = first._features(texts, vectors)
    for j, code_id in enumerate(first.code_ids_):
        if code_id in first.estimators_:
            own = first.estimators_[code_id].predict_proba(features)[:, 1].astype(np.float32)
            assert np.array_equal(scores[:, j], own)
    assert first.fitted_codes_ == ["waiting", "money"]


CHAR_TEXTS = [
    "We waited months for the assessment, and waited again.",
    "",
    "   ",
    "İstanbul ÇAĞ café naïve 🙂",
    "tab\tseparated\n\nlines  and   spaces",
    "a",
    "the carers the carers the carers",
]


@pytest.mark.parametrize("texts", [CHAR_TEXTS, CHAR_TEXTS[1:3], CHAR_TEXTS[:1]])
def test_char_ngram_counter_gives_the_vectorizers_own_matrix(texts: list[str]) -> None:
    """Entry by entry the char_wb TfidfVectorizer's transform, with an empty memo and a full one."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from narratives.coding.char_ngrams import CharNgramCounter, fast_path_applies

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=1, sublinear_tf=True)
    vectorizer.fit(WAITING + MONEY + CHAR_TEXTS[:1])
    assert fast_path_applies(vectorizer)
    counter = CharNgramCounter(vectorizer)
    expected = vectorizer.transform(texts)
    for _ in range(2):
        got = counter.transform(texts)
        assert got.shape == expected.shape and got.dtype == expected.dtype
        assert np.array_equal(got.indptr, expected.indptr)
        assert np.array_equal(got.indices, expected.indices)
        assert np.array_equal(got.data, expected.data)
    assert not fast_path_applies(TfidfVectorizer(analyzer="char").fit(WAITING))


def test_learned_coder_uses_the_memo_and_pickles_without_it(fake_embedder) -> None:
    coder = LearnedCoder().fit(codebook(), fake_embedder, examples(fake_embedder, 8))
    texts = ["the wait for care was long", "charges went up again"]
    scores = coder.predict(texts, fake_embedder.encode(texts)).scores
    counters = [t.__self__ for t in coder.transforms_ if hasattr(t.__self__, "columns")]
    assert len(counters) == 1 and "wait" in counters[0].columns
    copy = pickle.loads(pickle.dumps(coder))
    assert copy.transforms_ is None
    assert np.array_equal(copy.predict(texts, fake_embedder.encode(texts)).scores, scores)
