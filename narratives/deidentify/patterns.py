"""Structured identifiers found by pattern: email addresses (written out too), links, @handles, UK
phone numbers, NHS numbers (check digit validated), National Insurance numbers, UK postcodes, full
dates (and "5.6.47" after a birth cue) and street addresses.

:func:`pattern_spans` gives ``(start, end, kind)`` for each match; overlaps are settled by
:func:`narratives.deidentify.rules.find_identifiers`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator

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


def nhs_number_valid(digits: str) -> bool:
    """The NHS number's modulus-11 check: weights 10..2 on the first nine digits."""
    digits = re.sub(r"[ -]", "", digits)
    if len(digits) != 10 or not digits.isdigit():
        return False
    check = 11 - sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True)) % 11
    return check != 10 and (0 if check == 11 else check) == int(digits[9])


def _valid_day_month(day: int, month: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12


def pattern_spans(text: str, not_names: Collection[str]) -> Iterator[tuple[int, int, str]]:
    """Each match of the patterns in ``text``; ``not_names`` are words stripped from a street's front."""

    def spans(
        pattern: re.Pattern[str], kind: str, valid: Callable[[re.Match[str]], bool] = bool
    ) -> Iterator[tuple[int, int, str]]:
        for match in pattern.finditer(text):
            if valid(match):
                yield match.start(), match.end(), kind

    yield from spans(EMAIL, "email")
    yield from spans(SPOKEN_EMAIL, "email")
    for match in URL.finditer(text):
        end = match.start() + len(match.group().rstrip(".,;:!?)]}'\""))
        yield match.start(), end, "url"
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
        while len(words) > 1 and words[0] in not_names:  # "The High Street" -> "High Street"
            words.pop(0)
        if len(words) > 1:
            start = match.end() - len(" ".join(words))
            yield start, match.end(), "address"
