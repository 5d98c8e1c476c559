"""Searching a project's segments by words (full-text) or by meaning (the cached embeddings).

:func:`keyword_search` and :func:`semantic_search` take the same filters (unit, source kind, wave,
a code the segment carries now, sub-codes included) and return a :class:`SearchResult`: how many
segments matched and the best ``limit`` of them as :class:`SearchHit`\\ s, each in its context (the
text before and after it in its document) with the words that matched and the codes it carries.

Semantic search compares the query's vector with a :class:`SemanticIndex`: every stored vector of
the unit's segments in one matrix, built once (the explorer keeps it per data version) and asked
many times; segments not embedded yet are embedded and cached when it is built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
from sqlalchemy import Connection

from narratives.analysis.search_query import parse_query
from narratives.errors import SearchError
from narratives.store import search as store
from narratives.store.codebooks import codebook_names, current_codes, resolve_codebook_name
from narratives.store.coding_runs import last_coded_unit, last_model
from narratives.store.embeddings import save_vectors
from narratives.store.segments import segmented_units
from narratives.store.status import most_common_unit

if TYPE_CHECKING:
    from narratives.embed import Embedder

CONTEXT_CHARS = 160
DEFAULT_LIMIT = 20
Mode = Literal["keyword", "semantic"]


@dataclass(frozen=True)
class SearchFilters:
    """Which segments to look in: ``unit`` (default: the unit the codebook was coded in), source
    ``kinds``, ``waves``, and ``code``: segments carrying it now in ``codebook``."""

    unit: str | None = None
    kinds: tuple[str, ...] = ()
    waves: tuple[int, ...] = ()
    code: str | None = None
    codebook: str | None = None


@dataclass(frozen=True)
class SearchHit:
    segment_id: int
    document_id: int
    document_title: str
    kind: str
    wave: int | None
    participant: str | None
    start: int  # in the document
    end: int
    text: str
    score: float  # keyword: BM25 (SQLite) or ts_rank (PostgreSQL); semantic: cosine similarity
    highlights: tuple[tuple[int, int], ...]  # offsets in ``text`` of the words matched
    before: str  # the document's text just before the segment (up to CONTEXT_CHARS, from a word)
    after: str
    codes: tuple[str, ...]  # the codes it carries now (with their parents), when a codebook is given


@dataclass
class SearchResult:
    query: str
    mode: Mode
    unit: str
    total: int  # segments that matched (keyword) or were compared (semantic), before ``limit``
    hits: list[SearchHit] = field(default_factory=list)
    model: str | None = None


# ------------------------------------------------------------------------------------- filters


def search_unit(connection: Connection, requested: str | None, codebook: str | None) -> str:
    """The unit asked for (it must have segments), else the codebook's coding unit, else the commonest."""
    units = segmented_units(connection)
    if requested:
        if requested not in units:
            raise SearchError(
                f"the project has no {requested!r} segments (it has {', '.join(units) or 'none'}).",
                fix="pass --unit with one of those.",
            )
        return requested
    found = (last_coded_unit(connection, codebook) if codebook else None) or most_common_unit(connection)
    if found is None:
        raise SearchError("the project has no segments yet.", fix="run narratives segment PROJECT first.")
    return found


def search_codebook(connection: Connection, requested: str | None) -> str | None:
    """The codebook named, else the project's only one, else None (results then show no codes)."""
    if requested:
        return resolve_codebook_name(connection, requested)
    names = codebook_names(connection)
    return names[0] if len(names) == 1 else None


def search_model(connection: Connection, codebook: str | None) -> str | None:
    """The embedding model semantic search uses: the project's chosen one (`narratives models use`),
    else the codebook's last coding run's, else the model with the most stored vectors, else None
    (the default model)."""
    from narratives.models_local import project_model

    model = last_model(connection, codebook) if codebook else None
    if model is None:
        stored = store.stored_models(connection)
        model = stored[0][0] if stored else None
    return project_model(connection, None, fallback=model)


def code_id_of(connection: Connection, codebook: str, code: str) -> str:
    """The id of the active code given by id or by name (any case)."""
    codes = current_codes(connection, codebook)
    for known in codes:
        if code == known.id or code.casefold() == known.name.casefold():
            return known.id
    names = ", ".join(sorted(c.id for c in codes)[:12])
    raise SearchError(
        f"codebook {codebook!r} has no active code {code!r}.", fix=f"use one of its codes: {names}."
    )


def codes_by_segment(connection: Connection, codebook: str, unit: str) -> dict[int, tuple[str, ...]]:
    """segment id -> the codes it carries now, their parents included (one current-state pass)."""
    from narratives.analysis.coded import carried_codes

    frame = carried_codes(connection, codebook, unit=unit)
    found: dict[int, list[str]] = {}
    for segment_id, code_id in zip(frame["segment_id"], frame["code_id"], strict=True):
        found.setdefault(int(segment_id), []).append(str(code_id))
    return {segment_id: tuple(codes) for segment_id, codes in found.items()}


def _carried(
    connection: Connection, filters: SearchFilters, unit: str, carried: Mapping[int, tuple[str, ...]] | None
) -> Mapping[int, tuple[str, ...]] | None:
    if filters.codebook is None:
        if filters.code is not None:
            raise SearchError("a code filter needs a codebook.", fix="pass --codebook NAME with --code.")
        return None
    return carried if carried is not None else codes_by_segment(connection, filters.codebook, unit)


def _allowed(
    connection: Connection, filters: SearchFilters, carried: Mapping[int, tuple[str, ...]] | None
) -> set[int] | None:
    """The segments carrying the filter's code now, or None when no code is asked for."""
    if filters.code is None or filters.codebook is None or carried is None:
        return None
    code_id = code_id_of(connection, filters.codebook, filters.code)
    return {segment_id for segment_id, codes in carried.items() if code_id in codes}


# -------------------------------------------------------------------------------------- keyword


def keyword_search(
    connection: Connection,
    typed: str,
    filters: SearchFilters = SearchFilters(),
    *,
    limit: int = DEFAULT_LIMIT,
    carried: Mapping[int, tuple[str, ...]] | None = None,
) -> SearchResult:
    """The segments whose words match ``typed`` (see :mod:`narratives.analysis.search_query`), best first.

    ``carried`` (from :func:`codes_by_segment`) saves the current-state pass when the caller has it."""
    query = parse_query(typed)
    unit = search_unit(connection, filters.unit, filters.codebook)
    scope = store.Scope(unit, filters.kinds, filters.waves)
    codes = _carried(connection, filters, unit, carried)
    allowed = _allowed(connection, filters, codes)
    total, best = store.keyword_page(connection, query, scope, limit, among=allowed)
    spans = store.highlighted_spans(connection, query, [m.segment_id for m in best])
    hits = _hits(connection, [(m.segment_id, m.score) for m in best], spans, codes)
    return SearchResult(typed, "keyword", unit, total, hits)


# ------------------------------------------------------------------------------------- semantic


@dataclass
class SemanticIndex:
    """The stored vectors of one unit's segments under one model, as one normalised matrix."""

    model: str
    unit: str
    vectors: store.ScopeVectors

    @property
    def size(self) -> int:
        return int(self.vectors.segment_ids.shape[0])

    def nearest(self, query: np.ndarray, allowed: np.ndarray, limit: int) -> list[tuple[int, float]]:
        """(segment id, cosine similarity) of the ``limit`` rows nearest ``query`` among ``allowed``."""
        rows = np.flatnonzero(allowed)
        if rows.size == 0 or limit <= 0:
            return []
        scores = self.vectors.vectors[rows] @ query
        take = min(limit, rows.size)
        top = np.argpartition(-scores, take - 1)[:take]
        ordered = top[np.lexsort((self.vectors.segment_ids[rows[top]], -scores[top]))]
        return [(int(self.vectors.segment_ids[rows[i]]), float(scores[i])) for i in ordered]

    def mask(self, filters: SearchFilters, allowed: set[int] | None) -> np.ndarray:
        keep = np.ones(self.size, dtype=bool)
        if filters.kinds:
            keep &= np.isin(self.vectors.kinds, list(filters.kinds))
        if filters.waves:
            keep &= np.isin(self.vectors.waves, [float(w) for w in filters.waves])
        if allowed is not None:
            keep &= np.isin(
                self.vectors.segment_ids, np.fromiter(allowed, dtype=np.int64, count=len(allowed))
            )
        return keep


def build_semantic_index(connection: Connection, embedder: Embedder, unit: str) -> SemanticIndex:
    """Every ``unit`` segment's vector under ``embedder``; segments not embedded yet are embedded now
    and stored in the project's cache (in the caller's transaction), so the next build only reads."""
    missing = store.segments_without_vectors(connection, embedder.name, unit)
    if missing:
        vectors = embedder.encode([text for _, text in missing])
        save_vectors(connection, embedder.name, dict(zip([h for h, _ in missing], vectors, strict=True)))
    found = store.scope_vectors(connection, embedder.name, unit)
    norms = np.linalg.norm(found.vectors, axis=1, keepdims=True) if found.vectors.size else None
    if norms is not None:
        found = found._replace(vectors=(found.vectors / np.where(norms == 0, 1, norms)).astype(np.float32))
    return SemanticIndex(embedder.name, unit, found)


def semantic_search(
    connection: Connection,
    typed: str,
    index: SemanticIndex,
    embedder: Embedder,
    filters: SearchFilters = SearchFilters(),
    *,
    limit: int = DEFAULT_LIMIT,
    carried: Mapping[int, tuple[str, ...]] | None = None,
) -> SearchResult:
    """The segments nearest in meaning to ``typed`` (a word, a sentence or a whole passage)."""
    if not typed.strip():
        raise SearchError("there is nothing to search for.", fix="type a passage to find others like it.")
    if embedder.name != index.model:
        raise SearchError(f"the index holds {index.model} vectors, not {embedder.name}'s.", fix="rebuild it.")
    if index.size == 0:
        raise SearchError(f"the project has no {index.unit!r} segments to compare.", fix="segment it first.")
    codes = _carried(connection, filters, index.unit, carried)
    allowed = index.mask(filters, _allowed(connection, filters, codes))
    query = np.asarray(embedder.encode([typed.strip()])[0], dtype=np.float32)
    query = query / (np.linalg.norm(query) or 1.0)
    nearest = index.nearest(query, allowed, limit)
    hits = _hits(connection, nearest, {}, codes)
    return SearchResult(typed, "semantic", index.unit, int(allowed.sum()), hits, model=index.model)


# ----------------------------------------------------------------------------------------- hits


def _hits(
    connection: Connection,
    scored: Sequence[tuple[int, float]],
    spans: Mapping[int, list[tuple[int, int]]],
    codes: Mapping[int, tuple[str, ...]] | None,
) -> list[SearchHit]:
    found = store.segments_in_context(connection, [segment_id for segment_id, _ in scored])
    hits: list[SearchHit] = []
    for segment_id, score in scored:
        segment = found[segment_id]
        before, after = context_of(segment.document_text, segment.start, segment.end)
        hits.append(
            SearchHit(
                segment_id,
                segment.document_id,
                segment.document_title,
                segment.kind,
                segment.wave,
                segment.participant,
                segment.start,
                segment.end,
                segment.text,
                score,
                tuple(spans.get(segment_id, ())),
                before,
                after,
                tuple(codes.get(segment_id, ())) if codes is not None else (),
            )
        )
    return hits


def context_of(document: str, start: int, end: int, chars: int = CONTEXT_CHARS) -> tuple[str, str]:
    """Up to ``chars`` characters of ``document`` either side of [start, end), cut at a space."""
    before = document[max(0, start - chars) : start]
    if start - chars > 0 and " " in before:
        before = before[before.index(" ") + 1 :]
    after = document[end : end + chars]
    if end + chars < len(document) and " " in after:
        after = after[: after.rindex(" ")]
    return before, after
