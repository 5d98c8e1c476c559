"""The coded segments as tables: what :mod:`narratives.review.state` says holds, joined to documents.

:func:`coded_segments` gives one row per (segment, code) applied now (the definition is
:mod:`narratives.review.state`'s, nowhere else); :func:`carried_codes` is the same with every
ancestor of an applied code added, once per segment, so a parent theme counts what its sub-codes
carry (a segment carrying two sub-codes of one parent counts once for it). Every count, table and
chart uses :func:`carried_codes`; only the REFI-QDA exchange keeps to the codes actually applied.
:func:`code_hierarchy` says where each active code sits (level, nearest active parent, tree order);
:func:`document_table` gives every current document with its participant and attributes, so the
analyses can group coded segments by source kind, wave or any attribute.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from narratives.review.state import CodingState, PairState, Threshold, coding_state
from narratives.schema import Code, Codebook
from narratives.store.codebooks import current_codes
from narratives.store.documents import attribute_rows, current_document_rows, parse_attribute_value

__all__ = [
    "CARRIED_COLUMNS",
    "CODED_COLUMNS",
    "DOCUMENT_COLUMNS",
    "HIERARCHY_COLUMNS",
    "CodeHierarchy",
    "Threshold",
    "carried_codes",
    "carried_with_ancestors",
    "code_hierarchy",
    "codebook_name",
    "coded_segments",
    "coded_with_documents",
    "document_table",
]

CODED_COLUMNS = ["segment_id", "document_id", "code_id", "source", "score", "start", "end", "reviewer"]
CARRIED_COLUMNS = [*CODED_COLUMNS, "direct", "via"]
HIERARCHY_COLUMNS = ["code_id", "code_name", "level", "parent", "has_subcodes"]
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


@dataclass(frozen=True)
class CodeHierarchy:
    """Where each active code of a codebook sits: ``codes`` in tree order (each parent before its
    sub-codes, file order among siblings), ``parent``/``level`` counted over active codes only (a
    retired code in between is stepped over), and ``ancestors`` nearest first."""

    codes: tuple[Code, ...]
    parent: Mapping[str, str | None]
    ancestors: Mapping[str, tuple[str, ...]]

    def level(self, code_id: str) -> int:
        return len(self.ancestors.get(code_id, ()))

    def has_subcodes(self, code_id: str) -> bool:
        return any(self.parent[code.id] == code_id for code in self.codes)

    def name(self, code_id: str) -> str:
        return next((code.name or code.id for code in self.codes if code.id == code_id), code_id)

    def frame(self) -> pd.DataFrame:
        """:data:`HIERARCHY_COLUMNS`, one row per active code, in tree order."""
        parents = set(self.parent.values())
        rows = [
            (c.id, c.name or c.id, self.level(c.id), self.parent[c.id], c.id in parents) for c in self.codes
        ]
        return pd.DataFrame(rows, columns=HIERARCHY_COLUMNS)


def hierarchy_of(codes: Iterable[Code]) -> CodeHierarchy:
    """The :class:`CodeHierarchy` of ``codes`` (every code, retired ones too: they link the tree)."""
    every = {code.id: code for code in codes}
    chains = {code_id: _chain(every, code_id) for code_id in every}
    active = {code_id: [a for a in chain if not every[a].retired] for code_id, chain in chains.items()}
    ordered = [c for c in _tree_order(every) if not c.retired]
    return CodeHierarchy(
        codes=tuple(ordered),
        parent={c.id: active[c.id][0] if active[c.id] else None for c in ordered},
        ancestors={c.id: tuple(active[c.id]) for c in ordered},
    )


def _chain(every: Mapping[str, Code], code_id: str) -> list[str]:
    """Parent, grandparent, ... of ``code_id`` that the codebook holds, nearest first (no cycles)."""
    found: list[str] = []
    parent = every[code_id].parent
    while parent is not None and parent in every and parent not in found and parent != code_id:
        found.append(parent)
        parent = every[parent].parent
    return found


def _tree_order(every: Mapping[str, Code]) -> list[Code]:
    below: dict[str | None, list[Code]] = {}
    for code in every.values():
        parent = code.parent if code.parent in every and code.parent != code.id else None
        below.setdefault(parent, []).append(code)
    ordered: dict[str, Code] = {}
    stack = list(reversed(below.get(None, [])))
    while stack:
        code = stack.pop()
        if code.id not in ordered:
            ordered[code.id] = code
            stack.extend(reversed(below.get(code.id, [])))
    return [*ordered.values(), *(c for c in every.values() if c.id not in ordered)]  # then any cycle


def code_hierarchy(connection: Connection, codebook: str | Codebook) -> CodeHierarchy:
    """The hierarchy of the codebook's codes as they stand now in the project."""
    return hierarchy_of(current_codes(connection, codebook_name(codebook), include_retired=True))


def carried_with_ancestors(
    state: CodingState, hierarchy: CodeHierarchy, *, include_machine: bool = True
) -> Iterator[tuple[PairState, str]]:
    """Each (segment, code) carried now with each code it counts for: itself and every active
    ancestor. A segment reaches a parent once per sub-code it carries: count distinct segments."""
    for pair in state.carried(include_machine=include_machine):
        yield pair, pair.code_id
        for ancestor in hierarchy.ancestors.get(pair.code_id, ()):
            yield pair, ancestor


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
    """Every (segment, code) applied now, one row each: :data:`CODED_COLUMNS`.

    ``threshold`` (a number, or per-code numbers) replaces the coding runs' thresholds; ``unit``
    keeps segments of one unit; ``start``/``end`` are document offsets (a hand-coded review's span
    where it has one). ``score`` is the machine's score, also on reviewed rows (NaN where none);
    ``source`` is ``reviewed`` or ``machine``.
    """
    state = coding_state(connection, codebook_name(codebook), unit=unit, coder=coder, threshold=threshold)
    pairs = state.carried(include_machine=include_machine, include_retired=include_retired)
    return _ordered(_pair_frame((pair, pair.code_id) for pair in pairs)).drop(columns=["applied"])


def carried_codes(
    connection: Connection,
    codebook: str | Codebook,
    *,
    include_machine: bool = True,
    threshold: Threshold = None,
    coder: str | None = None,
    unit: str | None = None,
) -> pd.DataFrame:
    """Every (segment, code) a segment carries now, its codes' ancestors included: :data:`CARRIED_COLUMNS`.

    One row per (segment, code), however many sub-codes bring a parent to the segment. ``direct``
    says the code itself is applied; ``via`` lists the applied codes that bring it (sorted, ``", "``
    between). A row reached only through sub-codes takes the first of their rows in
    :func:`coded_segments`' order (reviewed first, then the highest score) for its source, score
    and span. Retired codes carry nothing, to their parents either.
    """
    name = codebook_name(codebook)
    state = coding_state(connection, name, unit=unit, coder=coder, threshold=threshold)
    hierarchy = code_hierarchy(connection, name)
    rows = list(carried_with_ancestors(state, hierarchy, include_machine=include_machine))
    via: dict[tuple[int, str], set[str]] = {}
    for pair, code_id in rows:
        via.setdefault((pair.segment_id, code_id), set()).add(pair.code_id)
    frame = _pair_frame(rows)
    frame["direct"] = frame["code_id"] == frame["applied"]
    first = frame.assign(_indirect=~frame["direct"], _machine=frame["source"] == "machine")
    first = first.assign(_score=-first["score"].fillna(float("inf")))
    first = first.sort_values(["segment_id", "code_id", "_indirect", "_machine", "_score"], kind="stable")
    first = first.drop_duplicates(["segment_id", "code_id"])
    frame = _ordered(first.drop(columns=["_indirect", "_machine", "_score", "applied"]))
    keys = zip(frame["segment_id"], frame["code_id"], strict=True)
    frame["via"] = pd.Series([", ".join(sorted(via[key])) for key in keys], dtype=object)
    return frame.reindex(columns=CARRIED_COLUMNS)


def _pair_frame(rows: Iterable[tuple[PairState, str]]) -> pd.DataFrame:
    """(pair, code counted) as :data:`CODED_COLUMNS` rows (``code_id`` the code counted) plus
    ``applied``, the code the pair itself is about."""
    records = [
        (
            pair.segment_id,
            pair.document_id,
            code_id,
            "machine" if pair.review is None else "reviewed",
            float("nan") if pair.score is None else pair.score,
            *pair.span,
            None if pair.review is None else pair.review.user,
            pair.code_id,
        )
        for pair, code_id in rows
    ]
    frame = pd.DataFrame(records, columns=[*CODED_COLUMNS, "applied"])
    frame["score"] = frame["score"].astype(float)
    frame["reviewer"] = frame["reviewer"].astype(object)
    return frame


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows by document, offset and code; ties (segments of two units at one offset) keep the order
    exports always had: reviewed rows first, then machine rows by score, highest first."""
    frame = frame.assign(_machine=frame["source"] == "machine", _score=-frame["score"].fillna(float("inf")))
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
