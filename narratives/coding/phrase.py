"""The phrase coder: a code applies where one of its phrases or patterns occurs.

Phrases match on lower-cased lemmas (spaCy ``PhraseMatcher(attr="LEMMA")`` over the blank English
pipeline with the lookup lemmatizer), so the phrase "wait" finds "waited" and "Waiting". Patterns are
the codebook's regular expressions, matched case-insensitively with Python's meaning but never on
Python's backtracking engine (:mod:`narratives.coding.patterns`: RE2, or the ``regex`` module with a
time limit per segment); a pattern that fails is skipped and listed in ``problems_``. Evidence is the
matched span, with offsets into the segment text.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from narratives.coding.base import CoderOutput, Evidence, LabelledExamples
from narratives.coding.lemmas import lemmatised_docs
from narratives.coding.patterns import TIMEOUT, PatternIndex, PatternProblem
from narratives.embed import Embedder
from narratives.schema import Codebook

logger = logging.getLogger(__name__)


class PhraseCoder:
    """Scores ``score`` for one match of a code's phrases or patterns, ``+ per_extra`` per further one.

    ``fit`` needs only the codebook; the embedder and examples are accepted and ignored.
    """

    name = "phrase"
    version = "1"

    def __init__(
        self, score: float = 0.9, per_extra: float = 0.03, max_score: float = 0.99, timeout: float = TIMEOUT
    ):
        self.score = score
        self.per_extra = per_extra
        self.max_score = max_score
        self.timeout = timeout

    def get_config(self) -> dict:
        return {
            "coder": self.name,
            "version": self.version,
            "score": self.score,
            "per_extra": self.per_extra,
            "max_score": self.max_score,
            "match": "lower-cased lemma (spaCy PhraseMatcher, lookup lemmatizer) + regex (ignore case)",
            "pattern_engine": f"RE2; else regex module, {self.timeout:g} s per segment",
        }

    def fit(
        self, codebook: Codebook, embedder: Embedder | None = None, examples: LabelledExamples | None = None
    ) -> PhraseCoder:
        codes = codebook.active_codes
        self.code_ids_ = [code.id for code in codes]
        self.phrases_ = {code.id: [p for p in code.phrases if p.strip()] for code in codes}
        self.patterns_ = PatternIndex(
            [(code.id, pattern) for code in codes for pattern in code.patterns if pattern], self.timeout
        )
        self._matcher: Any = None
        return self

    @property
    def problems_(self) -> list[PatternProblem]:
        """Patterns skipped so far: they do not compile, or ran out of time on a segment."""
        return self.patterns_.problems

    # -------------------------------------------------------------------------------- matching

    def _build_matcher(self) -> Any:
        from spacy.matcher import PhraseMatcher

        from narratives.segment.nlp import load_pipeline

        nlp = load_pipeline()
        matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        owners = [code_id for code_id, phrases in self.phrases_.items() for _ in phrases]
        docs = lemmatised_docs(
            nlp, [phrase.lower() for phrases in self.phrases_.values() for phrase in phrases]
        )
        by_code: dict[str, list[Any]] = {}
        for code_id, doc in zip(owners, docs, strict=True):  # one pass of the pipeline for every phrase
            by_code.setdefault(code_id, []).append(doc)
        for code_id, phrase_docs in by_code.items():
            matcher.add(code_id, phrase_docs)
        return nlp, matcher

    def _spans(self, texts: Sequence[str]) -> list[list[tuple[str, int, int, str]]]:
        """(code id, start, end, "phrase" or "pattern") of every match in each text."""
        if getattr(self, "_matcher", None) is None:
            self._matcher = self._build_matcher()
        nlp, matcher = self._matcher
        # Lower-casing keeps offsets only when it keeps the length ("İ" does not): fall back then.
        lowered = [t.lower() if len(t.lower()) == len(t) else t for t in texts]
        found: list[list[tuple[str, int, int, str]]] = []
        for text, doc in zip(texts, lemmatised_docs(nlp, lowered), strict=True):
            spans = []
            for match_id, start, end in matcher(doc):
                span = doc[start:end]
                spans.append((nlp.vocab.strings[match_id], span.start_char, span.end_char, "phrase"))
            spans.extend(
                (code_id, start, end, "pattern") for code_id, start, end in self.patterns_.spans(text)
            )
            found.append(spans)
        return found

    def predict(self, texts: Sequence[str], embeddings: np.ndarray | None = None) -> CoderOutput:
        column = {code_id: j for j, code_id in enumerate(self.code_ids_)}
        scores = np.zeros((len(texts), len(self.code_ids_)), dtype=np.float32)
        evidence: dict[tuple[int, int], Evidence] = {}
        for i, (text, spans) in enumerate(zip(texts, self._spans(texts), strict=True)):
            by_code: dict[str, list[tuple[int, int]]] = {}
            from_patterns: set[tuple[str, int, int]] = set()
            for code_id, start, end, kind in spans:
                by_code.setdefault(code_id, []).append((start, end))
                if kind == "pattern":
                    from_patterns.add((code_id, start, end))
            for code_id, places in by_code.items():
                j = column[code_id]
                score = min(self.max_score, self.score + self.per_extra * (len(set(places)) - 1))
                scores[i, j] = score
                start, end = min(places)
                kind = "pattern" if (code_id, start, end) in from_patterns else "phrase"
                evidence[(i, j)] = Evidence(text[start:end], kind, start, end, score)
        return CoderOutput(self.name, self.version, list(self.code_ids_), scores, evidence, self.get_config())

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_matcher": None}
