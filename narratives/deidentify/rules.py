"""The de-identification rules: finding personal details in a text and replacing them.

:func:`find_identifiers` (one text) and :func:`find_identifiers_in` (many, NER in batches) give
spans with exact offsets (``text[start:end] == span.text``) from, in order of precedence:

- patterns for structured identifiers (:mod:`narratives.deidentify.patterns`);
- the project's own names and places (``known_names``, ``known_places``);
- councils, care homes, hospitals and services by name shape, and towns and cities from the shipped
  gazetteers (:mod:`narratives.deidentify.gazetteers`), kinds ``council``, ``organisation``, ``place``;
- people's names: a title and a capitalised word (a short title in any case and a word in any case:
  "mr patel"), a first name from the list with or without a
  surname, capitalised words after a role ("my carer Thandiwe") or before what people do
  ("Ifunanya Obi rang"), a place after living or moving somewhere ("she lives in Eastmere");
- spaCy's NER (:mod:`narratives.deidentify.ner`), PERSON and GPE only, filtered.

Names and places are looked for in a copy of the text with names in lower or upper case
capitalised (:func:`narratives.deidentify.gazetteers.restore_case`), so "sarah" and "DAVID JONES"
are found; the spans always carry the text as written. ``keep`` always wins: no span inside a kept
word or phrase is returned. :func:`pseudonymise` replaces spans with labels or consistent pseudonyms.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from narratives.deidentify import gazetteers, patterns
from narratives.deidentify import ner as ner_module
from narratives.deidentify.patterns import MONTH_ABBR, MONTHS, WEEKDAYS
from narratives.deidentify.patterns import nhs_number_valid as nhs_number_valid  # re-exported

Style = Literal["brackets", "consistent"]
LABELS = {
    "name": "[name]",
    "place": "[place]",
    "council": "[council]",
    "organisation": "[organisation]",
    "address": "[address]",
    "postcode": "[postcode]",
    "phone": "[phone]",
    "email": "[email]",
    "url": "[link]",
    "handle": "[handle]",
    "nhs_number": "[NHS number]",
    "ni_number": "[NI number]",
    "date": "[date]",
}
PSEUDONYM_PREFIX = {"name": "Person", "place": "Place", "council": "Council", "organisation": "Organisation"}
# Lower rank wins an overlap; within a rank the longer span wins.
RANK = {"email": 0, "url": 0, "handle": 1, "phone": 1, "nhs_number": 1, "ni_number": 1, "postcode": 1}
RANK |= {"date": 1, "address": 2, "council": 2, "organisation": 2, "name": 3, "place": 3}

TITLES = {"Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Doctor", "Prof", "Professor", "Sir", "Dame"}
TITLES |= {"Cllr", "Councillor", "Rev", "Revd"}
# Short titles taken in any case ("mr patel", "MR JONES", "Dr okafor"): the word after one is a name
# in any case too, unless it is a word that often follows the title ("the dr said", "dr appointment").
SHORT_TITLES = {"mr", "mrs", "ms", "mx", "dr", "cllr", "revd"}
NOT_AFTER_TITLE = {
    "and", "or", "nor", "but", "so", "then", "the", "a", "an", "to", "of", "in", "on", "at", "from", "with",
    "for", "about", "is", "was", "were", "are", "be", "has", "had", "have", "said", "says", "say", "told",
    "tells", "rang", "rings", "came", "comes", "come", "will", "would", "could", "should", "can", "did",
    "does", "do", "who", "which", "that", "thinks", "thought", "wants", "wanted", "gave", "gives", "sent",
    "saw", "sees", "asked", "asks", "called", "phoned", "wrote", "took", "put", "kept", "isn't", "wasn't",
    "didn't", "doesn't", "won't", "can't", "hasn't", "appointment", "appointments", "appt", "surgery",
    "office", "receptionist", "practice", "letter", "note", "notes", "visit", "visits", "referred",
    "prescribed", "changed", "i", "he", "she", "we", "they", "you", "it", "me", "him", "her", "them", "us",
    "my", "his", "our", "their", "your", "just", "also", "only", "never", "always", "still", "again",
    "today", "yesterday", "tomorrow", "now", "here", "there", "not", "no", "yes", "right", "ok", "okay",
}  # fmt: skip
# Capitalised words that are never a surname (and stop a lone first name before them).
NOT_NAMES = set(MONTHS + WEEKDAYS + MONTH_ABBR) | {
    "The", "A", "An", "And", "But", "Or", "If", "So", "Then", "When", "Is", "Was", "I", "It", "He", "She",
    "We", "They", "You", "My", "Our", "Your", "His", "Her", "Their", "This", "That", "In", "On", "At",
    "To", "For", "From", "Of", "With", "By", "After", "Before", "Because", "Not", "No", "Yes", "Mum", "Dad",
    "Nan", "Nana", "Gran", "Grandad", "Interviewer", "Participant", "Council", "Social", "Worker",
    "Care", "Carer", "Carers", "Nurse", "Doctor", "Manager", "Team", "Trust", "Hospital", "Station",
    "Centre", "Center", "House", "Home", "Court", "Park", "Hall", "School", "College", "University",
    "Surgery", "Practice", "Ward", "Unit", "Service", "Services", "Group", "Network", "Foundation",
    "Society", "Association", "Partnership", "Limited", "Ltd", "Road", "Street", "Lane", "Avenue",
    "Close", "Drive", "Square", "Bridge", "Line", "Allowance", "Act", "Christmas", "Easter", "Covid",
    "Rovers", "United", "City", "Town", "Club", "Cafe", "Café", "Church", "Day", "Night", "Junction",
    "General", "Royal", "Community", "Health", "Board", "Authority", "Office", "Department",
    "Local", "National", "Universal", "Personal", "Independent", "Direct", "Twitter", "Facebook",
    "Age", "Healthwatch", "Instagram", "TikTok", "WhatsApp", "YouTube", "Google", "Zoom", "Skype", "LinkedIn", "Snapchat",
}  # fmt: skip
# First names that are also everyday words: only matched away from the start of a sentence.
AMBIGUOUS = {"Will", "Mark", "Grace", "Hope", "Joy", "Rose", "Jack", "Frank", "Bill", "Pat", "Sue", "Rob"}
AMBIGUOUS |= {
    "Max",
    "Nick",
    "Ray",
    "Dean",
    "Jean",
    "Holly",
    "Amber",
    "Ruby",
    "Jade",
    "Lily",
    "Poppy",
    "Hazel",
}
AMBIGUOUS |= {"Heather", "Violet", "Georgia", "Jordan", "Victoria", "Kay", "Lee", "Val", "Joe", "Des", "Ali"}
# Words before a first name that do not make it part of a place or organisation name ("my Aunt Sue").
KIN = {"Aunt", "Auntie", "Aunty", "Uncle", "Nan", "Nana", "Nanny", "Gran", "Granny", "Grandma", "Grandad"}
KIN |= {"Grandpa", "Cousin", "Mum", "Dad", "Nurse", "Sister", "Brother", "Dear", "Hi", "Hello", "Thanks"}
# What follows an ambiguous first name at the start of a sentence that makes it a person.
_DOES = r"\s(?:said|says|rang|rings|told|came|comes|phoned|texted|asked|helps|helped|visits|visited|does|did"
_DOES += r"|takes|took)\b"
NAME_CUE_AFTER = re.compile(rf",\s(?:my|our|his|her|their|the)\s|{_DOES}")
SENTENCE_BREAK = set(".!?:;\n]–—•*")
OPENERS = set(" \t\"'“‘([-")
SPACES = {" ", "\xa0", "\u202f"}

WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


@dataclass(frozen=True)
class Span:
    """A personal detail found in a text: ``text[start:end]`` of kind ``kind`` (see :data:`LABELS`)."""

    start: int
    end: int
    kind: str
    text: str


@dataclass(frozen=True)
class Replacement:
    """One span as replaced: offsets into the original text, what stood there and what stands now."""

    start: int
    end: int
    kind: str
    original: str
    replacement: str


@dataclass(frozen=True)
class DeidentifiedText:
    text: str
    replacements: list[Replacement] = field(default_factory=list)


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """First names: the project's own list (many origins, short forms) and the US census lists."""
    found: set[str] = set()
    for name in ("first_names.txt", "census_first_names.txt"):
        path = Path(__file__).parent.parent / "data" / name
        lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
        found.update(line for line in lines if line and not line.startswith("#"))
    return frozenset(found)


# ------------------------------------------------------------------------------------------ finding


def _core(word: str) -> str:
    """A word without its possessive: "Kev's" -> "Kev"."""
    return word[:-2] if len(word) > 2 and word[-2:] in ("'s", "’s") else word


def _starts_sentence(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in OPENERS:
        i -= 1
    return i < 0 or text[i] in SENTENCE_BREAK


def _name_like(word: str, keep: frozenset[str]) -> bool:
    """A capitalised word that could be a surname (not a role, month, acronym or stop word)."""
    return (
        word[:1].isupper()
        and not (word.isupper() and len(word) > 1)  # "Mr G" is a name, "NHS" is not
        and word not in NOT_NAMES
        and word not in TITLES
        and word.casefold() not in keep
    )


def _name_spans(text: str, keep: frozenset[str], lone_first_names: bool) -> Iterable[Span]:
    words = [(m.start(), m.start() + len(_core(m.group())), _core(m.group())) for m in WORD.finditer(text)]
    names = first_names()

    def joined(i: int, title: bool = False) -> bool:  # word i+1 follows word i after one space
        if i + 1 >= len(words):
            return False
        gap = text[words[i][1] : words[i + 1][0]]
        return gap in SPACES or (title and gap[:1] == "." and gap[1:] in SPACES)  # "Dr. Okafor"

    def surname_end(i: int) -> int | None:  # the end of up to two name-like words after word i
        end = None
        for j in (i + 1, i + 2):
            if not joined(j - 1) or not _name_like(words[j][2], keep):
                break
            end = words[j][1]
        return end

    def lower_surname(i: int) -> bool:  # "mr patel": a lower-case word after a short title
        word = words[i][2]
        return word.islower() and len(word) > 1 and word not in NOT_AFTER_TITLE and word not in keep

    for i, (start, end, word) in enumerate(words):
        short = word.casefold() in SHORT_TITLES and (word.islower() or word.istitle())
        if (word in TITLES or short) and joined(i, title=True):
            if _name_like(words[i + 1][2], keep):
                stop = surname_end(i) or words[i + 1][1]
                yield Span(start, stop, "name", text[start:stop])
                continue
            if short and lower_surname(i + 1):
                yield Span(start, words[i + 1][1], "name", text[start : words[i + 1][1]])
                continue
        if word not in names or word.casefold() in keep or word in NOT_NAMES:
            continue
        previous = words[i - 1] if i else None
        if (
            previous
            and (previous[2] in TITLES or previous[2].casefold() in SHORT_TITLES)
            and joined(i - 1, title=True)
        ):
            continue  # already part of a title + name
        after = surname_end(i)
        if after is not None:
            yield Span(start, after, "name", text[start:after])
            continue
        if not lone_first_names or (joined(i) and words[i + 1][2] in NOT_NAMES - {"I"}):
            continue  # "Victoria Station", "Rose Court": a place, not a person
        if (
            previous is not None
            and joined(i - 1)
            and previous[2][:1].isupper()
            and previous[2] not in KIN
            and not (previous[2].isupper() and len(previous[2]) > 1)  # "my PA Kwame"
            and (previous[2] in {"St", "Saint"} or not _starts_sentence(text, previous[0]))
        ):
            continue  # inside a capitalised phrase: "Royal Albert Hall", "St Helen"
        if word in AMBIGUOUS and _starts_sentence(text, start) and not NAME_CUE_AFTER.match(text, end):
            continue  # "Grace and favour" is not a person, "Grace, my daughter" is
        yield Span(start, end, "name", word)


_ROLES = r"carer|PA|support worker|social worker|key ?worker|nurse|neighbour|friend|daughter|son|wife|husband"
_ROLES += r"|partner|sister|brother|manager|OT|physio|GP|doctor|advocate|cousin|niece|nephew|granddaughter"
_ROLES += r"|grandson|landlord|landlady|worker|lodger|boyfriend|girlfriend|stepdad|stepmum|mate"
# "my social worker is Ifunanya Obi", "our neighbour, Wiremu Tane", "ask for Bisi": capitalised words
# after a person's role or after asking for or speaking to someone.
ROLE_THEN_NAME = re.compile(
    rf"(?:\b(?:[Mm]y|[Oo]ur|[Hh]is|[Hh]er|[Tt]heir|[Tt]he new|[Aa] new) (?:{_ROLES})(?:,| is| was| called| named)?"
    r"|\b(?:ask|asked|asking) for|\b(?:speak|spoke|speaking|talk|talked|talking) to) "
    r"((?:[A-Z][^\W\d_]+(?:['’-][^\W\d_]+)*)(?: [A-Z][^\W\d_]+(?:['’-][^\W\d_]+)*){0,2})"
)


_CAPWORD = r"[A-Z][^\W\d_]+(?:['’-][^\W\d_]+)*"
# "Ifunanya Obi came round": two or three capitalised words, then what people do.
NAME_THEN_VERB = re.compile(rf"\b({_CAPWORD}(?: {_CAPWORD}){{1,2}})(?={_DOES})")


def _cued_name_spans(text: str, keep: frozenset[str]) -> Iterable[Span]:
    """Capitalised words right after a person's role ("my carer Thandiwe") or before what people do
    ("Ifunanya Obi came round"), whatever their origin."""
    for match in NAME_THEN_VERB.finditer(text):
        words = match.group(1).split(" ")
        if all(_name_like(_core(w), keep) and w not in gazetteers.everyday_words() for w in words):
            yield Span(match.start(1), match.end(1), "name", match.group(1))
    for match in ROLE_THEN_NAME.finditer(text):
        words = match.group(1).split(" ")
        while words and not _name_like(_core(words[-1]), keep):
            words.pop()
        if words and all(_name_like(_core(w), keep) for w in words):
            end = match.start(1) + len(" ".join(words))
            end -= 2 if text[end - 2 : end] in ("'s", "’s") else 0
            yield Span(match.start(1), end, "name", text[match.start(1) : end])


@lru_cache(maxsize=64)
def _known_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    alternatives = sorted({w for w in words if w.strip()}, key=len, reverse=True)
    if not alternatives:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in alternatives) + r")(?!\w)")


def _known_words(names: Iterable[str]) -> tuple[str, ...]:
    """Each known name, and each capitalised word of a longer one ("Kev Smith" -> "Kev", "Smith")."""
    found: set[str] = set()
    for name in names:
        name = " ".join(str(name).split())
        if not name:
            continue
        found.add(name)
        found.update(w for w in name.split() if len(w) > 1 and w[0].isupper() and w not in TITLES)
    return tuple(sorted(found))


def _known_spans(text: str, words: tuple[str, ...], kind: str) -> Iterable[Span]:
    pattern = _known_pattern(words)
    if pattern is not None:
        for match in pattern.finditer(text):
            yield Span(match.start(), match.end(), kind, match.group())


def find_identifiers(
    text: str,
    *,
    known_names: Iterable[str] = (),
    known_places: Iterable[str] = (),
    keep: Iterable[str] = (),
    lone_first_names: bool = True,
    ner: bool = True,
) -> list[Span]:
    """Personal details in ``text``, in order, not overlapping (see the module docstring).

    ``keep`` lists words never to redact; ``lone_first_names=False`` matches a first name from the
    built-in list only when a surname follows it; ``ner=False`` leaves out spaCy's NER (faster, finds
    fewer names). For many texts, :func:`find_identifiers_in` runs the NER in batches.
    """
    (found,) = find_identifiers_in(
        [text],
        known_names=known_names,
        known_places=known_places,
        keep=keep,
        lone_first_names=lone_first_names,
        ner=ner,
    )
    return found


def find_identifiers_in(
    texts: Sequence[str],
    *,
    known_names: Iterable[str] = (),
    known_places: Iterable[str] = (),
    keep: Iterable[str] = (),
    lone_first_names: bool = True,
    ner: bool = True,
) -> list[list[Span]]:
    """:func:`find_identifiers` for each of ``texts``, with the NER model run once over them all."""
    kept = frozenset(k.casefold() for k in keep)
    names_known = _known_words(known_names)
    places_known = tuple(" ".join(p.split()) for p in known_places if p.strip())
    restored = [gazetteers.restore_case(text, first_names()) for text in texts]
    entities = ner_module.entities(restored) if ner else [[] for _ in texts]
    return [
        _find(text, case, found, kept, names_known, places_known, lone_first_names)
        for text, case, found in zip(texts, restored, entities, strict=True)
    ]


def _find(
    text: str,
    restored: str,
    entities: list[tuple[int, int, str]],
    kept: frozenset[str],
    names_known: tuple[str, ...],
    places_known: tuple[str, ...],
    lone_first_names: bool,
) -> list[Span]:
    """The spans of one text: patterns on the text as written, names and places on ``restored``."""

    def at(start: int, end: int, kind: str) -> Span:
        return Span(start, end, kind, text[start:end])

    names = [at(s.start, s.end, s.kind) for s in _name_spans(restored, kept, lone_first_names)]
    names += [at(s.start, s.end, s.kind) for s in _cued_name_spans(restored, kept)]
    # "Mrs Dyson ... Dyson said": a surname seen in a full name is a name elsewhere in the text too
    surnames = {_core(s.text.split()[-1]) for s in names if len(s.text.split()) > 1}
    months = frozenset(MONTHS + WEEKDAYS + MONTH_ABBR)
    accepted = ner_module.accepted(
        restored,
        entities,
        kin=frozenset(KIN),
        never_names=frozenset(NOT_NAMES),
        known_names=first_names() | gazetteers.surnames(),
        everyday=gazetteers.everyday_words() | frozenset(AMBIGUOUS),
        starts_sentence=lambda start: _starts_sentence(restored, start),
    )

    def unlisted_place_word(word: str) -> bool:  # not a name, month, role or everyday word
        return (
            _name_like(word, kept)
            and word not in first_names()
            and word not in months
            and word not in AMBIGUOUS
        )

    found = [  # in a tie (same rank, same length) the earlier in this list wins
        *(at(s, e, k) for s, e, k in patterns.pattern_spans(text, NOT_NAMES)),
        *_known_spans(text, names_known, "name"),
        *_known_spans(text, places_known, "place"),
        *(at(s, e, "council") for s, e in gazetteers.council_spans(restored)),
        *(at(s, e, "organisation") for s, e in gazetteers.organisation_spans(restored)),
        *(at(s, e, "place") for s, e in gazetteers.place_spans(restored, first_names(), months)),
        *(at(s, e, "place") for s, e in gazetteers.cued_place_spans(restored, unlisted_place_word)),
        *names,
        *(at(s, e, k) for s, e, k in accepted if lone_first_names or k != "name" or " " in text[s:e]),
        *_known_spans(text, tuple(sorted(w for w in surnames if len(w) > 1)), "name"),
    ]
    protected = [(s.start, s.end) for s in found if s.text.casefold() in kept]
    chosen: list[Span] = []
    for span in sorted(found, key=lambda s: (RANK[s.kind], s.start - s.end, s.start)):
        if span.start == span.end or any(a <= span.start and span.end <= b for a, b in protected):
            continue  # the keep list wins, over every part of a kept phrase too
        if all(span.end <= other.start or span.start >= other.end for other in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


# ------------------------------------------------------------------------------------------ replacing

_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O


def _identity(kind: str, original: str) -> str:
    words = [_core(w) for w in original.replace(".", " ").split()]
    if kind == "name" and len(words) > 1 and words[0] in TITLES:
        words = words[1:]
    return " ".join(words).casefold()


def pseudonym(kind: str, original: str, salt: str) -> str:
    """``Person KQXB`` for a name, ``Place TRWA`` for a place: the same for the same original and salt."""
    if kind not in PSEUDONYM_PREFIX:
        return LABELS.get(kind, f"[{kind}]")
    digest = int.from_bytes(
        hashlib.sha256(f"{salt}\x1f{kind}\x1f{_identity(kind, original)}".encode()).digest()
    )
    code = ""
    for _ in range(4):
        digest, index = divmod(digest, len(_LETTERS))
        code += _LETTERS[index]
    return f"{PSEUDONYM_PREFIX[kind]} {code}"


def _replace(text: str, spans: Sequence[Span], style: Style, salt: str) -> DeidentifiedText:
    if style not in ("brackets", "consistent"):
        raise ValueError(f"unknown de-identification style {style!r}: use 'brackets' or 'consistent'.")
    parts: list[str] = []
    done: list[Replacement] = []
    position = 0
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if span.start < position or span.end > len(text) or span.start >= span.end:
            continue  # overlapping or out of range: the text stays
        original = text[span.start : span.end]
        label = LABELS.get(span.kind, f"[{span.kind}]")
        new = pseudonym(span.kind, original, salt) if style == "consistent" else label
        parts += [text[position : span.start], new]
        done.append(Replacement(span.start, span.end, span.kind, original, new))
        position = span.end
    parts.append(text[position:])
    return DeidentifiedText("".join(parts), done)


def pseudonymise(text: str, spans: Sequence[Span], *, style: Style = "brackets", salt: str = "") -> str:
    """``text`` with each span replaced; everything outside the spans stays as it was."""
    return _replace(text, spans, style, salt).text


def deidentify_text(
    text: str,
    *,
    known_names: Iterable[str] = (),
    known_places: Iterable[str] = (),
    keep: Iterable[str] = (),
    style: Style = "brackets",
    salt: str = "",
    lone_first_names: bool = True,
    ner: bool = True,
) -> DeidentifiedText:
    """Find the personal details in ``text`` and replace them (:func:`find_identifiers`, :func:`pseudonymise`)."""
    (done,) = deidentify_texts(
        [text],
        known_names=known_names,
        known_places=known_places,
        keep=keep,
        style=style,
        salt=salt,
        lone_first_names=lone_first_names,
        ner=ner,
    )
    return done


def deidentify_texts(
    texts: Sequence[str],
    *,
    known_names: Iterable[str] = (),
    known_places: Iterable[str] = (),
    keep: Iterable[str] = (),
    style: Style = "brackets",
    salt: str = "",
    lone_first_names: bool = True,
    ner: bool = True,
) -> list[DeidentifiedText]:
    """:func:`deidentify_text` for each of ``texts``, with the NER run once over them all
    (:func:`find_identifiers_in`): for an export or a report of many quotes."""
    found = find_identifiers_in(
        texts,
        known_names=known_names,
        known_places=known_places,
        keep=keep,
        lone_first_names=lone_first_names,
        ner=ner,
    )
    return [_replace(text, spans, style, salt) for text, spans in zip(texts, found, strict=True)]
