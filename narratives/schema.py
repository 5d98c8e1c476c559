"""The central types of `narratives`, shared by every stage.

Stages pass these pydantic models to one another; the store turns them into rows and back.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, Field

from narratives.kinds import Decision, SegmentUnit, SourceKind

__all__ = [
    "Attribute",
    "Code",
    "Codebook",
    "Decision",
    "Document",
    "Event",
    "Review",
    "Segment",
    "SegmentUnit",
    "SourceKind",
    "Suggestion",
    "Turn",
    "document_identity",
    "text_hash",
    "utcnow",
]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """A stored moment as an aware UTC datetime: SQLite hands back naive ones, written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def text_hash(text: str) -> str:
    """SHA-256 of the UTF-8 text: the identity of a document version and of an embedding."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Attribute(BaseModel):
    """A typed key/value about a document or a participant (age group, council, carer, ...)."""

    key: str
    value: str | int | float | bool | None
    value_type: str = "str"

    @classmethod
    def of(cls, key: str, value: Any) -> Attribute:
        if isinstance(value, bool):
            return cls(key=key, value=value, value_type="bool")
        if isinstance(value, int):
            return cls(key=key, value=value, value_type="int")
        if isinstance(value, float):
            return cls(key=key, value=value, value_type="float")
        return cls(key=key, value=None if value is None else str(value), value_type="str")


class Turn(BaseModel):
    """A speaker turn found by a transcript reader: offsets into the document text."""

    speaker: str
    start: int
    end: int


class Document(BaseModel):
    """One text as ingested: a blog post, an interview transcript, or one survey answer."""

    id: int | None = None
    kind: SourceKind
    title: str
    text: str
    author: str | None = None
    participant: str | None = None  # participant key, e.g. "P03" or a survey respondent id
    date: str | None = None
    wave: int | None = None
    question: str | None = None  # survey question column the answer came from
    path: str | None = None  # where the text came from (file, plus #row or #post where useful)
    source_format: str | None = None  # txt, md, docx, pdf, html, csv, xlsx, vtt, srt
    attributes: list[Attribute] = Field(default_factory=list)
    participant_attributes: list[Attribute] = Field(default_factory=list)
    turns: list[Turn] = Field(default_factory=list)
    content_hash: str = ""
    version: int = 1

    def model_post_init(self, __context: Any) -> None:
        if not self.content_hash:
            self.content_hash = document_identity(self.text, self.participant, self.question)


def document_identity(text: str, participant: str | None, question: str | None) -> str:
    """The content hash that recognises a document already stored.

    The same words from two respondents ("Nothing to add") are two documents, so the participant
    and the survey question are part of the identity; the same blog post in two files is one.
    """
    if participant is None and question is None:
        return text_hash(text)
    return text_hash(f"{participant or ''}\x1f{question or ''}\x1f{text}")


class Segment(BaseModel):
    """A span of a document: ``document.text[start:end] == text`` always holds."""

    id: int | None = None
    document_id: int
    unit: SegmentUnit
    index: int
    start: int
    end: int
    text: str
    speaker: str | None = None


class Code(BaseModel):
    """One code of a codebook, with what a coder (human or machine) needs to apply it."""

    id: str
    name: str
    parent: str | None = None
    definition: str = ""
    inclusion: list[str] = Field(default_factory=list)
    exclusion: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    near_misses: list[str] = Field(default_factory=list)
    phrases: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)  # regular expressions
    colour: str | None = None
    plain_name: str | None = None  # everyday words, for co-production panels
    retired: bool = False


class Codebook(BaseModel):
    """A versioned, hierarchical set of codes."""

    name: str
    version: str = "1"
    title: str | None = None
    description: str = ""
    licence: str | None = None
    codes: list[Code] = Field(default_factory=list)

    def code(self, code_id: str) -> Code:
        for code in self.codes:
            if code.id == code_id:
                return code
        raise KeyError(code_id)

    @property
    def active_codes(self) -> list[Code]:
        return [c for c in self.codes if not c.retired]

    def fingerprint(self, code_id: str) -> str:
        """Hash of one code's content: re-coding only touches codes whose fingerprint changed."""
        return text_hash(self.code(code_id).model_dump_json())

    def fingerprints(self) -> dict[str, str]:
        """:meth:`fingerprint` of every code by id, in one pass (the first code of an id counts)."""
        return {code.id: text_hash(code.model_dump_json()) for code in reversed(self.codes)}


class Suggestion(BaseModel):
    """A machine's proposal that a code applies to a segment, with the evidence behind it."""

    id: int | None = None
    run_id: int | None = None  # the coding run that wrote it (set when stored)
    segment_id: int
    code_id: str
    score: float
    evidence: str | None = None
    evidence_start: int | None = None  # offsets into the segment text, when the evidence is a span
    evidence_end: int | None = None
    reason: str | None = None  # why, in one sentence, when the coder gives one (the LLM coder)
    coder: str
    coder_version: str = "1"
    codebook: str = ""
    codebook_version: str = ""
    model: str | None = None
    config_hash: str = ""


class Review(BaseModel):
    """A human decision on a (segment, code): accepting or rejecting a suggestion, or hand coding."""

    id: int | None = None
    segment_id: int
    code_id: str
    decision: Decision
    user: str
    suggestion_id: int | None = None
    memo: str | None = None
    codebook: str = ""
    start: int | None = None  # hand-coded span inside the document, when not the whole segment
    end: int | None = None
    source: str = "ui"  # where it was made: ui, cli, csv, hand, merge, undo
    created: datetime = Field(default_factory=utcnow)


class Event(BaseModel):
    """One entry of the append-only audit log (written by every write path, read by the audit)."""

    id: int | None = None
    kind: str
    user: str
    target: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    undoes: int | None = None  # the event this one takes back
    undone_by: int | None = None  # derived when read: the undo event that took this one back
    created: datetime = Field(default_factory=utcnow)
