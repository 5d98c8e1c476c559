"""The learned coder: one small classifier per code, trained on reviewed examples.

Features are the segment embedding and TF-IDF word and character n-grams of the text. For each code,
positives are the texts a reviewer accepted it for (plus, optionally, the codebook's examples);
negatives are the texts it was rejected for and, with ``other_weight``, texts carrying other codes.
Codes with too few examples are skipped and listed in ``skipped_codes_``. Each fitted code gets a
model card (examples used, date, cross-validated F1, model). Out-of-fold scores on the reviewed
examples (``oof_scores_``) let the ensemble calibrate without touching the data twice.
The coder pickles with joblib; the runner saves it with its cards.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from narratives.coding.base import CoderOutput, Evidence, LabelledExamples, coder_config
from narratives.coding.char_ngrams import CharNgramCounter, fast_path_applies
from narratives.coding.similarity import codebook_examples, codes_to_score
from narratives.embed import Embedder
from narratives.schema import Codebook

logger = logging.getLogger(__name__)


class _Training:
    """Texts, embeddings and per-text accepted/rejected codes, reviewed ones first."""

    def __init__(
        self, texts: list[str], vectors: np.ndarray, labels: list[set[str]], rejected: list[set[str]]
    ):
        self.texts, self.vectors, self.labels, self.rejected = texts, vectors, labels, rejected


class LearnedCoder:
    """Per-code logistic regression on embeddings plus TF-IDF n-grams.

    ``C`` is the inverse regularisation; ``min_positives``/``min_negatives`` the fewest examples a
    code needs; ``other_weight`` the weight of texts coded with other codes as negatives;
    ``use_codebook_examples`` adds each code's examples as positives (and its near misses as
    negatives); ``tfidf_weight`` scales the n-gram block against the embedding block (0 turns it off).
    ``class_weight="auto"`` balances classes only when there are no reviewed examples (codebook
    examples alone say nothing about how common a code is); reviewed data keeps its frequencies.
    """

    name = "learned"
    version = "1"

    def __init__(
        self,
        C: float = 4.0,
        min_positives: int = 3,
        min_negatives: int = 3,
        other_weight: float = 0.5,
        use_codebook_examples: bool = True,
        tfidf_weight: float = 1.0,
        cv_folds: int = 5,
        random_state: int = 0,
        class_weight: str | None = "auto",
    ):
        self.C = C
        self.min_positives = min_positives
        self.min_negatives = min_negatives
        self.other_weight = other_weight
        self.use_codebook_examples = use_codebook_examples
        self.tfidf_weight = tfidf_weight
        self.cv_folds = cv_folds
        self.random_state = random_state
        self.class_weight = class_weight

    def get_config(self) -> dict:
        return coder_config(self)

    # ------------------------------------------------------------------------------------ fitting

    def fit(
        self, codebook: Codebook, embedder: Embedder, examples: LabelledExamples | None = None
    ) -> LearnedCoder:
        self.code_ids_ = [code.id for code in codes_to_score(codebook)]
        self.model_ = embedder.name
        data = self._training_data(codebook, embedder, examples)
        self.n_reviewed_ = len(examples) if examples is not None else 0
        self.class_weight_ = self.class_weight
        if self.class_weight == "auto":
            self.class_weight_ = None if self.n_reviewed_ else "balanced"
        self._fit_vectorizers(data.texts)
        features = self._features(data.texts, data.vectors)
        self.estimators_: dict[str, LogisticRegression] = {}
        self.stacked_: tuple[np.ndarray, np.ndarray] | None = None
        self.positives_: dict[str, np.ndarray] = {}
        self.skipped_codes_: dict[str, str] = {}
        self.model_cards_: dict[str, dict] = {}
        self.oof_scores_ = np.full((self.n_reviewed_, len(self.code_ids_)), np.nan, dtype=np.float32)
        self.training_texts_, self.training_vectors_ = data.texts, data.vectors
        for j, code_id in enumerate(self.code_ids_):
            self._fit_code(j, code_id, data, features)
        logger.info(
            "learned coder: %d codes fitted, %d skipped", len(self.estimators_), len(self.skipped_codes_)
        )
        return self

    def _training_data(
        self, codebook: Codebook, embedder: Embedder, examples: LabelledExamples | None
    ) -> _Training:
        texts, labels, rejected = [], [], []
        vectors = [np.zeros((0, embedder.dim), dtype=np.float32)]
        if examples is not None and len(examples):
            texts += list(examples.texts)
            labels += [set(x) for x in examples.labels]
            rejected += [set(x) for x in examples.rejected]
            vectors.append(np.asarray(examples.embeddings, dtype=np.float32))
        if self.use_codebook_examples:
            extra, extra_labels, extra_rejected = codebook_examples(codebook)
            if extra:
                texts += extra
                labels += extra_labels
                rejected += extra_rejected
                vectors.append(embedder.encode(extra))
        return _Training(texts, np.vstack(vectors), labels, rejected)

    def _targets(self, code_id: str, data: _Training) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows used for this code, their 0/1 targets and sample weights."""
        rows, targets, weights = [], [], []
        for i, (accepted, rejected) in enumerate(zip(data.labels, data.rejected, strict=True)):
            if code_id in accepted:
                rows.append(i)
                targets.append(1)
                weights.append(1.0)
            elif code_id in rejected:
                rows.append(i)
                targets.append(0)
                weights.append(1.0)
            elif accepted and self.other_weight > 0:
                rows.append(i)
                targets.append(0)
                weights.append(self.other_weight)
        return np.array(rows, dtype=int), np.array(targets, dtype=int), np.array(weights, dtype=float)

    def _fit_code(self, j: int, code_id: str, data: _Training, features: sparse.csr_matrix) -> None:
        rows, y, weights = self._targets(code_id, data)
        n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
        if n_pos < self.min_positives or n_neg < self.min_negatives:
            self.skipped_codes_[code_id] = f"{n_pos} positive and {n_neg} negative examples"
            return
        X = features[rows]
        self.estimators_[code_id] = self._estimator(X.shape).fit(X, y, sample_weight=weights)
        self.positives_[code_id] = rows[y == 1]
        cv_f1 = self._out_of_fold(j, rows, X, y, weights)
        self.model_cards_[code_id] = {
            "code_id": code_id,
            "n_positive": n_pos,
            "n_negative": n_neg,
            "n_reviewed_positive": int(sum(1 for r in rows[y == 1] if r < self.n_reviewed_)),
            "cv_f1": cv_f1,
            "model": self.model_,
            "features": "embedding" + (" + tfidf word/char n-grams" if self.tfidf_weight else ""),
            "estimator": f"LogisticRegression(C={self.C}, class_weight={self.class_weight_})",
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }

    def _out_of_fold(
        self, j: int, rows: np.ndarray, X: sparse.csr_matrix, y: np.ndarray, w: np.ndarray
    ) -> float | None:
        """Cross-validated probabilities on the reviewed rows; returns their F1 at 0.5."""
        folds = min(self.cv_folds, int(y.sum()), int(len(y) - y.sum()))
        if folds < 2:
            return None
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        oof = np.zeros(len(y), dtype=np.float32)
        for train, test in splitter.split(X, y):
            oof[test] = (
                self._estimator(X.shape)
                .fit(X[train], y[train], sample_weight=w[train])
                .predict_proba(X[test])[:, 1]
            )
        reviewed = rows < self.n_reviewed_
        self.oof_scores_[rows[reviewed], j] = oof[reviewed]
        hard = (oof >= 0.5) & reviewed
        tp, fp, fn = (
            int((hard & (y == 1)).sum()),
            int((hard & (y == 0)).sum()),
            int((~hard & (y == 1) & reviewed).sum()),
        )
        return round(2 * tp / (2 * tp + fp + fn), 4) if (2 * tp + fp + fn) else None

    def _estimator(self, shape: tuple[int, int]) -> LogisticRegression:
        """liblinear's dual solver when there are fewer examples than features (the usual case with
        n-grams): the same optimum, about ten times faster on a few hundred reviews (fits differ by
        under 1e-4 in probability). Seeded: liblinear's order of examples is random, and an unseeded
        fit moves the sixth decimal of its scores from one run to the next."""
        return LogisticRegression(
            C=self.C,
            class_weight=self.class_weight_,
            max_iter=2000,
            solver="liblinear",
            dual=shape[0] < shape[1],
            random_state=self.random_state,  # liblinear visits examples in a random order
        )

    # ----------------------------------------------------------------------------------- features

    def _fit_vectorizers(self, texts: list[str]) -> None:
        self.vectorizers_: list[TfidfVectorizer] = []
        self.transforms_: list[Any] | None = None
        if not self.tfidf_weight or not texts:
            return
        for analyzer, ngrams in (("word", (1, 2)), ("char_wb", (2, 5))):
            vectorizer = TfidfVectorizer(
                analyzer=analyzer, ngram_range=ngrams, min_df=2, sublinear_tf=True, lowercase=True
            )
            try:
                self.vectorizers_.append(vectorizer.fit(texts))
            except ValueError:  # too few texts for min_df: no vocabulary
                continue

    def _features(self, texts: Sequence[str], embeddings: np.ndarray) -> sparse.csr_matrix:
        blocks = [sparse.csr_matrix(np.asarray(embeddings, dtype=np.float64))]
        blocks += [transform(texts) * self.tfidf_weight for transform in self._transforms()]
        return sparse.hstack(blocks, format="csr")

    def _transforms(self) -> list[Any]:
        """Each vectorizer's transform; the char_wb one through a memo of words' n-grams (the same
        matrix, :mod:`narratives.coding.char_ngrams`)."""
        made = getattr(self, "transforms_", None)
        if made is None or len(made) != len(self.vectorizers_):
            made = [
                CharNgramCounter(v).transform if fast_path_applies(v) else v.transform
                for v in self.vectorizers_
            ]
            self.transforms_ = made
        return made

    # --------------------------------------------------------------------------------- predicting

    def predict(self, texts: Sequence[str], embeddings: np.ndarray) -> CoderOutput:
        scores = np.zeros((len(texts), len(self.code_ids_)), dtype=np.float32)
        evidence: dict[tuple[int, int], Evidence] = {}
        columns = [j for j, code_id in enumerate(self.code_ids_) if code_id in self.estimators_]
        if len(texts) and columns:
            weights, intercepts = self._stacked_estimators(columns)
            # every code's logistic regression in one product: predict_proba's expit(X w + b) per code
            decision = np.asarray(self._features(texts, embeddings) @ weights) + intercepts
            scores[:, columns] = expit(decision)
        if len(texts):
            evidence = self._evidence(np.asarray(embeddings, dtype=np.float32), scores)
        return CoderOutput(self.name, self.version, list(self.code_ids_), scores, evidence, self.get_config())

    def _stacked_estimators(self, columns: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """The fitted codes' coefficients as one (features x codes) matrix and their intercepts,
        made once after fitting."""
        stacked = getattr(self, "stacked_", None)
        if stacked is None:
            chosen = [self.estimators_[self.code_ids_[j]] for j in columns]
            stacked = (
                np.column_stack([estimator.coef_[0] for estimator in chosen]),
                np.array([estimator.intercept_[0] for estimator in chosen]),
            )
            self.stacked_ = stacked
        return stacked

    def _evidence(self, embeddings: np.ndarray, scores: np.ndarray) -> dict[tuple[int, int], Evidence]:
        """The nearest accepted training example, for cells scoring at least 0.5."""
        found: dict[tuple[int, int], Evidence] = {}
        for j, code_id in enumerate(self.code_ids_):
            rows = np.flatnonzero(scores[:, j] >= 0.5)
            if not len(rows) or code_id not in self.positives_:
                continue
            positives = self.positives_[code_id]
            sims = embeddings[rows] @ self.training_vectors_[positives].T
            for i, best, sim in zip(rows, sims.argmax(axis=1), sims.max(axis=1), strict=True):
                found[(int(i), j)] = Evidence(
                    self.training_texts_[positives[best]], "example", score=float(sim)
                )
        return found

    def __getstate__(self) -> dict:
        # made again when needed: from the estimators, and with an empty memo of words
        return {**self.__dict__, "stacked_": None, "transforms_": None}

    @property
    def fitted_codes_(self) -> list[str]:
        return [code_id for code_id in self.code_ids_ if code_id in self.estimators_]
