"""Balanced exemplar quotes for a theme.

A report that quotes the three most articulate people says more about them than about the theme.
:func:`exemplar_quotes` picks quotes from segments that carry the code now (reviewed, or machine
suggestions at or above the threshold; for a parent theme, segments carrying any code below it, as
:func:`~narratives.analysis.coded.carried_codes` says), at most one per participant, skipping near-duplicate text,
and greedily spreads them over the groups of ``balance_by`` attributes, source kinds and waves: each
pick is the candidate that adds the most to groups shown least so far (a group already shown twice
counts a third of a new one). Reviewed segments come before machine ones when ``prefer_reviewed``;
ties go to the higher score.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from narratives.analysis.coded import (
    Threshold,
    carried_codes,
    codebook_name,
    coded_with_documents,
    document_table,
)
from narratives.errors import AnalysisError
from narratives.schema import Codebook
from narratives.store.codebooks import current_codes
from narratives.store.documents import document_text
from narratives.store.segments import load_segments

logger = logging.getLogger(__name__)

DEFAULT_BALANCE = ("need_group", "council")
NEAR_DUPLICATE = 0.6  # word-set Jaccard similarity at which two quotes count as the same
WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Quote:
    text: str
    code_id: str
    segment_id: int
    document_id: int
    document_title: str
    participant: str | None
    kind: str
    wave: int | None
    source: str  # "reviewed" or "machine"
    score: float | None
    attributes: dict[str, Any] = field(default_factory=dict)
    via: str = ""  # the applied code(s) that bring ``code_id`` to the segment: itself, or sub-codes

    @property
    def attribution(self) -> str:
        """A short citation: participant (or document), source kind, wave."""
        who = self.participant or self.document_title
        wave = f", wave {self.wave}" if self.wave is not None else ""
        return f"{who} ({self.kind}{wave})"


@dataclass
class _Candidate:
    row: dict[str, Any]
    text: str
    words: frozenset[str]
    features: frozenset[tuple[str, str]]


def quote_texts(connection: Connection, coded: pd.DataFrame) -> list[str]:
    """The text each coded row covers: the segment, or the hand-coded span of the document."""
    ids = [int(i) for i in coded["segment_id"].unique()]
    found = {
        int(s.id or 0): (s.start, s.end, s.text)
        for s in load_segments(connection, ids=ids, current_only=False)
    }
    texts = []
    for row in coded.itertuples(index=False):
        start, end, text = found[int(row.segment_id)]
        if (int(row.start), int(row.end)) != (start, end):
            text = document_text(connection, int(row.document_id))[int(row.start) : int(row.end)]
        texts.append(text)
    return texts


def _words(text: str) -> frozenset[str]:
    return frozenset(word.lower() for word in WORD.findall(text))


def is_near_duplicate(first: frozenset[str], second: frozenset[str], limit: float = NEAR_DUPLICATE) -> bool:
    if not first or not second:
        return first == second
    overlap = len(first & second)
    return overlap / len(first | second) >= limit or overlap == min(len(first), len(second))


def _features(row: dict[str, Any], balance_by: Sequence[str]) -> frozenset[tuple[str, str]]:
    found = {("kind", str(row["kind"]))}
    if not pd.isna(row["wave"]):
        found.add(("wave", str(int(row["wave"]))))
    for key in balance_by:
        value = row.get(key)
        if value is not None and not pd.isna(value):
            found.add((key, str(value)))
    return frozenset(found)


def _candidates(
    connection: Connection, coded: pd.DataFrame, balance_by: Sequence[str], min_words: int, max_words: int
) -> list[_Candidate]:
    coded = coded.assign(text=quote_texts(connection, coded)) if not coded.empty else coded.assign(text=[])
    found = []
    for row in coded.to_dict("records"):
        text = " ".join(str(row["text"]).split())
        if min_words <= len(text.split()) <= max_words:
            found.append(_Candidate(row, text, _words(text), _features(row, balance_by)))
    return found


def _priority(candidate: _Candidate, prefer_reviewed: bool) -> tuple[float, ...]:
    score = candidate.row["score"]
    reviewed = float(prefer_reviewed and candidate.row["source"] == "reviewed")
    return (reviewed, -1.0 if pd.isna(score) else float(score))


def choose_balanced(candidates: list[_Candidate], n: int, prefer_reviewed: bool = True) -> list[_Candidate]:
    """Greedy max-coverage with diminishing returns; one per person; no near-duplicates."""
    remaining = sorted(candidates, key=lambda c: _priority(c, prefer_reviewed), reverse=True)
    shown: Counter[tuple[str, str]] = Counter()
    chosen: list[_Candidate] = []
    while remaining and len(chosen) < n:

        def key(candidate: _Candidate) -> tuple[float, ...]:
            gain = sum(1 / (1 + shown[f]) for f in candidate.features)
            reviewed, score = _priority(candidate, prefer_reviewed)
            return (reviewed, round(gain, 9), score)

        best = max(remaining, key=key)  # max keeps the first of equals: the higher priority
        chosen.append(best)
        shown.update(best.features)
        remaining = [
            c
            for c in remaining
            if c.row["person"] != best.row["person"] and not is_near_duplicate(c.words, best.words)
        ]
    return chosen


def exemplar_quotes(
    connection: Connection,
    codebook: str | Codebook,
    code_id: str,
    *,
    n: int = 5,
    balance_by: Sequence[str] = DEFAULT_BALANCE,
    prefer_reviewed: bool = True,
    min_words: int = 6,
    max_words: int = 80,
    min_score: float | None = None,
    include_machine: bool = True,
    threshold: Threshold = None,
    kinds: Sequence[str] | None = None,
) -> list[Quote]:
    """Up to ``n`` quotes for ``code_id`` spread across groups (see the module docstring).

    ``min_score`` keeps only machine-coded segments scoring at least that much (reviewed ones stay);
    quotes shorter than ``min_words`` or longer than ``max_words`` words are left out.
    """
    name = codebook_name(codebook)
    if code_id not in {c.id for c in current_codes(connection, name, include_retired=True)}:
        raise AnalysisError(f"code '{code_id}' is not in codebook '{name}'.", fix="check the code id.")
    docs = document_table(connection, kinds=kinds)
    missing = [key for key in balance_by if key not in docs.columns]
    if missing:
        logger.info("no attribute %s in the project; balancing without it", ", ".join(missing))
    coded = carried_codes(connection, name, include_machine=include_machine, threshold=threshold)
    coded = coded_with_documents(coded[coded["code_id"] == code_id], docs)
    if min_score is not None:
        coded = coded[(coded["source"] == "reviewed") | (coded["score"] >= min_score)]
    balance = [key for key in balance_by if key in docs.columns]
    attribute_keys = [
        c
        for c in docs.columns
        if c
        not in {"document_id", "title", "kind", "wave", "participant", "person", "date", "question", "path"}
    ]
    candidates = _candidates(connection, coded, balance, min_words, max_words)
    return [_quote(c, code_id, attribute_keys) for c in choose_balanced(candidates, n, prefer_reviewed)]


def _quote(candidate: _Candidate, code_id: str, attribute_keys: list[str]) -> Quote:
    row = candidate.row
    attributes = {k: row[k] for k in attribute_keys if k in row and not pd.isna(row[k])}
    return Quote(
        text=candidate.text,
        code_id=code_id,
        segment_id=int(row["segment_id"]),
        document_id=int(row["document_id"]),
        document_title=str(row["title"]),
        participant=row["participant"] if isinstance(row["participant"], str) else None,
        kind=str(row["kind"]),
        wave=None if pd.isna(row["wave"]) else int(row["wave"]),
        source=str(row["source"]),
        score=None if pd.isna(row["score"]) else float(row["score"]),
        attributes=attributes,
        via=str(row.get("via") or code_id),
    )
