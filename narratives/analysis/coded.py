"""The coded segments as tables: what :mod:`narratives.review.state` says holds, joined to documents.

:func:`coded_segments` gives one row per (segment, code) that applies now (the definition is
:mod:`narratives.review.state`'s, nowhere else); :func:`document_table` gives every current document
with its participant and attributes, so the analyses can group coded segments by source kind, wave
or any attribute.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from narratives.review.state import Threshold, coding_state
from narratives.schema import Codebook
from narratives.store.documents import attribute_rows, current_document_rows, parse_attribute_value

__all__ = [
    "CODED_COLUMNS",
    "DOCUMENT_COLUMNS",
    "Threshold",
    "codebook_name",
    "coded_segments",
    "coded_with_documents",
    "document_table",
]

CODED_COLUMNS = ["segment_id", "document_id", "code_id", "source", "score", "start", "end", "reviewer"]
DOCUMENT_COLUMNS = [
    "document_id",
    "title",
    "kind",
    "wave",
    "participant",
    "person",
    "date",
    "question",
    "path",
]


def codebook_name(codebook: str | Codebook) -> str:
    return codebook if isinstance(codebook, str) else codebook.name


def coded_segments(
    connection: Connection,
    codebook: str | Codebook,
    *,
    include_machine: bool = True,
    threshold: Threshold = None,
    coder: str | None = None,
    unit: str | None = None,
    include_retired: bool = False,
) -> pd.DataFrame:
    """Every (segment, code) coded now, one row each: :data:`CODED_COLUMNS`.

    ``threshold`` (a number, or per-code numbers) replaces the coding runs' thresholds; ``unit``
    keeps segments of one unit; ``start``/``end`` are document offsets (a hand-coded review's span
    where it has one). ``score`` is the machine's score, also on reviewed rows (NaN where none);
    ``source`` is ``reviewed`` or ``machine``.
    """
    state = coding_state(connection, codebook_name(codebook), unit=unit, coder=coder, threshold=threshold)
    rows = [
        (
            pair.segment_id,
            pair.document_id,
            pair.code_id,
            "machine" if pair.review is None else "reviewed",
            float("nan") if pair.score is None else pair.score,
            *pair.span,
            None if pair.review is None else pair.review.user,
        )
        for pair in state.carried(include_machine=include_machine, include_retired=include_retired)
    ]
    frame = pd.DataFrame(rows, columns=CODED_COLUMNS)
    frame["score"] = frame["score"].astype(float)
    frame["reviewer"] = frame["reviewer"].astype(object)
    # Ties (segments of two units at one offset) keep the order exports always had: reviewed rows
    # first, then machine rows by score, highest first.
    frame["_machine"] = frame["source"] == "machine"
    frame["_score"] = -frame["score"].fillna(float("inf"))
    order = ["document_id", "start", "code_id", "_machine", "_score", "segment_id"]
    frame = frame.sort_values(order, kind="stable").drop(columns=["_machine", "_score"])
    return frame.reset_index(drop=True)


def document_table(connection: Connection, *, kinds: Iterable[str] | None = None) -> pd.DataFrame:
    """Current documents: :data:`DOCUMENT_COLUMNS` plus one column per attribute key.

    ``person`` is the participant key, or ``document <id>`` for a text without one (a blog post),
    so that counts "by participant" count such a text once. A document's own attribute wins over
    its participant's attribute of the same name.
    """
    rows = current_document_rows(connection, kinds=kinds)
    frame = pd.DataFrame(
        [(r.id, r.title, r.kind, r.wave, r.participant, r.date, r.question, r.path) for r in rows],
        columns=["document_id", "title", "kind", "wave", "participant", "date", "question", "path"],
    )
    frame["participant"] = frame["participant"].astype(object).where(frame["participant"].notna(), None)
    frame["person"] = [
        p if isinstance(p, str) else f"document {d}"
        for p, d in zip(frame["participant"], frame["document_id"], strict=True)
    ]
    frame["wave"] = frame["wave"].astype("Int64")
    owners = {r.id: r.participant_id for r in rows}
    for key, values in _attribute_values(connection, owners).items():
        if key not in frame.columns:
            frame[key] = frame["document_id"].map(values)
    return frame.reindex(columns=DOCUMENT_COLUMNS + [c for c in frame.columns if c not in DOCUMENT_COLUMNS])


def _attribute_values(connection: Connection, owners: dict[int, int | None]) -> dict[str, dict[int, Any]]:
    """key -> {document id -> value}: participant attributes, then the document's own on top."""
    by_participant: dict[int, list[int]] = {}
    for document_id, person in owners.items():
        if person is not None:
            by_participant.setdefault(int(person), []).append(document_id)
    found: dict[str, dict[int, Any]] = {}
    ordered = sorted(attribute_rows(connection), key=lambda row: row.document_id is not None)
    for row in ordered:
        parsed = parse_attribute_value(row.value, row.value_type)
        if row.document_id is not None:
            targets = [row.document_id]
        else:
            targets = by_participant.get(row.participant_id, []) if row.participant_id is not None else []
        for target in targets:
            if target in owners:
                found.setdefault(str(row.key), {})[int(target)] = parsed
    return found


def coded_with_documents(coded: pd.DataFrame, docs: pd.DataFrame) -> pd.DataFrame:
    """``coded`` rows joined to their document's kind, wave, person and attributes (inner join)."""
    return coded.merge(docs, on="document_id", how="inner")
