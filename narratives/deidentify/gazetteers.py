"""Places, councils, care settings and services found by the lists and patterns shipped in the project.

:func:`place_spans` finds UK towns and cities (GeoNames, ``data/uk_places.txt``) and council core names
(``data/uk_councils.txt``, written by hand); :func:`council_spans` the usual forms around a council's
name ("Kirklees Council", "London Borough of Hackney", "Sheffield council"); :func:`organisation_spans`
care homes, hospitals and services by the shape of their names ("Willow Lodge", "St James's Hospital",
"Oakwood Day Centre", "Leeds Teaching Hospitals NHS Trust", "Leeds Mind", "Age UK Calderdale"), and, in lower case, by
their head words and the words before them ("at oakfield house care home", "rotherham general
hospital"). Councils, places of two or more words and hyphenated places ("Kirkby-in-Ashfield") are
matched in any case; a place written in lower case needs a place word before it ("in st helens").
:func:`restore_case` gives a copy of a text with names written in lower or upper case ("sarah",
"DAVID JONES") capitalised as names are, so that the name rules and the NER see them.

A one-word place that is also an everyday word or a first name ("Reading", "Bath", "Hope", "Stanley")
is taken only after a place word ("in", "from", "near", ...) in the middle of a sentence; a month,
weekday or word like "Street" or "Church" is never a place on its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent.parent / "data"
# Words after which a capitalised word is a place ("we moved to Bath").
PLACE_CUES = {"in", "from", "to", "near", "around", "outside", "into", "towards", "toward", "via", "through"}
PLACE_CUES |= {"round", "nr", "at"}
# Stronger cues for a place that is also a first name ("talked to Stanley" is a person).
STRONG_PLACE_CUES = {"in", "from", "near", "outside", "around", "towards", "nr", "via"}
NEVER_ALONE = {"Street", "Church", "Bridge", "Hall", "Hill", "Green", "Valley", "Wood", "Over", "King"}
NEVER_ALONE |= {"White", "Young", "Brown", "Ward", "Price", "Cook", "Bell", "Foster", "Banks"}
# Nations are not identifying, though GeoNames has villages called "Wales" and "England".
NATIONS = {
    "England",
    "Scotland",
    "Wales",
    "Ireland",
    "Britain",
    "Great Britain",
    "Northern Ireland",
    "Europe",
}
SENTENCE_END = set('.!?:;\n"“”')
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_CAP = r"(?:St\.? |Saint )?[A-Z][\w'’]*(?:-[\w'’]+)*"
_RUN = rf"{_CAP}(?: {_CAP}){{0,4}}"
# Care settings and services by their last words. Strong: always a setting or service. Medium: a
# setting after a distinctive capitalised word ("Beech House"). Weak: only near a care word.
_STRONG = (
    r"(?:Care|Nursing|Residential|Retirement) Home|Care Centre|Day Centre|Resource Centre|"
    r"Medical Centre|Health Centre|Carers Centre|Hospice|Surgery|Medical Practice|"
    r"(?:General |Royal |Community |University |District )?(?:Hospital|Infirmary)|"
    r"(?:Partnership |Teaching Hospitals |Hospitals |Care )?NHS (?:Foundation )?Trust|"
    r"(?:University )?Health Board|Integrated Care Board|Carers|Mind|Advocacy"
)
_MEDIUM = r"House|Lodge|Manor|Grange"
_WEAK = r"Court|View|Gardens|Hall|Park|Place"
ORGANISATION = re.compile(rf"\b(?:The )?({_RUN}) ({_STRONG}|{_MEDIUM}|{_WEAK})\b")
AGE_UK = re.compile(
    r"\b(?:Age (?:UK|Concern)|age (?:uk|concern)|AGE (?:UK|CONCERN)) ((?:[^\W\d_]+(?:['’-][^\W\d_]+)* ?){1,4})"
)
# Care settings and hospitals written in lower case (or upper case, lowered by restore_case): the
# head words, and the words before them that make the name ("oakfield house care home").
LOWER_SETTING = re.compile(
    r"\b(?:(?:care|nursing|residential|retirement) home|(?:day|resource|medical|health) centre|hospice"
    r"|(?:(?:general|royal|district|community|university) )?(?:hospital|infirmary))\b"
)
# Words that end the name of a setting written in lower case, going back from its head words.
NOT_IN_A_SETTING_NAME = {
    "a", "an", "the", "my", "our", "your", "his", "her", "their", "its", "this", "that", "these", "those",
    "some", "any", "every", "no", "another", "each", "which", "what", "whose", "one", "in", "at", "to",
    "into", "from", "of", "for", "with", "by", "on", "near", "round", "around", "outside", "via", "and",
    "or", "but", "i", "he", "she", "we", "they", "you", "it", "me", "him", "them", "us", "is", "was",
    "were", "are", "be", "been", "has", "had", "have", "not", "just", "then", "now", "also", "still",
    "even", "so", "as", "than", "there", "here", "when", "where", "about", "called", "named", "visited",
    "visit", "visiting", "left", "leaving", "mum's", "dad's", "nan's", "gran's", "local", "new", "old",
    "nice", "lovely", "good", "bad", "great", "awful", "terrible", "horrible", "decent", "small", "big",
    "large", "little", "huge", "private", "council", "nhs", "specialist", "dementia", "elderly", "older",
    "general", "district", "community", "mental", "psychiatric", "maternity", "eye", "cottage",
    "teaching", "main", "nearest", "closest", "nearby", "same", "other", "different", "first", "second",
    "last", "next", "best", "worst", "only", "own", "proper", "day", "respite", "rehab", "secure",
    "whole", "expensive", "cheap", "current", "previous", "former", "emergency", "acute", "city",
    "county", "regional", "children's", "women's", "men's", "kids", "village", "town", "posh", "usual",
    "right", "wrong", "busy", "full", "modern", "residential", "nursing", "care", "adult", "health",
    "learning", "disability", "temporary", "permanent", "shared", "state", "military", "rural",
    "see", "get", "got", "go", "going", "went", "take", "took", "stay", "stayed", "work", "works",
    "worked", "like", "liked", "hate", "hated", "love", "loved", "regular", "staff",
}  # fmt: skip
# What comes right before the name of a setting written in lower case ("at oakfield house care home").
SETTING_CUES = {"at", "in", "into", "to", "from", "the", "near", "of", "round", "around", "outside", "via"}
SETTING_CUES |= {"called", "named", "visited", "visit", "visiting", "left", "leaving"}
CARE_WORDS = re.compile(r"\b(?:care|nursing|residential|respite|home|placement|moved (?:in)?to)\b", re.I)
# Leading words of a capitalised run that are not part of a setting's name ("At Beech House").
LEADING = {"A", "An", "And", "But", "Or", "If", "So", "Then", "When", "Is", "Was", "I", "It", "He", "She"}
LEADING |= {"We", "They", "You", "My", "Our", "Your", "His", "Her", "Their", "This", "That", "In", "On"}
LEADING |= {"At", "To", "For", "From", "Of", "With", "By", "After", "Before", "Because", "Mum", "Dad"}
LEADING |= {"Mum's", "Dad's", "Nan", "Gran", "Now", "Since", "Apparently", "Someone", "Everyone", "Then"}
# Runs that name no particular place or service ("Social Care", "Local Hospital").
GENERIC = {"The", "Care", "Nursing", "Residential", "Day", "Local", "Community", "General", "Royal", "Social"}
GENERIC |= {"Council", "Respite", "Family", "Mental", "Health", "Medical", "New", "Old", "Main", "Big"}
GENERIC |= {"Children's", "Adult", "Adults", "Services", "Service", "NHS", "Private", "Open", "Opening"}
GENERIC |= {"Carers", "Young", "Disability", "Disabled", "Women's", "Men's", "Alzheimer's", "Dementia", "Our"}


def _lines(name: str) -> list[str]:
    lines = (line.strip() for line in (DATA / name).read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@lru_cache(maxsize=1)
def council_names() -> frozenset[str]:
    """The core names of current UK councils ("Kirklees", "Kingston upon Thames")."""
    return frozenset(_lines("uk_councils.txt"))


# Small words inside a town's name, written with spaces or hyphens ("Kirkby in Ashfield",
# "Kirkby-in-Ashfield", "Stoke-on-Trent", "Stoke on Trent").
CONNECTORS = {"in", "on", "upon", "under", "le", "la", "en", "de", "by", "super", "next", "the", "cum"}
# Words after which a place written in lower case is taken ("we moved to milton keynes").
LOWER_PLACE_CUES = PLACE_CUES | {"of"}


def _spellings(name: str) -> set[str]:
    """A place name as listed, and with hyphens for spaces around its small words, or the reverse."""
    found = {name}
    words = name.split(" ")
    if len(words) > 2 and any(w in CONNECTORS for w in words[1:-1]):
        found.add("-".join(words))
    parts = name.split("-")
    if len(parts) > 2 and any(p in CONNECTORS for p in parts[1:-1]):
        found.add(" ".join(parts))
    return found


@lru_cache(maxsize=1)
def place_names() -> frozenset[str]:
    """UK towns, cities and villages (GeoNames) and council core names, each also with hyphens
    for spaces around its small words or the reverse ("Kirkby in Ashfield", "Kirkby-in-Ashfield")."""
    listed = set(_lines("uk_places.txt")) | council_names()
    return frozenset(spelling for name in listed for spelling in _spellings(name))


@lru_cache(maxsize=1)
def _first_words_folded() -> frozenset[str]:
    """The first word, case-folded, of each place of two or more words or with hyphens."""
    found = set()
    for name in place_names():
        first = _WORD.match(name)
        if first and (" " in name or "-" in name):
            found.add(first.group().casefold())
    return frozenset(found)


@lru_cache(maxsize=1)
def _places_by_casefold() -> dict[str, str]:
    """Places by their case-folded spelling."""
    return {name.casefold(): name for name in place_names()}


@lru_cache(maxsize=1)
def surnames() -> frozenset[str]:
    return frozenset(_lines("uk_surnames.txt"))


@lru_cache(maxsize=1)
def everyday_words() -> frozenset[str]:
    """One-word names and places that are also everyday words ("Hope", "Reading", "Will")."""
    return frozenset(_lines("everyday_words.txt"))


@lru_cache(maxsize=1)
def _longest_place() -> int:
    return max(len(name.split()) for name in place_names())


@lru_cache(maxsize=1)
def _council_pattern() -> re.Pattern[str]:
    cores = "|".join(re.escape(c) for c in sorted(council_names(), key=len, reverse=True))
    return re.compile(
        rf"\b(?:(?:London |Royal )?Borough of|City of|County of) (?:{cores})(?: (?:City |District )?Council)?\b"
        rf"|\b(?:{cores})(?: Metropolitan)?(?: City| County| County Borough| Borough| District)? [Cc]ouncil\b"
        rf"|\b(?:{cores}) (?:Adult Social Care|Social Services|Social Work|Children's Services)\b",
        re.IGNORECASE,
    )


def council_spans(text: str) -> Iterator[tuple[int, int]]:
    """Councils named in one of their usual forms, in any case ("Leeds City Council", "london borough
    of hackney", "KIRKLEES COUNCIL"): the forms hold a council's core name, so "the city council" is none."""
    for match in _council_pattern().finditer(text):
        yield match.start(), match.end()


def _starts_sentence(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t\"'“‘([")
    return not before or before[-1] in SENTENCE_END


def _cue_before(text: str, start: int) -> str:
    words = _WORD.findall(text[max(0, start - 30) : start])
    return words[-1].casefold() if words and text[:start].rstrip().endswith(words[-1]) else ""


def _needs_cue(name: str, first_names: frozenset[str]) -> str | None:
    """Which cues a one-word place needs: None for none, "strong" for a first name, "any" otherwise."""
    if " " in name or "-" in name:
        return None
    if name in first_names:
        return "strong"
    return "any" if name in everyday_words() or len(name) <= 3 else None


def place_spans(text: str, first_names: frozenset[str], months: frozenset[str]) -> Iterator[tuple[int, int]]:
    """Towns, cities and council areas named in ``text``, longest match first.

    A place is matched in the case it is listed in; a place of two or more words or with hyphens
    also in any other case ("milton keynes", "HEBDEN BRIDGE", "Milton keynes") after a place word
    ("in", "to", "from", ...), so that "the west end of town" is not West End.
    """
    places, longest, folded = place_names(), _longest_place(), _places_by_casefold()
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    i = 0
    firsts = _first_words_folded()
    while i < len(words):
        start = words[i][0]
        if not text[start].isupper() and text[start : words[i][1]].casefold() not in firsts:
            i += 1
            continue
        for n in range(min(longest, len(words) - i), 0, -1):
            end = words[i + n - 1][1]
            name = text[start:end]
            if name.endswith(("'s", "’s")) and (name[:-2] in places or name[:-2].casefold() in folded):
                name, end = name[:-2], end - 2
            if text[start].isupper() and name in places:
                accepted = _accept_place(text, start, name, first_names, months)
            else:
                accepted = (
                    (" " in name or "-" in name)
                    and name.casefold() in folded
                    and _cue_before(text, start) in LOWER_PLACE_CUES
                )
            if accepted:
                yield start, end
                i += n
                break
        else:
            i += 1


def _accept_place(
    text: str, start: int, name: str, first_names: frozenset[str], months: frozenset[str]
) -> bool:
    if name in months or name in NEVER_ALONE or name in NATIONS or name.isupper():
        return False
    need = _needs_cue(name, first_names)
    if need is None:
        return True
    cue = _cue_before(text, start)
    return not _starts_sentence(text, start) and cue in (
        STRONG_PLACE_CUES if need == "strong" else PLACE_CUES
    )


def _distinctive(run: str) -> str | None:
    """The run without leading sentence words, or None when nothing particular is left."""
    words = run.split(" ")
    while words and words[0] in LEADING:
        words.pop(0)
    if not words or all(w in GENERIC or w in {"St", "St.", "Saint"} for w in words):
        return None
    return " ".join(words)


def organisation_spans(text: str) -> Iterator[tuple[int, int]]:
    """Care homes, hospitals and services named by the shape of their names (see the module docstring)."""
    for match in ORGANISATION.finditer(text):
        run, suffix = match.group(1), match.group(2)
        kept = _distinctive(run)
        if kept is None:
            continue
        if re.fullmatch(_WEAK, suffix) and not CARE_WORDS.search(
            text, max(0, match.start() - 60), match.end() + 40
        ):
            continue
        if suffix in {"Carers", "Mind", "Advocacy"} and kept not in place_names():
            continue  # "Leeds Mind", "Kirklees Carers": a place's branch of a charity
        start = match.end(1) - len(kept)
        if match.group().startswith("The ") and kept == run:
            start = match.start()
        yield start, match.end()
    for match in AGE_UK.finditer(text):
        words = match.group(1).rstrip().split(" ")
        while words and not _is_place(" ".join(words)):
            words.pop()
        if words:
            yield match.start(), match.start(1) + len(" ".join(words))
    yield from _lower_case_setting_spans(text)


def _is_place(name: str) -> bool:
    """A listed place, in any case ("Calderdale", "calderdale")."""
    return name.casefold() in _places_by_casefold()


def _lower_case_setting_spans(text: str) -> Iterator[tuple[int, int]]:
    """Care homes, day centres and hospitals written in lower case: "at oakfield house care home",
    "in rotherham general hospital", "the limes nursing home" (with its "the"). Up to three words
    before the head words make the name; a word in :data:`NOT_IN_A_SETTING_NAME` ends it, and the
    word before the name must be a cue (:data:`SETTING_CUES`) or the start of a sentence, so "a
    lovely care home", "my mum's care home" and "i hated care home food" name nothing."""
    for match in LOWER_SETTING.finditer(text):
        words = [m for m in _WORD.finditer(text, max(0, match.start() - 80), match.start())]
        name: list[re.Match[str]] = []
        while words and len(name) < 3 and words[-1].group().casefold() not in NOT_IN_A_SETTING_NAME:
            if text[words[-1].end() : (name[0] if name else match).start()] != " ":
                break
            name.insert(0, words.pop())
        if not name:
            continue
        cue = words[-1] if words and text[words[-1].end() : name[0].start()] == " " else None
        if cue is None and not _starts_sentence(text, name[0].start()):
            continue
        if cue is not None and cue.group().casefold() not in SETTING_CUES:
            continue
        start = cue.start() if cue is not None and cue.group().casefold() == "the" else name[0].start()
        yield start, match.end()


def restore_case(text: str, first_names: frozenset[str]) -> str:
    """``text`` with names written in lower or upper case capitalised; the same length, offsets hold.

    A lower-case first name that is not an everyday word ("sarah", not "will") is capitalised, and a
    lower-case surname from the list right after it. In upper-case words, names and places are
    capitalised, a word right after an upper-case first name is taken as a surname, and the other
    words of a run of two or more are lowered ("DAVID JONES FROM THE COUNCIL" -> "David Jones from
    the council"); a lone upper-case word that is none of these ("NHS") stays as it is.
    """
    words = list(_WORD.finditer(text))
    chars = list(text)
    everyday, family, places = everyday_words(), surnames(), place_names()

    def put(match: re.Match[str], new: str) -> None:
        if len(new) == len(match.group()):
            chars[match.start() : match.end()] = new

    previous_name = False
    for i, match in enumerate(words):
        word = match.group()
        title = word[:1].upper() + word[1:].lower()
        if word.islower():
            is_name = title in first_names and title not in everyday
            if is_name or (previous_name and title in family):
                put(match, title)
            previous_name = is_name
        elif word.isupper() and len(word) > 1:
            run = _in_caps_run(words, i, text)
            if title in first_names or title in family or title in places or previous_name:
                put(match, title)
            elif run:
                put(match, word.lower())
            previous_name = title in first_names
        else:
            previous_name = False
    return "".join(chars)


def _in_caps_run(words: list[re.Match[str]], i: int, text: str) -> bool:
    """Whether upper-case word ``i`` has an upper-case neighbour word next to it."""

    def caps(j: int) -> bool:
        return 0 <= j < len(words) and words[j].group().isupper() and len(words[j].group()) > 1

    return caps(i - 1) or caps(i + 1)


# "lives in Eastmere", "moved to Kingsmoor": a capitalised word after living or moving is a place.
LIVING_IN = re.compile(
    r"\b(?:live|lives|lived|living|grew up|born|moved|move|moving|settled|stays|stayed|staying) "
    r"(?:in|to|near|from|back to|out to|down to|up to|over to) "
    r"([A-Z][^\W\d_]+(?:[ -][A-Z][^\W\d_]+)?)\b"
    r"|\b(?:originally|comes?|came) from ([A-Z][^\W\d_]+(?:[ -][A-Z][^\W\d_]+)?)\b"
)


def cued_place_spans(text: str, is_word_of_a_name: Callable[[str], bool]) -> Iterator[tuple[int, int]]:
    """Capitalised words after living or moving somewhere, in no list ("she lives in Eastmere")."""
    for match in LIVING_IN.finditer(text):
        group = 1 if match.group(1) else 2
        name = match.group(group)
        words = re.split(r"[ -]", name)
        if name in NATIONS or not all(is_word_of_a_name(w) for w in words):
            continue
        yield match.start(group), match.end(group)
