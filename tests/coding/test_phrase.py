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


LEMMA_TEXTS = [
    "we waited and waited; the carers were busier than ever, feet and mice",
    "Mum's carer - Sandra - said we'd wait... £300 a week!",
    "",
    "   ",
    "assessments, reassessed, re-assessment: still waiting",
    "emoji 🙂 and accents: café, naïve",
]


def test_lemmas_are_the_lookup_lemmatizers_own() -> None:
    """The fast path sets every token the lemma spaCy's lookup lemmatizer gives it (the tokens are
    the tokenizer's), and a pipeline with other components goes through the pipeline itself."""
    import spacy

    from narratives.coding.lemmas import lemmatised_docs
    from narratives.segment.nlp import load_pipeline

    nlp = load_pipeline()
    assert "lemmatizer" in nlp.pipe_names
    fast = list(lemmatised_docs(nlp, [t.lower() for t in LEMMA_TEXTS]))
    slow = list(nlp.pipe([t.lower() for t in LEMMA_TEXTS]))
    assert [[(t.text, t.idx, t.lemma_) for t in d] for d in fast] == [
        [(t.text, t.idx, t.lemma_) for t in d] for d in slow
    ]
    assert [t.lemma_ for t in fast[0]][:4] == ["we", "wait", "and", "wait"]
    assert "mouse" in [t.lemma_ for t in fast[0]]

    other = spacy.blank("en")
    other.add_pipe("sentencizer")
    ruler = other.add_pipe("attribute_ruler")
    ruler.add([[{"LOWER": "carers"}]], {"LEMMA": "CARER"})  # a component the fast path cannot copy
    (doc,) = lemmatised_docs(other, ["the carers came"])
    assert [t.lemma_ for t in doc] == ["", "CARER", ""]
