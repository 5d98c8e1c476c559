"""Numbered pseudonyms that hold across documents and waves, and offsets carried onto the new text.

:class:`PseudonymBook` gives each person, place and organisation one pseudonym (``[Person 3]``,
``[Place 2]``, ``[Council 1]``, ``[Organisation 1]``) everywhere in a project. Names are compared without case,
titles or a possessive ("Mrs Sarah Jones's" is "sarah jones"); a first name on its own joins the
full name that starts with it when the project knows exactly one such full name ("Sarah" and "SARAH
JONES" are one person; with a Sarah Jones and a Sarah Khan, "Sarah" stays apart). Numbers are given
in order of first appearance and kept in the :class:`~narratives.deidentify.key.PseudonymKey`, so a
later run with the same key keeps every number and numbers only the newcomers. Other details
(phones, postcodes, ...) get their label (``[phone]``).

:func:`deidentify_document` returns the new text and an :class:`OffsetMap` that carries a segment's
or coding's offsets onto it; an offset inside a replaced identifier snaps to the replacement's edge,
so the segment covers the whole replacement.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from narratives.deidentify.key import KEY_KIND, PREFIXES, KeyEntry, PseudonymKey
from narratives.deidentify.rules import LABELS, Replacement, Span

TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "doctor", "prof", "professor", "sir", "dame", "cllr"}
TITLES |= {"councillor", "rev", "revd"}


def identity(text: str) -> str:
    """How two mentions are compared: case, titles, full stops and a trailing possessive left out."""
    words = text.replace(".", " ").split()
    if words and words[-1][-2:].casefold() in ("'s", "’s") and len(words[-1]) > 2:
        words[-1] = words[-1][:-2]
    while len(words) > 1 and words[0].casefold() in TITLES:
        words = words[1:]
    return " ".join(words).casefold()


@dataclass
class PseudonymBook:
    """Hands out the key's pseudonyms, adding new entries to ``key`` as new people appear."""

    key: PseudonymKey = field(default_factory=PseudonymKey)
    _entries: dict[tuple[str, str], KeyEntry] = field(default_factory=dict, init=False, repr=False)
    _full_names: dict[str, set[str]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for entry in self.key.entries:
            for original in entry.originals:
                self._entries.setdefault((entry.kind, identity(original)), entry)
                self._learn(entry.kind, original)

    def _learn(self, kind: str, original: str) -> None:
        words = identity(original).split()
        if kind == "name" and len(words) > 1:
            self._full_names.setdefault(words[0], set()).add(" ".join(words))

    def know_full_names(self, names: Iterable[str]) -> None:
        """Full names the project knows (its attributes, its settings, full names found in its texts)."""
        for name in names:
            self._learn("name", name)

    def _full_name_of(self, kind: str, ident: str) -> str | None:
        """The one known full name that a lone first name stands for, if there is exactly one."""
        if kind != "name" or " " in ident:
            return None
        candidates = self._full_names.get(ident, set())
        return next(iter(candidates)) if len(candidates) == 1 else None

    def pseudonym(self, kind: str, original: str) -> str:
        """The pseudonym of ``original`` (of ``kind``), giving out the next number if it is new."""
        if kind not in PREFIXES:
            return LABELS.get(kind, f"[{kind}]")
        kind = KEY_KIND[PREFIXES[kind]]  # "person" and "name" are one numbering
        ident = identity(original)
        entry = self._entries.get((kind, ident))
        if entry is None:
            full = self._full_name_of(kind, ident)
            entry = self._entries.get((kind, full)) if full else None
            if entry is None and kind == "name" and " " in ident:
                first = self._entries.get((kind, ident.split()[0]))  # "Sarah" numbered before "Sarah Jones"
                entry = first if first is not None and self._full_name_of(kind, ident.split()[0]) else None
            if entry is None:
                entry = KeyEntry(kind, self.key.next_number(kind))
                self.key.entries.append(entry)
            self._entries[(kind, ident)] = entry
        entry.add(original)
        self._learn(kind, original)
        return entry.pseudonym


@dataclass(frozen=True)
class OffsetMap:
    """Carries offsets in an original text onto its de-identified text (see :meth:`span`)."""

    replacements: tuple[tuple[int, int, int, int], ...] = ()  # old start, old end, new start, new end

    def _before(self, position: int, *, inclusive: bool) -> int:
        """How many replacements end at or before ``position`` (``inclusive``) or before it."""
        ends = [old_end for _, old_end, _, _ in self.replacements]
        return bisect.bisect_right(ends, position) if inclusive else bisect.bisect_left(ends, position)

    def _shift(self, index: int) -> int:
        if index == 0:
            return 0
        _, old_end, _, new_end = self.replacements[index - 1]
        return new_end - old_end

    def start(self, position: int) -> int:
        """Where a span starting at ``position`` starts now: inside a replacement, at its start."""
        index = self._before(position, inclusive=True)
        if index < len(self.replacements) and self.replacements[index][0] <= position:
            return self.replacements[index][2]
        return position + self._shift(index)

    def end(self, position: int) -> int:
        """Where a span ending at ``position`` ends now: inside a replacement, at its end."""
        index = self._before(position, inclusive=False)
        if index < len(self.replacements) and self.replacements[index][0] < position:
            return self.replacements[index][3]
        return position + self._shift(index)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """``(start, end)`` in the new text; a span inside one identifier covers its replacement."""
        new_start, new_end = self.start(start), self.end(end)
        return new_start, max(new_start, new_end)


@dataclass(frozen=True)
class MappedText:
    """A de-identified text, what was replaced (original offsets), and the offset map onto it."""

    text: str
    replacements: list[Replacement]
    offsets: OffsetMap


def deidentify_document(text: str, spans: Sequence[Span], book: PseudonymBook) -> MappedText:
    """Replace ``spans`` (from ``find_identifiers``) with the book's pseudonyms or the labels.

    Overlapping or out-of-range spans are skipped (the text stays), as in :func:`pseudonymise`.
    """
    parts: list[str] = []
    done: list[Replacement] = []
    pieces: list[tuple[int, int, int, int]] = []
    position = length = 0
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if span.start < position or span.end > len(text) or span.start >= span.end:
            continue
        original = text[span.start : span.end]
        new = book.pseudonym(span.kind, original)
        kept = text[position : span.start]
        parts += [kept, new]
        length += len(kept)
        pieces.append((span.start, span.end, length, length + len(new)))
        length += len(new)
        done.append(Replacement(span.start, span.end, span.kind, original, new))
        position = span.end
    parts.append(text[position:])
    return MappedText("".join(parts), done, OffsetMap(tuple(pieces)))
