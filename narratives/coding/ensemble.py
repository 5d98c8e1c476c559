"""The ensemble: one calibrated probability per (segment, code) from the phrase, similarity and
learned coders, and one threshold per code.

With reviewed examples it stacks: a logistic calibrator pooled across codes (so thin codes borrow
strength from thick ones) maps the coders' scores on the reviewed examples (the learned coder's
out-of-fold scores, never its in-sample ones) to a probability, and each code's threshold maximises
F1 on those examples, shrunk toward the global best threshold by ``shrinkage`` pseudo-positives.
Without reviewed examples it blends the coders with fixed ``weights`` and uses ``threshold``.

Most texts carry one code, so the decision uses label cardinality: a text's best code applies when
its probability reaches the low ``top_threshold`` (below it, no code applies); any further code needs
its own threshold, never less than ``extra_threshold``. Reviewed examples are sampled per code, so
they over-represent multi-coded texts (and hold no uncoded ones): thresholds fitted on them alone
come out too low for further codes, hence the floor. ``predict`` maps a best code that passes
``top_threshold`` onto its code's decision scale, ``[top_threshold, 1] -> [threshold, 1]``
(:func:`best_code_score`), so "score >= threshold" is the decision everywhere the scores are used
(the runner, the review queue, the pages). The map is linear, so it keeps the order of the
probabilities and can be undone (:func:`narratives.review.queue.best_code_probability`, which the
review queue uses to show the probability itself). Version 1 lifted such a code to exactly its
threshold instead, which piled thousands of suggestions on one score (0.50) and made the queue's
uncertainty ranking a tie among them.
The evidence kept for a cell is the strongest contributing coder's.

A long text often raises several matters, one per sentence, and its embedding blurs them: with
``sentence_pooling`` (and the embedder given to ``fit``), a text of two or more sentences also has
each sentence scored, and each code keeps its highest probability over the whole text and its
sentences (max pooling, as in multiple-instance learning). Only without stacking: the calibrator and
thresholds are fitted on whole-text scores, and a maximum over several sentences sits higher than
they expect (measured on NHS FFT at k=25, pooling there cost about 0.01 F1). Sentence segments are
left as they are; the runner and ``evaluate`` take the same path, so response-level units are coded
the same way.

With the passage coder (:mod:`narratives.coding.passages`, added by the runner on long segments) the
stacked ensemble learns from passages too: its out-of-fold best-sentence scores on the reviewed texts
are two more stacking features (:data:`PASSAGE_FEATURES`), and its deciding sentence is the evidence a
cell shows first. Without stacking (too few reviews) it is not asked (no weight in the fixed blend).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from narratives.coding.base import Coder, CoderOutput, Evidence, LabelledExamples
from narratives.coding.learned import LearnedCoder
from narratives.coding.passages import PassageCoder
from narratives.coding.phrase import PhraseCoder
from narratives.coding.sentences import sentence_spans
from narratives.coding.similarity import SimilarityCoder, codes_to_score
from narratives.embed import Embedder
from narratives.schema import Codebook

logger = logging.getLogger(__name__)

DEFAULT_WEIGHTS = {"similarity": 0.25, "learned": 0.75}
FEATURES = ("learned_logit", "learned_fitted", "similarity_logit", "phrase")
LLM_FEATURE = "llm"  # a further stacking feature when the ensemble holds the LLM coder
PASSAGE = "passage"  # the passage coder's name
PASSAGE_FEATURES = ("passage_logit", "passage_fitted")  # further features when the ensemble holds it
THRESHOLD_GRID = np.round(np.arange(0.1, 0.91, 0.025), 3)


def _sentence_pieces(texts: Sequence[str]) -> tuple[list[int], list[int], list[str]]:
    """For the sentences of every text (see :func:`sentence_spans`): the text's position, the
    sentence's start in it, and the sentence."""
    owners, starts, sentences = [], [], []
    for i, text in enumerate(texts):
        for start, end in sentence_spans(text):
            owners.append(i)
            starts.append(start)
            sentences.append(text[start:end])
    return owners, starts, sentences


def sentences_of(text: str, min_chars: int = 15) -> list[str]:
    """The sentences of ``text`` with at least ``min_chars`` characters; [] when there are fewer than two."""
    return [text[start:end] for start, end in sentence_spans(text, min_chars)]


def best_code_score(probability: np.ndarray, threshold: np.ndarray, top: float) -> np.ndarray:
    """A best code's score: ``[top, 1]`` mapped linearly onto ``[threshold, 1]`` where the code's
    threshold is above ``top`` (elsewhere the probability itself). Undone by
    :func:`narratives.review.queue.best_code_probability`."""
    probability = np.asarray(probability, dtype=np.float64)
    threshold = np.broadcast_to(np.asarray(threshold, dtype=np.float64), probability.shape)
    mapped = threshold + (1.0 - threshold) * (probability - top) / max(1.0 - top, 1e-9)
    return np.where(threshold > top, np.maximum(mapped, probability), probability).astype(np.float32)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def best_f1_threshold(
    probs: np.ndarray, truth: np.ndarray, grid: np.ndarray = THRESHOLD_GRID
) -> tuple[float, float]:
    """The threshold on ``grid`` with the highest F1 (the middle one of ties) and that F1."""
    truth = truth.astype(bool)
    f1s = []
    for t in grid:
        guess = probs >= t
        tp, fp, fn = (guess & truth).sum(), (guess & ~truth).sum(), (~guess & truth).sum()
        f1s.append(2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else 0.0)
    f1s_arr = np.array(f1s)
    best = np.flatnonzero(f1s_arr == f1s_arr.max())
    return float(grid[best[len(best) // 2]]), float(f1s_arr.max())


class EnsembleCoder:
    """Combines coders into one calibrated probability per (segment, code); see the module doc.

    ``coders`` defaults to phrase, similarity and learned coders. ``min_reviewed`` is the fewest
    reviewed texts that switch on stacking; ``shrinkage`` is how many positives a code needs before
    its own threshold counts as much as the global one. ``top_threshold`` is the probability a
    text's best code needs (``None`` turns the best-code rule off); ``extra_threshold`` the floor of
    every code's own threshold when stacked. ``weights`` blend the coders without reviews.
    ``sentence_pooling`` max-pools each code over a text's sentences when not stacked.
    """

    name = "ensemble"
    version = "2"  # 2: a best code is mapped onto its threshold's scale, not lifted to the threshold

    def __init__(
        self,
        coders: Sequence[Coder] | None = None,
        weights: dict[str, float] | None = None,
        threshold: float = 0.5,
        min_reviewed: int = 20,
        shrinkage: float = 10.0,
        C: float = 1.0,
        top_threshold: float | None = 0.2,
        extra_threshold: float = 0.5,
        sentence_pooling: bool = True,
    ):
        self.coders: list[Coder] = (
            list(coders) if coders is not None else [PhraseCoder(), SimilarityCoder(), LearnedCoder()]
        )
        self.weights = dict(weights or DEFAULT_WEIGHTS)
        self.threshold = threshold
        self.min_reviewed = min_reviewed
        self.shrinkage = shrinkage
        self.C = C
        self.top_threshold = top_threshold
        self.extra_threshold = extra_threshold
        self.sentence_pooling = sentence_pooling

    def get_config(self) -> dict:
        config: dict[str, Any] = {
            "coder": self.name,
            "version": self.version,
            "weights": self.weights,
            "threshold": self.threshold,
            "min_reviewed": self.min_reviewed,
            "shrinkage": self.shrinkage,
            "C": self.C,
            "top_threshold": self.top_threshold,
            "extra_threshold": self.extra_threshold,
            "sentence_pooling": self.sentence_pooling,
            "coders": [coder.get_config() for coder in self.coders],
        }
        if hasattr(self, "mode_"):
            config |= {
                "mode": self.mode_,
                "thresholds": self.thresholds_,
                "global_threshold": self.global_threshold_,
            }
            if self.calibrator_ is not None:
                coefficients = self.calibrator_.coef_[0].round(4).tolist()
                config["calibration"] = dict(zip(self.features, coefficients, strict=True))
                config["calibration"]["intercept"] = round(float(self.calibrator_.intercept_[0]), 4)
        return config

    @property
    def features(self) -> tuple[str, ...]:
        """The stacking features: :data:`FEATURES`, the LLM coder's score when it is one of the coders,
        and the passage coder's (:data:`PASSAGE_FEATURES`) when it is."""
        extra = (LLM_FEATURE,) if self._has_llm else ()
        return (*FEATURES, *extra, *(PASSAGE_FEATURES if self._passage_coder else ()))

    @property
    def _has_llm(self) -> bool:
        return any(coder.name == LLM_FEATURE for coder in self.coders)

    @property
    def _passage_coder(self) -> PassageCoder | None:
        return next((c for c in self.coders if isinstance(c, PassageCoder)), None)

    @property
    def _uses_passages(self) -> bool:
        """Whether predicting asks the passage coder: it has one, and it is stacked or weighted."""
        return self._passage_coder is not None and (
            getattr(self, "calibrator_", None) is not None or PASSAGE in self.weights
        )

    # ------------------------------------------------------------------------------------ fitting

    def fit(
        self, codebook: Codebook, embedder: Embedder, examples: LabelledExamples | None = None
    ) -> EnsembleCoder:
        self.code_ids_ = [code.id for code in codes_to_score(codebook)]
        self.embedder_: Embedder | None = embedder
        for coder in self.coders:
            coder.fit(codebook, embedder, examples)
        self.calibrator_: LogisticRegression | None = None
        self.global_threshold_ = self.threshold
        self.thresholds_ = dict.fromkeys(self.code_ids_, self.threshold)
        self.mode_ = "fixed weights"
        if examples is not None and len(examples) >= self.min_reviewed:
            self._fit_stacking(examples)
        return self

    def _fit_stacking(self, examples: LabelledExamples) -> None:
        outputs = self._outputs(examples.texts, examples.embeddings, in_sample=True)
        targets = self._targets(examples)
        known = ~np.isnan(targets)
        if len(np.unique(targets[known])) < 2:
            logger.info("ensemble: reviewed examples hold one class only; keeping fixed weights")
            return
        features = self._stack(outputs)
        self.calibrator_ = LogisticRegression(C=self.C, max_iter=1000).fit(features[known], targets[known])
        probs = self.calibrator_.predict_proba(features.reshape(-1, len(self.features)))[:, 1].reshape(
            targets.shape
        )
        self.global_threshold_, _ = best_f1_threshold(probs[known], targets[known])
        for j, code_id in enumerate(self.code_ids_):
            rows = known[:, j]
            positives = int(np.nansum(targets[rows, j]))
            own = (
                best_f1_threshold(probs[rows, j], targets[rows, j])[0]
                if positives
                else self.global_threshold_
            )
            weight = positives / (positives + self.shrinkage)
            shrunk = weight * own + (1 - weight) * self.global_threshold_
            self.thresholds_[code_id] = round(max(shrunk, self.extra_threshold), 4)
        self.mode_ = "stacked"
        logger.info(
            "ensemble: stacked on %d reviewed texts, global threshold %.2f",
            len(examples),
            self.global_threshold_,
        )

    def _targets(self, examples: LabelledExamples) -> np.ndarray:
        """1 accepted, 0 rejected or coded otherwise, NaN unknown; (texts x codes)."""
        targets = np.full((len(examples), len(self.code_ids_)), np.nan)
        for i, (accepted, rejected) in enumerate(zip(examples.labels, examples.rejected, strict=True)):
            for j, code_id in enumerate(self.code_ids_):
                if code_id in accepted:
                    targets[i, j] = 1.0
                elif code_id in rejected or accepted:
                    targets[i, j] = 0.0
        return targets

    # ---------------------------------------------------------------------------------- combining

    def _outputs(
        self, texts: Sequence[str], embeddings: np.ndarray, in_sample: bool = False, sentences: bool = False
    ) -> dict[str, CoderOutput]:
        """Every coder's output, aligned; for ``sentences`` of a text, not the LLM coder's (it codes
        whole segments: asking it about each sentence would multiply the requests)."""
        outputs = {}
        for coder in self.coders:
            if sentences and coder.name in (LLM_FEATURE, PASSAGE):
                continue  # the passage coder pools a text's sentences itself
            if coder.name == PASSAGE and not (in_sample or self._uses_passages):
                continue
            output = coder.predict(texts, embeddings)
            if in_sample and isinstance(coder, LearnedCoder | PassageCoder):
                output.scores = np.nan_to_num(coder.oof_scores_, nan=0.0)
            outputs[coder.name] = self._aligned(output)
        return outputs

    def _aligned(self, output: CoderOutput) -> CoderOutput:
        """The output with columns in this ensemble's code order (0 for codes it does not score)."""
        if output.code_ids == self.code_ids_:
            return output
        scores = np.zeros((output.scores.shape[0], len(self.code_ids_)), dtype=np.float32)
        index = {code_id: j for j, code_id in enumerate(output.code_ids)}
        evidence: dict[tuple[int, int], Evidence] = {}
        for j, code_id in enumerate(self.code_ids_):
            if code_id in index:
                scores[:, j] = output.scores[:, index[code_id]]
                evidence |= {(i, j): ev for (i, k), ev in output.evidence.items() if k == index[code_id]}
        return CoderOutput(
            output.coder, output.version, list(self.code_ids_), scores, evidence, output.config
        )

    def _fitted_mask(self, kind: type = LearnedCoder) -> np.ndarray:
        coder: Any = next((c for c in self.coders if isinstance(c, kind)), None)
        fitted = set(coder.fitted_codes_) if coder is not None else set()
        return np.array([code_id in fitted for code_id in self.code_ids_], dtype=float)

    def _stack(self, outputs: dict[str, CoderOutput]) -> np.ndarray:
        shape = next(iter(outputs.values())).scores.shape if outputs else (0, len(self.code_ids_))
        zeros = np.zeros(shape, dtype=np.float32)
        fitted = np.broadcast_to(self._fitted_mask(), shape)
        learned = outputs["learned"].scores if "learned" in outputs else zeros
        similarity = outputs["similarity"].scores if "similarity" in outputs else zeros
        phrase = outputs["phrase"].scores if "phrase" in outputs else zeros
        columns = [_logit(learned) * fitted, fitted, _logit(similarity), (phrase > 0).astype(float)]
        if self._has_llm:
            columns.append(outputs[LLM_FEATURE].scores if LLM_FEATURE in outputs else zeros)
        if self._passage_coder is not None:
            passage_fitted = np.broadcast_to(self._fitted_mask(PassageCoder), shape)
            passage = outputs[PASSAGE].scores if PASSAGE in outputs else zeros
            columns += [_logit(passage) * passage_fitted, passage_fitted]
        return np.stack(columns, axis=-1)

    def _combine(self, outputs: dict[str, CoderOutput]) -> np.ndarray:
        if self.calibrator_ is not None:
            features = self._stack(outputs)
            flat = self.calibrator_.predict_proba(features.reshape(-1, len(self.features)))[:, 1]
            return flat.reshape(features.shape[:2]).astype(np.float32)
        fitted = self._fitted_mask()
        total = np.zeros_like(next(iter(outputs.values())).scores, dtype=np.float64)
        weight = np.zeros(len(self.code_ids_))
        for name, share in self.weights.items():
            if name in outputs:
                present = fitted if name == "learned" else np.ones(len(self.code_ids_))
                total += share * present * outputs[name].scores
                weight += share * present
        blended = total / np.maximum(weight, 1e-9)
        phrase = outputs["phrase"].scores if "phrase" in outputs else np.zeros_like(blended)
        llm = outputs[LLM_FEATURE].scores if LLM_FEATURE in outputs else np.zeros_like(blended)
        return (1 - (1 - phrase) * (1 - blended) * (1 - llm)).astype(np.float32)

    def predict(self, texts: Sequence[str], embeddings: np.ndarray) -> CoderOutput:
        outputs = self._outputs(texts, embeddings)
        pooled, from_sentences = self._pooled(texts, self._combine(outputs))
        scores = self._lift_best(pooled)
        evidence = self._evidence(outputs, scores)
        evidence |= {cell: ev for cell, ev in from_sentences.items() if scores[cell] >= 0.1}
        return CoderOutput(self.name, self.version, list(self.code_ids_), scores, evidence, self.get_config())

    @property
    def pools_sentences(self) -> bool:
        """Whether predicting scores each sentence too: pooling on, and no stacking (fitted)."""
        return self.sentence_pooling and getattr(self, "calibrator_", None) is None

    def sentences_to_encode(self, texts: Sequence[str]) -> list[str]:
        """The sentences :meth:`predict` will embed for ``texts`` (none unless it pools them), so a
        run can embed them beforehand, all at once, through the cache its embedder reads."""
        sentences = _sentence_pieces(texts)[2] if self.pools_sentences else []
        coder = self._passage_coder
        if coder is not None and self._uses_passages:
            sentences += coder.passages_to_encode(texts)
        return sentences

    def _pooled(
        self, texts: Sequence[str], scores: np.ndarray
    ) -> tuple[np.ndarray, dict[tuple[int, int], Evidence]]:
        """Each code's highest probability over the whole text and its sentences (see the module doc),
        and the evidence of the cells a sentence won, with offsets into the whole text."""
        embedder = getattr(self, "embedder_", None)
        if not self.pools_sentences or embedder is None or not len(texts):
            return scores, {}
        owners, starts, sentences = _sentence_pieces(texts)
        if not sentences:
            return scores, {}
        vectors = np.asarray(embedder.encode(sentences), dtype=np.float32)
        outputs = self._outputs(sentences, vectors, sentences=True)
        per_sentence = self._combine(outputs)
        pooled = scores.copy()
        np.maximum.at(pooled, np.array(owners), per_sentence)
        evidence: dict[tuple[int, int], Evidence] = {}
        sentence_evidence = self._evidence(outputs, per_sentence)
        for (r, j), ev in sentence_evidence.items():
            i = owners[r]
            if (
                per_sentence[r, j] > scores[i, j]
                and per_sentence[r, j] >= pooled[i, j]
                and (i, j) not in evidence
            ):
                shift = starts[r]
                evidence[(i, j)] = replace(
                    ev,
                    start=ev.start + shift if ev.start is not None else None,
                    end=ev.end + shift if ev.end is not None else None,
                )
        return pooled, evidence

    def _lift_best(self, scores: np.ndarray) -> np.ndarray:
        """Map each text's best code onto its code's decision scale when it reaches ``top_threshold``
        (:func:`best_code_score`): it then passes its threshold, and keeps its place in the order."""
        if self.top_threshold is None or not scores.size:
            return scores
        thresholds = np.array([self.thresholds_.get(code_id, self.threshold) for code_id in self.code_ids_])
        rows = np.arange(len(scores))
        best = scores.argmax(axis=1)
        passes = scores[rows, best] >= min(self.top_threshold, self.threshold)
        lifted = scores.copy()
        cells = rows[passes], best[passes]
        lifted[cells] = best_code_score(scores[cells], thresholds[best[passes]], self.top_threshold)
        return lifted

    def _evidence(
        self, outputs: dict[str, CoderOutput], scores: np.ndarray
    ) -> dict[tuple[int, int], Evidence]:
        """Per cell, the evidence of the coder with the highest score that has evidence there; the
        passage that decides comes first (a span of the text, where the code lives)."""
        found: dict[tuple[int, int], Evidence] = {}
        for i, j in zip(*np.nonzero(scores >= 0.1), strict=True):
            cell = (int(i), int(j))
            ranked = sorted(outputs.values(), key=lambda out: (out.coder != PASSAGE, -out.scores[cell]))
            for output in ranked:
                if cell in output.evidence:
                    found[cell] = output.evidence[cell]
                    break
        return found

    def decide(self, output: CoderOutput) -> list[list[str]]:
        """The codes applied to each text: those whose probability reaches the code's threshold."""
        thresholds = np.array([self.thresholds_.get(code_id, self.threshold) for code_id in output.code_ids])
        return [[output.code_ids[j] for j in np.flatnonzero(row >= thresholds)] for row in output.scores]
