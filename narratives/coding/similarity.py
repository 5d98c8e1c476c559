"""The similarity coder (zero-shot): a code applies where a segment reads like the code's own words.

Each code's prototypes are embedded once at ``fit``: its name, the sentences of its definition and
its inclusion criteria ("definition" prototypes) and its examples ("example" prototypes); its near
misses and exclusion criteria are negatives. A segment's similarity to a code blends the closest
example with the closest definition sentence, less a penalty when a near miss is closer still.
Similarities become scores in [0, 1] by an absolute gate (a sigmoid around ``floor``, so that "no
code applies" is possible) times a relative one (how close the code comes to the segment's best
code, with ``temperature``), so one segment can carry several codes when they are nearly tied.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from narratives.coding.base import CoderOutput, Evidence, LabelledExamples, coder_config
from narratives.embed import Embedder
from narratives.schema import Code, Codebook

logger = logging.getLogger(__name__)

SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'‘“])")


def definition_sentences(code: Code) -> list[str]:
    """The code's name, plain name, definition sentences and inclusion criteria."""
    sentences = [code.name] + ([code.plain_name] if code.plain_name else [])
    sentences += [s.strip() for s in SENTENCE_END.split(code.definition) if len(s.strip()) > 3]
    sentences += [s for s in code.inclusion if s.strip()]
    return sentences


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


@dataclass
class _Prototypes:
    texts: list[str]
    kinds: list[str]  # "definition" or "example"
    owner: np.ndarray  # column of the code each prototype belongs to
    vectors: np.ndarray


class SimilarityCoder:
    """Zero-shot scores from cosine similarity to each code's definition, criteria and examples.

    ``example_weight`` is the share of the closest example in the blend (the rest is the closest
    definition sentence); ``near_miss_weight`` scales the penalty when a near miss or exclusion
    criterion is closer than every prototype; ``floor`` is the similarity at which the absolute
    gate gives 0.5 and ``scale`` its width; ``temperature`` sets how fast scores fall below the
    segment's best code. ``use_examples=False`` uses definitions and criteria only.
    """

    name = "similarity"
    version = "1"

    def __init__(
        self,
        use_examples: bool = True,
        example_weight: float = 0.6,
        near_miss_weight: float = 1.0,
        floor: float = 0.38,
        scale: float = 0.05,
        temperature: float = 0.04,
        top_k_examples: int = 2,
    ):
        self.use_examples = use_examples
        self.example_weight = example_weight
        self.near_miss_weight = near_miss_weight
        self.floor = floor
        self.scale = scale
        self.temperature = temperature
        self.top_k_examples = top_k_examples

    def get_config(self) -> dict:
        return coder_config(self)

    def fit(
        self, codebook: Codebook, embedder: Embedder, examples: LabelledExamples | None = None
    ) -> SimilarityCoder:
        codes = codes_to_score(codebook)
        self.code_ids_ = [code.id for code in codes]
        self.model_ = embedder.name
        positive_texts, kinds, owners, negative_texts, negative_owners = [], [], [], [], []
        for j, code in enumerate(codes):
            for sentence in definition_sentences(code):
                positive_texts.append(sentence)
                kinds.append("definition")
                owners.append(j)
            for example in code.examples if self.use_examples else []:
                positive_texts.append(example)
                kinds.append("example")
                owners.append(j)
            for negative in [*code.near_misses, *code.exclusion]:
                negative_texts.append(negative)
                negative_owners.append(j)
        vectors = embedder.encode(positive_texts + negative_texts)
        n = len(positive_texts)
        self.prototypes_ = _Prototypes(positive_texts, kinds, np.array(owners, dtype=int), vectors[:n])
        self.negatives_ = _Prototypes(
            negative_texts,
            ["near_miss"] * len(negative_texts),
            np.array(negative_owners, dtype=int),
            vectors[n:],
        )
        logger.info(
            "similarity coder: %d prototypes, %d negatives, %d codes", n, len(negative_texts), len(codes)
        )
        return self

    def similarities(self, embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Blended similarity (texts x codes) and, per cell, the index of the closest prototype."""
        n_codes = len(self.code_ids_)
        protos = self.prototypes_
        sims = embeddings @ protos.vectors.T if len(protos.texts) else np.zeros((len(embeddings), 0))
        blended = np.full((len(embeddings), n_codes), -1.0, dtype=np.float32)
        closest = np.zeros((len(embeddings), n_codes), dtype=int)
        kinds = np.array(protos.kinds)
        for j in range(n_codes):
            mine = protos.owner == j
            definition = np.flatnonzero(mine & (kinds == "definition"))
            example = np.flatnonzero(mine & (kinds == "example"))
            blended[:, j], closest[:, j] = self._blend(sims, definition, example)
        return self._penalise(embeddings, blended, sims), closest

    def _blend(
        self, sims: np.ndarray, definition: np.ndarray, example: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        columns = np.concatenate([definition, example])
        closest = columns[np.argmax(sims[:, columns], axis=1)] if len(columns) else np.zeros(len(sims), int)
        best_definition = sims[:, definition].max(axis=1) if len(definition) else None
        if not len(example):
            return best_definition if best_definition is not None else np.full(len(sims), -1.0), closest
        top = np.sort(sims[:, example], axis=1)[:, -min(self.top_k_examples, len(example)) :]
        best_example = top.mean(axis=1)
        if best_definition is None:
            return best_example, closest
        return self.example_weight * best_example + (1 - self.example_weight) * best_definition, closest

    def _penalise(self, embeddings: np.ndarray, blended: np.ndarray, positive_max: np.ndarray) -> np.ndarray:
        """``blended`` less a penalty where a code's near miss is closer than its prototypes
        (``positive_max``: the similarities to every prototype, already computed)."""
        negatives = self.negatives_
        if not len(negatives.texts) or not self.near_miss_weight:
            return blended
        sims = embeddings @ negatives.vectors.T
        for j in np.unique(negatives.owner):
            closest_negative = sims[:, negatives.owner == j].max(axis=1)
            closest_positive = positive_max[:, self.prototypes_.owner == j].max(axis=1)
            excess = np.maximum(0.0, closest_negative - closest_positive)
            blended[:, j] -= self.near_miss_weight * (excess + (excess > 0) * self.scale * 2)
        return blended

    def scores_from_similarities(self, blended: np.ndarray) -> np.ndarray:
        """Map blended similarities to [0, 1]: absolute gate times closeness to the best code."""
        if blended.size == 0:
            return blended.astype(np.float32)
        absolute = sigmoid((blended - self.floor) / self.scale)
        relative = np.exp((blended - blended.max(axis=1, keepdims=True)) / self.temperature)
        return (absolute * relative).astype(np.float32)

    def predict(self, texts: Sequence[str], embeddings: np.ndarray) -> CoderOutput:
        blended, closest = self.similarities(np.asarray(embeddings, dtype=np.float32))
        scores = self.scores_from_similarities(blended)
        evidence: dict[tuple[int, int], Evidence] = {}
        for i, j in zip(*np.nonzero(scores >= 0.1), strict=True):
            k = int(closest[i, j])
            evidence[(int(i), int(j))] = Evidence(
                self.prototypes_.texts[k], self.prototypes_.kinds[k], score=float(blended[i, j])
            )
        return CoderOutput(self.name, self.version, list(self.code_ids_), scores, evidence, self.get_config())


def codes_to_score(codebook: Codebook) -> list[Code]:
    """Active leaf codes: parents are themes, scored through their sub-codes."""
    parents = {other.parent for other in codebook.codes if not other.retired}
    return [code for code in codebook.active_codes if code.id not in parents]


def codebook_examples(codebook: Codebook) -> tuple[list[str], list[set[str]], list[set[str]]]:
    """The scored codes' examples and near misses as labelled texts, for the coders that learn from
    them: each example accepted for its code, each near miss rejected for it."""
    texts: list[str] = []
    accepted: list[set[str]] = []
    rejected: list[set[str]] = []
    for code in codes_to_score(codebook):
        for example in code.examples:
            texts.append(example)
            accepted.append({code.id})
            rejected.append(set())
        for near_miss in code.near_misses:
            texts.append(near_miss)
            accepted.append(set())
            rejected.append({code.id})
    return texts, accepted, rejected
