"""The de-identification rules: finding personal details in a text and replacing them.

:func:`find_identifiers` gives spans with exact offsets (``text[start:end] == span.text``);
:func:`pseudonymise` replaces them with labels or consistent pseudonyms. What they find and miss is
described in :mod:`narratives.deidentify`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from narratives.deidentify import gazetteers
from narratives.deidentify import ner as ner_module

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

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTH_ABBR = ["Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec"]
TITLES = {"Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Doctor", "Prof", "Professor", "Sir", "Dame"}
TITLES |= {"Cllr", "Councillor", "Rev", "Revd"}
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
NAME_CUE_AFTER = re.compile(
    r",\s(?:my|our|his|her|their|the)\s|\s(?:said|says|rang|rings|told|came|comes|phoned|texted|asked|helps|"
    r"helped|visits|visited|does|did|takes|took)\b"
)
SENTENCE_BREAK = set(".!?:;\n]–—•*")
OPENERS = set(" \t\"'“‘([-")
SPACES = {" ", "\xa0", "\u202f"}

EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# An address written out to dodge spam filters: "jane at example dot com", "tom(at)example(dot)org".
_AT, _DOT = r"(?: at |\s?[(\[]at[)\]]\s?)", r"(?: dot |\s?[(\[]dot[)\]]\s?)"
SPOKEN_EMAIL = re.compile(
    rf"(?<![\w.+-])[A-Za-z0-9._%+-]+(?:{_DOT}[A-Za-z0-9_-]+)*{_AT}[A-Za-z0-9-]+(?:{_DOT}[A-Za-z0-9-]+)*"
    rf"{_DOT}(?:com|org|net|uk|io|info|me|edu|gov|nhs|scot|wales|ie)\b"
)
URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'“”]+")
HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z0-9_]{2,30}\b(?!\.\w)")
PHONE = re.compile(r"(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?|\(0|0)(?:\d(?:[ -]|\)\s?)?){8,9}\d(?!\w)")
NHS = re.compile(r"(?<![\w-])(\d{3})([ -]?)(\d{3})\2(\d{4})(?![\w-])")
NI = re.compile(r"(?<!\w)([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?(\d{2}) ?(\d{2}) ?(\d{2})(?: ?[A-D])?(?!\w)")
NI_NEVER = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}
POSTCODE = re.compile(
    r"(?<!\w)(?:(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?|GIR) ?\d[ABD-HJLNP-UW-Z]{2}"
    r"|(?:[a-pr-uwyz][a-hk-y]?\d[a-z\d]?) ?\d[abd-hjlnp-uw-z]{2})(?!\w)"
)
_MONTH = "|".join(MONTHS + MONTH_ABBR)
DATES = [
    re.compile(r"(?<![\w/.-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\w/-]|\.\d)"),
    re.compile(r"(?<![\w-])((?:19|20)\d{2})-(\d{2})-(\d{2})(?![\w-])"),
    re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?(?: of)? (?:{_MONTH})\.?,? ((?:19|20)\d{{2}})\b"),
    re.compile(rf"\b(?:{_MONTH})\.? (\d{{1,2}})(?:st|nd|rd|th)?,? ((?:19|20)\d{{2}})\b"),
    re.compile(
        rf"\b(\d{{1,2}})(?:st|nd|rd|th)?(?: of)? (?:{_MONTH})\.?,? ['’](\d{{2}})(?!\w)"
    ),  # 5th June '47
]
# "5.6.47" is a date only after a birth cue ("born", "DOB"): elsewhere it could be a version or a score.
BIRTH_CUE = re.compile(r"\b(?:born|dob|d\.o\.b|date of birth|birthday)\b", re.IGNORECASE)
_STREETS = "Road|Rd|Street|St|Avenue|Ave|Lane|Close|Drive|Way|Crescent|Court|Place|Gardens|Terrace"
_STREETS += "|Grove|Hill|Row|Walk|Square|Mews|Park|View|Rise|Green|Parade|Gate|Yard|Wharf"
_CAP = r"[A-Z][a-z'’-]+"
ADDRESS = re.compile(
    rf"\b(?:(?:Flat|Apartment|Unit) \d{{1,4}}[A-Za-z]?,? )?\d{{1,4}}[A-Za-z]?,? (?:{_CAP} ){{1,3}}(?:{_STREETS})\b"
)
STREET = re.compile(
    rf"\b(?:{_CAP} ){{1,2}}(?:Road|Street|Avenue|Lane|Close|Drive|Crescent|Terrace|Grove|Mews|Gardens)\b"
)
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
    path = Path(__file__).parent.parent / "data" / "first_names.txt"
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


# ------------------------------------------------------------------------------------------ finding


def nhs_number_valid(digits: str) -> bool:
    """The NHS number's modulus-11 check: weights 10..2 on the first nine digits."""
    digits = re.sub(r"[ -]", "", digits)
    if len(digits) != 10 or not digits.isdigit():
        return False
    check = 11 - sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True)) % 11
    return check != 10 and (0 if check == 11 else check) == int(digits[9])


def _valid_day_month(day: int, month: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12


def _pattern_spans(text: str) -> Iterable[Span]:
    def spans(
        pattern: re.Pattern[str], kind: str, valid: Callable[[re.Match[str]], bool] = bool
    ) -> Iterator[Span]:
        for match in pattern.finditer(text):
            if valid(match):
                yield Span(match.start(), match.end(), kind, match.group())

    yield from spans(EMAIL, "email")
    yield from spans(SPOKEN_EMAIL, "email")
    for match in URL.finditer(text):
        end = match.start() + len(match.group().rstrip(".,;:!?)]}'\""))
        yield Span(match.start(), end, "url", text[match.start() : end])
    yield from spans(HANDLE, "handle")
    yield from spans(PHONE, "phone", lambda m: ("(" in m.group()) == (")" in m.group()))
    yield from spans(NHS, "nhs_number", lambda m: nhs_number_valid(m.group()))
    yield from spans(NI, "ni_number", lambda m: m.group(1) not in NI_NEVER)
    yield from spans(POSTCODE, "postcode")
    numeric, iso, day_first, month_first, short_year = DATES
    yield from spans(
        numeric,
        "date",
        lambda m: (
            (m.group(2) != "." or len(m.group(4)) == 4 or bool(BIRTH_CUE.search(text, 0, m.start())))
            and (
                _valid_day_month(int(m.group(1)), int(m.group(3)))
                or _valid_day_month(int(m.group(3)), int(m.group(1)))
            )
        ),
    )
    yield from spans(iso, "date", lambda m: _valid_day_month(int(m.group(3)), int(m.group(2))))
    yield from spans(day_first, "date", lambda m: 1 <= int(m.group(1)) <= 31)
    yield from spans(month_first, "date", lambda m: 1 <= int(m.group(1)) <= 31)
    yield from spans(short_year, "date", lambda m: 1 <= int(m.group(1)) <= 31)
    yield from spans(ADDRESS, "address")
    for match in STREET.finditer(text):
        words = match.group().split()
        while len(words) > 1 and words[0] in NOT_NAMES:  # "The High Street" -> "High Street"
            words.pop(0)
        if len(words) > 1:
            start = match.end() - len(" ".join(words))
            yield Span(start, match.end(), "address", text[start : match.end()])


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

    for i, (start, end, word) in enumerate(words):
        if word in TITLES and joined(i, title=True) and _name_like(words[i + 1][2], keep):
            stop = surname_end(i) or words[i + 1][1]
            yield Span(start, stop, "name", text[start:stop])
            continue
        if word not in names or word.casefold() in keep or word in NOT_NAMES:
            continue
        previous = words[i - 1] if i else None
        if previous and previous[2] in TITLES and joined(i - 1, title=True):
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
    # "Mrs Dyson ... Dyson said": a surname seen in a full name is a name elsewhere in the text too
    surnames = {_core(s.text.split()[-1]) for s in names if len(s.text.split()) > 1}
    months = frozenset(MONTHS + WEEKDAYS + MONTH_ABBR)
    accepted = ner_module.accepted(
        restored,
        entities,
        never_names=frozenset(NOT_NAMES | TITLES | KIN),
        everyday=gazetteers.everyday_words() | frozenset(AMBIGUOUS),
        starts_sentence=lambda start: _starts_sentence(restored, start),
    )
    found = [  # in a tie (same rank, same length) the earlier in this list wins
        *_pattern_spans(text),
        *_known_spans(text, names_known, "name"),
        *_known_spans(text, places_known, "place"),
        *(at(s, e, "council") for s, e in gazetteers.council_spans(restored)),
        *(at(s, e, "organisation") for s, e in gazetteers.organisation_spans(restored)),
        *(at(s, e, "place") for s, e in gazetteers.place_spans(restored, first_names(), months)),
        *names,
        *(at(s, e, k) for s, e, k in accepted if lone_first_names or k != "name" or " " in text[s:e]),
        *_known_spans(text, tuple(sorted(w for w in surnames if len(w) > 1)), "name"),
    ]
    chosen: list[Span] = []
    for span in sorted(found, key=lambda s: (RANK[s.kind], s.start - s.end, s.start)):
        if span.text.casefold() in kept or span.start == span.end:
            continue
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
    spans = find_identifiers(
        text,
        known_names=known_names,
        known_places=known_places,
        keep=keep,
        lone_first_names=lone_first_names,
        ner=ner,
    )
    return _replace(text, spans, style, salt)
