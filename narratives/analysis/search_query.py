"""What a researcher types into the search box, read as a query the way web search engines read it.

``care home``          both words (in any order, any form: "homes", "caring")
``"care home"``        the phrase
``respite OR break``   either
``carer -young``       carer, but not young
``assess*``            any word starting "assess"

Nothing typed is ever an error of syntax: stray quotes and operators are read as words. Only a
query with nothing to look for (empty, or only exclusions) is refused.
"""

from __future__ import annotations

import re

from narratives.errors import SearchError
from narratives.store.search import Clause, TextQuery

_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')
_EDGE_PUNCTUATION = re.compile(r"^[^\w]+|[^\w*]+$", re.UNICODE)
MAX_TERMS = 32


def parse_query(typed: str) -> TextQuery:
    """The clauses of ``typed`` (joined by OR), each with its required and excluded terms."""
    clauses: list[Clause] = []
    required: list[str] = []
    excluded: list[str] = []
    terms = 0
    for match in _TOKEN.finditer(typed):
        negated, phrase, word = match.group(1), match.group(2), match.group(3)
        if word == "OR":
            clauses += _clause(required, excluded)
            required, excluded = [], []
            continue
        if word is not None:
            negated = "-" if word.startswith("-") and len(word) > 1 else ""
            phrase = word[1:] if negated else word
        term = _term(phrase or "")
        if not term:
            continue
        terms += 1
        if terms > MAX_TERMS:
            raise SearchError(
                f"the query has more than {MAX_TERMS} terms.", fix="search for fewer words at a time."
            )
        (excluded if negated else required).append(term)
    clauses += _clause(required, excluded)
    if not clauses:
        raise SearchError(
            f"there is nothing to search for in {typed!r}.",
            fix='type a word or a "phrase" to find (a -word alone only says what to leave out).',
        )
    return TextQuery(tuple(clauses))


def _clause(required: list[str], excluded: list[str]) -> list[Clause]:
    return [Clause(tuple(required), tuple(excluded))] if required else []


def _term(raw: str) -> str:
    """A word or phrase with its edge punctuation gone (a trailing ``*`` kept); ``""`` if nothing is left."""
    words = [_EDGE_PUNCTUATION.sub("", word) for word in raw.split()]
    words = [word for word in words if word.strip("*")]
    if not words:
        return ""
    joined = " ".join(word.rstrip("*") for word in words)
    return joined + "*" if words[-1].endswith("*") and len(words) == 1 else joined
