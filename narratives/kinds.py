"""The small vocabularies every stage shares: source kinds, segment units, review decisions.

Plain enums with no dependencies, so the command line can offer them as choices without loading
the pydantic models of :mod:`narratives.schema` (which re-exports them).
"""

from __future__ import annotations

from enum import Enum


class SourceKind(str, Enum):
    survey = "survey"
    interview = "interview"
    blog = "blog"


class SegmentUnit(str, Enum):
    sentence = "sentence"
    paragraph = "paragraph"
    turn = "turn"
    response = "response"


# Segment units from the finest to the coarsest: a segment of a finer unit is a passage of a coarser one.
UNIT_ORDER = (SegmentUnit.sentence, SegmentUnit.paragraph, SegmentUnit.turn, SegmentUnit.response)


class Decision(str, Enum):
    accept = "accept"
    reject = "reject"
    add = "add"  # a human applies a code the machine did not suggest
    remove = "remove"  # a human takes off a code applied earlier


class Role(str, Enum):
    """What a logged-in person may do: admins also manage people and may undo anyone's work."""

    admin = "admin"
    researcher = "researcher"
    panel = "panel"  # a co-production panel member: the panel view only


# A segment's sentiment, in this order everywhere (model columns, tables, the review queue).
SENTIMENTS = ("positive", "mixed", "negative")
