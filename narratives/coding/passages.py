"""The passage coder: codes a long segment from its passages, learning from whole-segment reviews.

A reviewer codes a whole interview turn, blog post or story, but each code lives in a few sentences
of it, and one embedding of the whole text blurs them (and a transformer reads only its first 256
word pieces). This coder splits every text into passages (its sentences, see
:func:`narratives.coding.sentences.sentence_spans`; a text of one sentence is one passage) and keeps,
per code, a logistic regression on passage embeddings trained by multiple-instance learning:

- a segment a reviewer accepted a code for is a positive *bag*: at least one of its passages carries
  the code, but which one is not said; a segment the code was rejected for (or that was coded with
  other codes only, at ``other_weight``) is a negative bag: none of its passages carries it;
- the first model takes every passage of a positive bag as a positive, weighted by one over the
  bag's size; each further round (``rounds``) keeps as positives only the passage of each positive
  bag the model scores highest (MI-SVM's witness; Andrews et al. 2003), and trains again;
- a passage a reviewer coded by hand (a hand-coded span inside the segment,
  :attr:`~narratives.coding.base.LabelledExamples.spans`) is a known positive: it is always a witness
  of its bag, and its segment counts as accepted (the decision on a passage counts for its story);
- the codebook's examples (short texts) are bags of one known passage, its near misses negatives.

A segment scores its best passage's probability, and that passage is the evidence shown to the
reviewer (with its offsets in the segment). Out-of-fold scores on the reviewed segments
(``oof_scores_``, bags split in ``cv_folds``) let the ensemble stack this coder with the others
without scoring it on what it trained on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from narratives.coding.base import CoderOutput, Evidence, LabelledExamples, coder_config
from narratives.coding.sentences import sentence_spans
from narratives.coding.similarity import codebook_examples, codes_to_score
from narratives.embed import Embedder
from narratives.schema import Codebook

logger = logging.getLogger(__name__)

# A cell's best passage is kept as its evidence from this probability: low enough that a reviewer
# checking an uncertain suggestion also sees the sentence it rests on.
EVIDENCE_FROM = 0.2


def passage_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of the passages of ``text``: its sentences, or the whole (trimmed) text when it
    has fewer than two."""
    spans = sentence_spans(text)
    if spans:
        return spans
    left = len(text) - len(text.lstrip())
    return [(left, max(left, len(text.rstrip())))]


def long_segments(texts: Sequence[str], share: float = 0.25, sentences: int = 3) -> bool:
    """Whether at least ``share`` of ``texts`` hold ``sentences`` or more sentences: segments a
    single embedding blurs, which the passage coder is for (``passages = "auto"``)."""
    if not texts:
        return False
    long = sum(1 for text in texts if len(sentence_spans(text)) >= sentences)
    return long >= share * len(texts)


def overlaps(span: tuple[int, int], others: Sequence[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


@dataclass
class _Passages:
    """Every passage of a list of texts: which text it is of, where it sits, and its vector."""

    owners: np.ndarray  # int, the text each passage is of
    spans: list[tuple[int, int]]
    vectors: np.ndarray
    n_texts: int

    @classmethod
    def of(cls, texts: Sequence[str], embedder: Embedder) -> _Passages:
        owners: list[int] = []
        spans: list[tuple[int, int]] = []
        pieces: list[str] = []
        for i, text in enumerate(texts):
            for start, end in passage_spans(text):
                owners.append(i)
                spans.append((start, end))
                pieces.append(text[start:end])
        vectors = (
            np.asarray(embedder.encode(pieces), dtype=np.float32)
            if pieces
            else np.zeros((0, embedder.dim), dtype=np.float32)
        )
        return cls(np.array(owners, dtype=int), spans, vectors, len(texts))

    def of_text(self) -> list[np.ndarray]:
        """For each text, the positions of its passages."""
        count = self.n_texts
        order = np.argsort(self.owners, kind="stable")
        bounds = np.searchsorted(self.owners[order], np.arange(count + 1))
        return [order[bounds[i] : bounds[i + 1]] for i in range(count)]


@dataclass
class _Bag:
    passages: np.ndarray  # positions in the training passages
    positive: bool
    weight: float
    known: np.ndarray  # positions of passages known to carry the code (hand-coded, codebook example)
    reviewed: int | None  # the reviewed text it is, or None for a codebook example


class PassageCoder:
    """Per-code logistic regression on passage embeddings, trained by multiple-instance learning on
    segment-level reviews; see the module doc. ``C`` is the inverse regularisation, ``rounds`` how
    many times the witnesses are chosen again, ``min_positives``/``min_negatives`` the fewest bags a
    code needs, ``other_weight`` the weight of bags coded only with other codes."""

    name = "passage"
    version = "1"

    def __init__(
        self,
        C: float = 1.0,
        rounds: int = 2,
        min_positives: int = 3,
        min_negatives: int = 3,
        other_weight: float = 0.5,
        use_codebook_examples: bool = True,
        cv_folds: int = 3,
        random_state: int = 0,
    ):
        self.C = C
        self.rounds = rounds
        self.min_positives = min_positives
        self.min_negatives = min_negatives
        self.other_weight = other_weight
        self.use_codebook_examples = use_codebook_examples
        self.cv_folds = cv_folds
        self.random_state = random_state

    def get_config(self) -> dict:
        return coder_config(self)

    # ------------------------------------------------------------------------------------ fitting

    def fit(
        self, codebook: Codebook, embedder: Embedder, examples: LabelledExamples | None = None
    ) -> PassageCoder:
        self.code_ids_ = [code.id for code in codes_to_score(codebook)]
        self.model_ = embedder.name
        self.embedder_: Embedder | None = embedder
        self.n_reviewed_ = len(examples) if examples is not None else 0
        self.weights_ = np.zeros((embedder.dim, len(self.code_ids_)), dtype=np.float32)
        self.intercepts_ = np.zeros(len(self.code_ids_), dtype=np.float32)
        self.fitted_codes_: list[str] = []
        self.skipped_codes_: dict[str, str] = {}
        self.oof_scores_ = np.full((self.n_reviewed_, len(self.code_ids_)), np.nan, dtype=np.float32)
        texts, labels, rejected, spans = self._training_texts(codebook, examples)
        if not texts:
            return self
        passages = _Passages.of(texts, embedder)
        by_text = passages.of_text()
        for j, code_id in enumerate(self.code_ids_):
            bags = self._bags(code_id, texts, labels, rejected, spans, passages, by_text)
            n_pos = sum(bag.positive for bag in bags if bag.reviewed is not None)
            n_neg = sum(not bag.positive for bag in bags)
            if sum(bag.positive for bag in bags) < self.min_positives or n_neg < self.min_negatives:
                self.skipped_codes_[code_id] = f"{n_pos} positive and {n_neg} negative segments"
                continue
            estimator = self._fit_bags(bags, passages.vectors)
            self.weights_[:, j] = estimator.coef_[0]
            self.intercepts_[j] = estimator.intercept_[0]
            self.fitted_codes_.append(code_id)
            self._out_of_fold(j, bags, passages.vectors)
        logger.info(
            "passage coder: %d codes fitted on %d passages of %d texts, %d skipped",
            len(self.fitted_codes_),
            len(passages.spans),
            len(texts),
            len(self.skipped_codes_),
        )
        return self

    def _training_texts(
        self, codebook: Codebook, examples: LabelledExamples | None
    ) -> tuple[list[str], list[set[str]], list[set[str]], list[dict[str, list[tuple[int, int]]]]]:
        """Reviewed texts first, then the codebook's examples and near misses."""
        texts: list[str] = []
        labels: list[set[str]] = []
        rejected: list[set[str]] = []
        spans: list[dict[str, list[tuple[int, int]]]] = []
        if examples is not None:
            texts += list(examples.texts)
            labels += [set(x) for x in examples.labels]
            rejected += [set(x) for x in examples.rejected]
            spans += [dict(x) for x in examples.spans]
        if self.use_codebook_examples:
            extra, extra_labels, extra_rejected = codebook_examples(codebook)
            texts += extra
            labels += extra_labels
            rejected += extra_rejected
            # an example is one known passage of its code; a near miss knows none
            spans += [
                {c: [(0, len(text))] for c in codes} for text, codes in zip(extra, extra_labels, strict=True)
            ]
        return texts, labels, rejected, spans

    def _bags(
        self,
        code_id: str,
        texts: list[str],
        labels: list[set[str]],
        rejected: list[set[str]],
        spans: list[dict[str, list[tuple[int, int]]]],
        passages: _Passages,
        by_text: list[np.ndarray],
    ) -> list[_Bag]:
        bags = []
        for i in range(len(texts)):
            known_spans = spans[i].get(code_id, [])
            positive = code_id in labels[i] or bool(known_spans)
            if positive or code_id in rejected[i]:
                weight = 1.0
            elif labels[i] and self.other_weight > 0:
                weight = self.other_weight
            else:
                continue
            rows = by_text[i]
            known = np.array(
                [p for p in rows if overlaps(passages.spans[p], known_spans)] if positive else [], dtype=int
            )
            reviewed = i if i < self.n_reviewed_ else None
            bags.append(_Bag(rows, positive, weight, known, reviewed))
        return bags

    def _estimator(self) -> LogisticRegression:
        return LogisticRegression(C=self.C, class_weight="balanced", max_iter=1000)

    def _fit_bags(self, bags: Sequence[_Bag], vectors: np.ndarray) -> LogisticRegression:
        """MI-SVM-style rounds (see the module doc), on the bags given; each round's fit starts from
        the one before (its problem is convex: the same optimum, in fewer iterations)."""
        negatives = [bag for bag in bags if not bag.positive]
        positives = [bag for bag in bags if bag.positive]
        neg_rows = np.concatenate([bag.passages for bag in negatives])
        neg_weights = np.concatenate([np.full(len(bag.passages), bag.weight) for bag in negatives])
        witnesses = [bag.known if len(bag.known) else bag.passages for bag in positives]
        estimator = self._estimator()
        estimator.warm_start = True
        for round_ in range(self.rounds + 1):
            pos_rows = np.concatenate(witnesses)
            pos_weights = np.concatenate(
                [np.full(len(w), bag.weight / len(w)) for w, bag in zip(witnesses, positives, strict=True)]
            )
            X = vectors[np.concatenate([pos_rows, neg_rows])]
            y = np.r_[np.ones(len(pos_rows)), np.zeros(len(neg_rows))]
            estimator.fit(X, y, sample_weight=np.r_[pos_weights, neg_weights])
            if round_ == self.rounds:
                break
            decision = vectors @ estimator.coef_[0] + estimator.intercept_[0]
            witnesses = [
                bag.known if len(bag.known) else bag.passages[[int(np.argmax(decision[bag.passages]))]]
                for bag in positives
            ]
        return estimator

    def _out_of_fold(self, j: int, bags: list[_Bag], vectors: np.ndarray) -> None:
        """Scores of the reviewed bags from models that did not see them (codebook examples always train)."""
        reviewed = [b for b, bag in enumerate(bags) if bag.reviewed is not None]
        y = np.array([bags[b].positive for b in reviewed], dtype=int)
        folds = min(self.cv_folds, int(y.sum()), int(len(y) - y.sum()))
        if folds < 2:
            return
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
        fixed = [bag for bag in bags if bag.reviewed is None]
        for train, test in splitter.split(np.zeros(len(y)), y):
            chosen = fixed + [bags[reviewed[t]] for t in train]
            if sum(b.positive for b in chosen) < 1 or all(b.positive for b in chosen):
                continue
            estimator = self._fit_bags(chosen, vectors)
            for t in test:
                bag = bags[reviewed[t]]
                best = float(np.max(vectors[bag.passages] @ estimator.coef_[0]) + estimator.intercept_[0])
                self.oof_scores_[bag.reviewed, j] = float(expit(best))

    # --------------------------------------------------------------------------------- predicting

    def passages_to_encode(self, texts: Sequence[str]) -> list[str]:
        """The passages :meth:`predict` embeds for ``texts``, so a run can embed them beforehand."""
        return [text[start:end] for text in texts for start, end in passage_spans(text)]

    def predict(self, texts: Sequence[str], embeddings: np.ndarray) -> CoderOutput:
        scores = np.zeros((len(texts), len(self.code_ids_)), dtype=np.float32)
        evidence: dict[tuple[int, int], Evidence] = {}
        embedder = self.embedder_
        if not len(texts) or not self.fitted_codes_ or embedder is None:
            return CoderOutput(
                self.name, self.version, list(self.code_ids_), scores, evidence, self.get_config()
            )
        passages = _Passages.of(texts, embedder)
        probability = expit(passages.vectors @ self.weights_ + self.intercepts_)
        fitted = [j for j, code_id in enumerate(self.code_ids_) if code_id in self.fitted_codes_]
        for i, rows in enumerate(passages.of_text()):
            if not len(rows):
                continue
            best = rows[np.argmax(probability[rows][:, fitted], axis=0)]
            for j, p in zip(fitted, best, strict=True):
                scores[i, j] = probability[p, j]
                if probability[p, j] >= EVIDENCE_FROM and len(rows) > 1:
                    start, end = passages.spans[p]
                    evidence[(i, j)] = Evidence(
                        texts[i][start:end], "passage", start, end, float(probability[p, j])
                    )
        return CoderOutput(self.name, self.version, list(self.code_ids_), scores, evidence, self.get_config())
