"""Texts as spaCy Docs with lemmas, for the phrase coder's ``PhraseMatcher(attr="LEMMA")``.

With the default pipeline (a tokenizer, the sentencizer and a *lookup* lemmatizer) a token's lemma
depends on its text alone, so :func:`lemmatised_docs` looks each distinct token text up once and sets
a whole Doc's lemmas from an array, instead of the lemmatizer's Python call per token: the same
lemmas (the lemmatizer's own rule: the lookup table's entry, else the text itself), about a third of
the time. Any other pipeline (an installed one whose lemmas need part-of-speech tags) runs as it is,
less the components lemmas do not depend on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

NOT_NEEDED = ("sentencizer",)  # sentence boundaries: lemmas never depend on them
LOOKUP_ONLY = {"sentencizer", "lemmatizer"}  # the pipelines the fast path reproduces exactly


def lemmatised_docs(nlp: Any, texts: Iterable[str]) -> Iterator[Any]:
    """A Doc per text, tokenised by ``nlp`` and carrying the lemmas its lemmatizer would give."""
    lemmatizer = _lookup_lemmatizer(nlp)
    if lemmatizer is None:
        yield from nlp.pipe(texts, disable=[name for name in nlp.pipe_names if name in NOT_NEEDED])
        return
    from spacy.attrs import LEMMA, ORTH

    table = lemmatizer.lookups.get_table("lemma_lookup", {})
    strings = nlp.vocab.strings
    lemma_of: dict[int, int] = {}  # token text's hash -> its lemma's hash
    for text in texts:
        doc = nlp.make_doc(text)  # the tokenizer, with the pipeline's max_length check
        orths = doc.to_array(ORTH).tolist()
        lemmas = np.empty(len(orths), dtype=np.uint64)
        for k, orth in enumerate(orths):
            lemma = lemma_of.get(orth)
            if lemma is None:
                lemma = lemma_of[orth] = strings.add(_lookup(table, strings[orth]))
            lemmas[k] = lemma
        if len(orths):
            doc.from_array([LEMMA], lemmas.reshape(-1, 1))
        yield doc


def _lookup(table: Any, text: str) -> str:
    """spaCy's ``Lemmatizer.lookup_lemmatize``: the table's entry for the text, else the text."""
    found = table.get(text, text)
    return found if isinstance(found, str) else found[0]


def _lookup_lemmatizer(nlp: Any) -> Any | None:
    """The pipeline's lemmatizer when it is a lookup one and the pipeline holds nothing else that
    could change a token or its lemma; else None."""
    if "lemmatizer" not in nlp.pipe_names or not set(nlp.pipe_names) <= LOOKUP_ONLY:
        return None
    lemmatizer = nlp.get_pipe("lemmatizer")
    return lemmatizer if getattr(lemmatizer, "mode", None) == "lookup" else None
