"""The similarity coder: prototypes, near-miss suppression and "no code applies"."""

from __future__ import annotations

import numpy as np

from narratives.coding.similarity import SimilarityCoder
from narratives.schema import Code, Codebook


def codebook(near_misses: list[str] | None = None) -> Codebook:
    return Codebook(
        name="t",
        codes=[
            Code(id="theme", name="Theme", definition="A parent theme."),
            Code(
                id="waiting",
                name="Waiting times",
                parent="theme",
                definition="Delays before care starts.",
                examples=["we waited months for an assessment", "the waiting list was long"],
                near_misses=near_misses or [],
            ),
            Code(
                id="money",
                name="Money",
                parent="theme",
                definition="Costs of care and budgets.",
                examples=["the personal budget was cut", "care charges went up"],
            ),
        ],
    )


def score(coder: SimilarityCoder, embedder, texts: list[str]) -> np.ndarray:
    return coder.predict(texts, embedder.encode(texts)).scores


def test_scores_leaf_codes_and_ranks_the_right_code_first(fake_embedder) -> None:
    coder = SimilarityCoder(floor=0.2).fit(codebook(), fake_embedder)
    assert coder.code_ids_ == ["waiting", "money"]
    scores = score(coder, fake_embedder, ["we waited months for the assessment", "the budget was cut"])
    assert scores[0, 0] > scores[0, 1]
    assert scores[1, 1] > scores[1, 0]
    assert ((scores >= 0) & (scores <= 1)).all()


def test_evidence_is_the_closest_example(fake_embedder) -> None:
    coder = SimilarityCoder(floor=0.2).fit(codebook(), fake_embedder)
    texts = ["the waiting list was long again"]
    output = coder.predict(texts, fake_embedder.encode(texts))
    assert output.evidence[(0, 0)].text == "the waiting list was long"
    assert output.evidence[(0, 0)].kind == "example"


def test_near_miss_suppresses_a_code(fake_embedder) -> None:
    text = ["we waited at the bus stop for the bus"]
    plain = SimilarityCoder(floor=0.2).fit(codebook(), fake_embedder)
    guarded = SimilarityCoder(floor=0.2).fit(codebook(["waited at the bus stop"]), fake_embedder)
    assert score(guarded, fake_embedder, text)[0, 0] < score(plain, fake_embedder, text)[0, 0]


def test_no_code_applies_to_unrelated_text(fake_embedder) -> None:
    coder = SimilarityCoder().fit(codebook(), fake_embedder)
    assert score(coder, fake_embedder, ["zebra xylophone quartz"]).max() < 0.5


def test_definitions_only_uses_no_examples(fake_embedder) -> None:
    coder = SimilarityCoder(use_examples=False).fit(codebook(), fake_embedder)
    assert "example" not in coder.prototypes_.kinds
    assert coder.get_config()["use_examples"] is False
