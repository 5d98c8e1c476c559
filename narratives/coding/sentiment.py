"""The sentiment of a segment: positive, mixed (or neutral) or negative.

A multinomial logistic regression on the segment's embedding beside word TF-IDF (unigrams and
bigrams), classes balanced, learned from the 3,871 NHS Friends-and-Family comments that carry a
human ``sentiment_1to5`` rating (shipped as ``narratives/data/sentiment_nhs_fft.csv``: 1-2 positive,
3 mixed, 4-5 negative; MIT, see ``NOTICE-sentiment.txt``) and from reviewers' corrections in the
project, each correction counting :data:`CORRECTION_WEIGHT` times. The vectors of the shipped comments
are cached per model outside the project (``~/.cache/narratives/embeddings``), so they are embedded
once per machine. Held-out macro-F1 is in the README (``python evals/sentiment.py``).
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from narratives.kinds import SENTIMENTS

LABELS = SENTIMENTS
VERSION = "1"
CORRECTION_WEIGHT = 3.0
TRAINING_FILE = "sentiment_nhs_fft.csv"
DATA = Path(__file__).parent.parent / "data"


def label_of_rating(rating: float) -> str:
    """A 1-5 rating of the NHS data (1 very positive, 5 very negative) as one of :data:`LABELS`."""
    return "positive" if rating <= 2 else "negative" if rating >= 4 else "mixed"


def shipped_training_set() -> tuple[list[str], list[str]]:
    """The shipped comments and their labels."""
    with (DATA / TRAINING_FILE).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [row["text"] for row in rows], [row["sentiment"] for row in rows]


@dataclass
class SentimentModel:
    """Embeddings + TF-IDF -> :data:`LABELS`; ``fit`` then ``predict_proba`` (columns in LABELS order)."""

    C: float = 1.0
    seed: int = 0

    def fit(
        self,
        texts: Sequence[str],
        embeddings: np.ndarray,
        labels: Sequence[str],
        weights: Sequence[float] | None = None,
    ) -> SentimentModel:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        unknown = set(labels) - set(LABELS)
        if unknown:
            raise ValueError(f"unknown sentiment labels: {sorted(unknown)}")
        self.vectorizer_ = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        words = self.vectorizer_.fit_transform(list(texts))
        self.classifier_ = LogisticRegression(
            C=self.C, max_iter=2000, class_weight="balanced", random_state=self.seed
        )
        self.classifier_.fit(self._features(embeddings, words), np.array(labels), sample_weight=weights)
        self.n_examples_ = len(texts)
        return self

    def _features(self, embeddings: np.ndarray, words: Any) -> Any:
        from scipy.sparse import csr_matrix, hstack

        return hstack([csr_matrix(np.asarray(embeddings, dtype=np.float64)), words]).tocsr()

    def predict_proba(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, len(LABELS)))
        words = self.vectorizer_.transform(list(texts))
        probabilities = self.classifier_.predict_proba(self._features(embeddings, words))
        order = [list(self.classifier_.classes_).index(label) for label in LABELS]
        return np.asarray(probabilities[:, order])

    def predict(self, texts: Sequence[str], embeddings: np.ndarray) -> list[str]:
        return [LABELS[k] for k in self.predict_proba(texts, embeddings).argmax(axis=1)]


def corrections_digest(corrections: Sequence[tuple[str, str]]) -> str:
    """A short hash of the (text, label) corrections a model learned from (recorded with each result)."""
    digest = hashlib.sha256()
    for text, label in sorted(corrections):
        digest.update(f"{label}\x00{text}\x00".encode())
    return digest.hexdigest()[:16]


def train_sentiment(
    encode_shipped: Callable[[Sequence[str]], np.ndarray],
    encode_corrections: Callable[[Sequence[str]], np.ndarray] | None = None,
    corrections: Sequence[tuple[str, str]] = (),
    seed: int = 0,
) -> SentimentModel:
    """A model learned from the shipped comments (embedded by ``encode_shipped``) and ``corrections``
    ((text, label) pairs from a project, embedded by ``encode_corrections``: the project's own cache)."""
    texts, labels = shipped_training_set()
    vectors = np.asarray(encode_shipped(texts), dtype=np.float32)
    if corrections:
        extra = [text for text, _ in corrections]
        extra_vectors = np.asarray((encode_corrections or encode_shipped)(extra), dtype=np.float32)
        vectors = np.vstack([vectors, extra_vectors])
        texts = [*texts, *extra]
        labels = [*labels, *(label for _, label in corrections)]
    weights = [1.0] * (len(texts) - len(corrections)) + [CORRECTION_WEIGHT] * len(corrections)
    return SentimentModel(seed=seed).fit(texts, vectors, labels, weights)
