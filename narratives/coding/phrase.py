"""The phrase coder: a code applies where one of its phrases or patterns occurs.

Phrases match on lower-cased lemmas (spaCy ``PhraseMatcher(attr="LEMMA")`` over the blank English
pipeline with the lookup lemmatizer), so the phrase "wait" finds "waited" and "Waiting". Patterns are
the codebook's regular expressions, matched case-insensitively. Evidence is the matched span, with
offsets into the segment text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from narratives.coding.base import CoderOutput, Evidence, LabelledExamples
from narratives.embed import Embedder
from narratives.schema import Codebook

logger = logging.getLogger(__name__)


class PhraseCoder:
    """Scores ``score`` for one match of a code's phrases or patterns, ``+ per_extra`` per further one.

    ``fit`` needs only the codebook; the embedder and examples are accepted and ignored.
    """

    name = "phrase"
    version = "1"

    def __init__(self, score: float = 0.9, per_extra: float = 0.03, max_score: float = 0.99):
        self.score = score
        self.per_extra = per_extra
        self.max_score = max_score

    def get_config(self) -> dict:
        return {
            "coder": self.name,
            "version": self.version,
            "score": self.score,
            "per_extra": self.per_extra,
            "max_score": self.max_score,
            "match": "lower-cased lemma (spaCy PhraseMatcher, lookup lemmatizer) + regex (ignore case)",
        }

    def fit(
        self, codebook: Codebook, embedder: Embedder | None = None, examples: LabelledExamples | None = None
    ) -> PhraseCoder:
        codes = codebook.active_codes
        self.code_ids_ = [code.id for code in codes]
        self.phrases_ = {code.id: [p for p in code.phrases if p.strip()] for code in codes}
        self.patterns_ = {
            code.id: [re.compile(p, re.IGNORECASE) for p in code.patterns if p] for code in codes
        }
        self._matcher: Any = None
        return self

    # -------------------------------------------------------------------------------- matching

    def _build_matcher(self) -> Any:
        from spacy.matcher import PhraseMatcher

        from narratives.segment.nlp import load_pipeline

        nlp = load_pipeline()
        matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        for code_id, phrases in self.phrases_.items():
            if phrases:
                matcher.add(code_id, list(nlp.pipe([phrase.lower() for phrase in phrases])))
        return nlp, matcher

    def _spans(self, texts: Sequence[str]) -> list[list[tuple[str, int, int]]]:
        """(code id, start, end) of every phrase and pattern match in each text."""
        if getattr(self, "_matcher", None) is None:
            self._matcher = self._build_matcher()
        nlp, matcher = self._matcher
        # Lower-casing keeps offsets only when it keeps the length ("İ" does not): fall back then.
        lowered = [t.lower() if len(t.lower()) == len(t) else t for t in texts]
        found: list[list[tuple[str, int, int]]] = []
        for text, doc in zip(texts, nlp.pipe(lowered), strict=True):
            spans = []
            for match_id, start, end in matcher(doc):
                span = doc[start:end]
                spans.append((nlp.vocab.strings[match_id], span.start_char, span.end_char))
            for code_id, patterns in self.patterns_.items():
                for pattern in patterns:
                    spans.extend(
                        (code_id, m.start(), m.end()) for m in pattern.finditer(text) if m.end() > m.start()
                    )
            found.append(spans)
        return found

    def predict(self, texts: Sequence[str], embeddings: np.ndarray | None = None) -> CoderOutput:
        column = {code_id: j for j, code_id in enumerate(self.code_ids_)}
        scores = np.zeros((len(texts), len(self.code_ids_)), dtype=np.float32)
        evidence: dict[tuple[int, int], Evidence] = {}
        for i, (text, spans) in enumerate(zip(texts, self._spans(texts), strict=True)):
            by_code: dict[str, list[tuple[int, int]]] = {}
            for code_id, start, end in spans:
                by_code.setdefault(code_id, []).append((start, end))
            for code_id, places in by_code.items():
                j = column[code_id]
                score = min(self.max_score, self.score + self.per_extra * (len(set(places)) - 1))
                scores[i, j] = score
                start, end = min(places)
                kind = "phrase" if self._is_phrase(code_id, text[start:end]) else "pattern"
                evidence[(i, j)] = Evidence(text[start:end], kind, start, end, score)
        return CoderOutput(self.name, self.version, list(self.code_ids_), scores, evidence, self.get_config())

    def _is_phrase(self, code_id: str, matched: str) -> bool:
        return not any(p.fullmatch(matched) for p in self.patterns_.get(code_id, []))

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_matcher": None}
