"""The interface every coder implements, and the values coders pass around.

A coder learns from a codebook (and, once there are some, from reviewed examples) and then scores
segments: one number in [0, 1] per (segment, code), with the evidence behind the high ones. Coders
take precomputed embeddings so the expensive step runs once (BERTopic, scikit-learn habit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from narratives.embed import Embedder
from narratives.schema import Codebook


@dataclass(frozen=True)
class Evidence:
    """Why a coder suggested a code: a matched span of the segment, or the closest example."""

    text: str
    kind: str  # "phrase", "pattern", "example", "definition", "inclusion", "classifier"
    start: int | None = None  # offsets into the segment text when the evidence is a span of it
    end: int | None = None
    score: float | None = None
    reason: str | None = None  # the coder's own explanation, when it gives one (the LLM coder)


@dataclass
class LabelledExamples:
    """Reviewed examples: texts with their embeddings and, per code, which were accepted/rejected.

    ``labels[i]`` holds the code ids accepted for text i; ``rejected[i]`` the code ids a reviewer
    said do not apply. A text with neither for a code says nothing about that code. ``spans[i]``
    maps a code to the passages of text i (offsets into it) a reviewer coded with it by hand: the
    decision on a passage, which also makes the code accepted for the whole text.
    """

    texts: list[str]
    embeddings: np.ndarray
    labels: list[set[str]]
    rejected: list[set[str]] = field(default_factory=list)
    spans: list[dict[str, list[tuple[int, int]]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.rejected:
            self.rejected = [set() for _ in self.texts]
        if not self.spans:
            self.spans = [{} for _ in self.texts]

    def __len__(self) -> int:
        return len(self.texts)


@dataclass
class CoderOutput:
    """Scores of one coder: ``scores[i, j]`` for text i and ``code_ids[j]``."""

    coder: str
    version: str
    code_ids: list[str]
    scores: np.ndarray
    evidence: dict[tuple[int, int], Evidence] = field(default_factory=dict)
    config: dict = field(default_factory=dict)

    def column(self, code_id: str) -> np.ndarray:
        return self.scores[:, self.code_ids.index(code_id)]


def coder_config(coder: Coder) -> dict:
    """What a coder records as its config: its name and version, the settings it was made with (its
    attributes not ending in ``_``) and the embedding model ``fit`` recorded (``model_``)."""
    settings = {key: value for key, value in vars(coder).items() if not key.endswith("_")}
    return {
        "coder": coder.name,
        "version": coder.version,
        **settings,
        "model": getattr(coder, "model_", None),
    }


class Coder(Protocol):
    """fit() stores what it learned in attributes ending in ``_`` and returns self."""

    name: str
    version: str

    def fit(
        self,
        codebook: Codebook,
        embedder: Embedder,
        examples: LabelledExamples | None = None,
    ) -> Coder: ...

    def predict(self, texts: Sequence[str], embeddings: np.ndarray) -> CoderOutput: ...

    def get_config(self) -> dict: ...
