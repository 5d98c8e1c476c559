"""The phrase coder: lemma matches, patterns and exact evidence offsets."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from narratives.coding.phrase import PhraseCoder
from narratives.schema import Code, Codebook


def codebook() -> Codebook:
    return Codebook(
        name="t",
        codes=[
            Code(id="waiting", name="Waiting", definition="Delays.", phrases=["wait", "waiting list"]),
            Code(id="money", name="Money", definition="Costs.", patterns=[r"£\d+", r"\bpersonal budgets?\b"]),
        ],
    )


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("We waited six months for a visit.", "waited"),
        ("Waiting is the worst part.", "Waiting"),
        ("Mum’s carer — Sandra — said we’d wait.", "wait"),
        ("She is on the Waiting List still.", "Waiting"),
    ],
)
def test_phrase_evidence_offsets_point_at_the_lemma_match(text: str, matched: str) -> None:
    output = PhraseCoder().fit(codebook()).predict([text])
    evidence = output.evidence[(0, 0)]
    assert evidence.kind == "phrase"
    assert text[evidence.start : evidence.end] == evidence.text
    assert evidence.text.startswith(matched)
    assert output.scores[0, 0] >= 0.9


def test_patterns_match_case_insensitively_with_offsets() -> None:
    text = "Our Personal Budget was cut to £40 a week."
    output = PhraseCoder().fit(codebook()).predict([text])
    evidence = output.evidence[(0, 1)]
    assert evidence.kind == "pattern"
    assert text[evidence.start : evidence.end] == "Personal Budget"
    assert output.scores[0, 1] > 0.9  # two matches score more than one


def test_no_match_scores_zero_and_length_changing_lowercase_falls_back() -> None:
    texts = ["Nothing relevant here.", "İstanbul: we waited."]
    output = PhraseCoder().fit(codebook()).predict(texts)
    assert np.all(output.scores[0] == 0)
    evidence = output.evidence[(1, 0)]
    assert texts[1][evidence.start : evidence.end] == evidence.text


def test_phrase_coder_pickles_and_still_matches() -> None:
    coder = PhraseCoder().fit(codebook())
    coder.predict(["we wait"])
    again = pickle.loads(pickle.dumps(coder))
    assert again.predict(["they waited"]).scores[0, 0] >= 0.9
