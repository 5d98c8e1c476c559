"""Warnings before a quote leaves the team: its speaker is one of fewer than 5 people in a group.

A quote from "the only three deafblind respondents" points at one of three people, however well its
text is de-identified. :func:`small_group_warnings` takes the quotes about to go into an output and
the attributes that output shows (with the quote, or in its tables), and returns, per document, each
group the speaker belongs to that has fewer than ``min_size`` people in the data: each attribute
value on its own (``need_group = deafblind``), and the combination of the attributes shown with the
quote (``kind = interview, wave = 2``). People are counted as in the analyses: a participant once,
a text without one (a blog post) once. A speaker with no value for an attribute is not in its group.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd
from sqlalchemy import Connection

from narratives.analysis.coded import document_table
from narratives.store.segments import load_segments

MIN_SIZE = 5
DEFAULT_ATTRIBUTES = ("kind", "need_group", "council")


class HasDocument(Protocol):
    @property
    def document_id(self) -> int: ...


@dataclass(frozen=True)
class SmallGroup:
    """A group a quote's speaker belongs to, with how many people are in it."""

    document_id: int
    attributes: tuple[tuple[str, str], ...]  # (attribute, value), one or more
    size: int

    @property
    def message(self) -> str:
        group = ", ".join(f"{key} = {value}" for key, value in self.attributes)
        people = "person" if self.size == 1 else "people"
        return f"the speaker is one of {self.size} {people} with {group}: a quote may identify them."


def _value(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _groups(
    row: dict[str, Any], attributes: Sequence[str], shown: Sequence[str]
) -> list[tuple[tuple[str, str], ...]]:
    values = {key: _value(row.get(key)) for key in {*attributes, *shown}}
    groups: list[tuple[tuple[str, str], ...]] = [
        ((key, value),) for key in dict.fromkeys([*shown, *attributes]) if (value := values[key]) is not None
    ]
    combined = tuple((key, value) for key in shown if (value := values[key]) is not None)
    if len(combined) > 1:
        groups.append(combined)
    return groups


def small_group_warnings(
    connection: Connection,
    quotes: Iterable[HasDocument | int],
    attributes: Sequence[str] = DEFAULT_ATTRIBUTES,
    *,
    shown: Sequence[str] = (),
    min_size: int = MIN_SIZE,
) -> dict[int, list[SmallGroup]]:
    """Document id -> the small groups its speaker is in, for each quote (or document id) given.

    ``attributes`` are those the output uses (each value checked on its own); ``shown`` those shown
    with each quote (also checked together). Attributes the project does not hold are left out;
    documents without a small group are left out of the answer.
    """
    wanted = {q if isinstance(q, int) else int(q.document_id) for q in quotes}
    if not wanted:
        return {}
    docs = document_table(connection)
    attributes = [a for a in attributes if a in docs.columns]
    shown = [a for a in shown if a in docs.columns]
    sizes: dict[tuple[tuple[str, str], ...], set[str]] = {}
    rows = docs.to_dict("records")
    for row in rows:
        for group in _groups(row, attributes, shown):
            sizes.setdefault(group, set()).add(str(row["person"]))
    found: dict[int, list[SmallGroup]] = {}
    for row in rows:
        document_id = int(row["document_id"])
        if document_id in wanted:
            small = [
                SmallGroup(document_id, group, len(sizes[group]))
                for group in _groups(row, attributes, shown)
                if len(sizes[group]) < min_size
            ]
            if small:
                found[document_id] = small
    return found


def segment_small_groups(
    connection: Connection,
    segment_ids: Iterable[int],
    attributes: Sequence[str] = DEFAULT_ATTRIBUTES,
    *,
    shown: Sequence[str] = ("kind",),
    min_size: int = MIN_SIZE,
) -> dict[int, list[SmallGroup]]:
    """Segment id -> :func:`small_group_warnings` of its document: for pickers that list segments."""
    documents = {
        int(s.id or 0): s.document_id
        for s in load_segments(connection, ids=list(segment_ids), current_only=False)
    }
    by_document = small_group_warnings(
        connection, documents.values(), attributes, shown=shown, min_size=min_size
    )
    return {
        segment: by_document[document] for segment, document in documents.items() if document in by_document
    }
