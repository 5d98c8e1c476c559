"""Finding segments: full-text matches (SQLite FTS5, PostgreSQL ``tsvector``) and the vectors semantic
search compares.

A keyword query arrives as :class:`TextQuery` clauses (parsed by :mod:`narratives.analysis.search_query`)
and is written here in each backend's own language: FTS5 ``MATCH`` with porter stemming on SQLite,
``to_tsquery('english', ...)`` on PostgreSQL, both served by the index of migration 0003.
Highlights come back as offsets into the segment text, so the caller never parses markup.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import Connection, and_, bindparam, func, literal_column, select, text
from sqlalchemy.sql.elements import ColumnElement

from narratives.errors import SearchError
from narratives.store.embeddings import decode_vectors
from narratives.store.rows import chunked
from narratives.store.tables import documents, embeddings, participants, segments

SEARCH_INDEX = "segments_fts"  # the FTS5 table of migration 0003 (SQLite); its shadow tables share the prefix


def is_search_index(table_name: str) -> bool:
    """Whether a table is the full-text index or one of FTS5's shadow tables: derived from
    ``segments``, so it is no data a project holds (a backup copies it; counts leave it out)."""
    return table_name == SEARCH_INDEX or table_name.startswith(f"{SEARCH_INDEX}_")


START_MARK, END_MARK = "\x02", "\x03"  # around a matched word in highlighted text; never in stored text


class Clause(NamedTuple):
    """Terms that must all match (each a word, a ``"phrase"`` or a ``prefix*``) and terms that must not."""

    required: tuple[str, ...]
    excluded: tuple[str, ...] = ()


class TextQuery(NamedTuple):
    """Clauses joined by OR."""

    clauses: tuple[Clause, ...]


class Scope(NamedTuple):
    """Which segments a search looks at: one unit, of current documents, of these kinds and waves."""

    unit: str
    kinds: tuple[str, ...] = ()
    waves: tuple[int, ...] = ()


class Match(NamedTuple):
    segment_id: int
    score: float  # larger is better


class SegmentInContext(NamedTuple):
    segment_id: int
    document_id: int
    document_title: str
    kind: str
    wave: int | None
    participant: str | None
    unit: str
    start: int
    end: int
    text: str
    document_text: str


class ScopeVectors(NamedTuple):
    """The stored vectors of the segments in a scope, and what the semantic search filters them by."""

    segment_ids: np.ndarray  # int64
    vectors: np.ndarray  # float32, one row per segment
    kinds: np.ndarray  # object: the document kind of each row
    waves: np.ndarray  # float64, NaN where the document has no wave


# ------------------------------------------------------------------------------- keyword matches


def has_text_index(connection: Connection) -> bool:
    """Whether keyword search has its index (always on PostgreSQL; on SQLite, when built with FTS5)."""
    if connection.dialect.name != "sqlite":
        return True
    found = connection.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'segments_fts'")).first()
    return found is not None


def keyword_matches(connection: Connection, query: TextQuery, scope: Scope) -> list[Match]:
    """Every segment in ``scope`` the query matches, best first (ties: lower segment id first)."""
    if not has_text_index(connection):
        raise SearchError(
            "this SQLite library was built without FTS5, which keyword search needs.",
            fix="use --semantic, or install Python from python.org or your distribution (both have FTS5).",
        )
    if connection.dialect.name == "sqlite":
        return _sqlite_matches(connection, query, scope)
    return _postgres_matches(connection, query, scope)


def _in_scope(scope: Scope) -> list[ColumnElement[bool]]:
    found = [documents.c.current.is_(True), segments.c.unit == scope.unit]
    if scope.kinds:
        found.append(documents.c.kind.in_(scope.kinds))
    if scope.waves:
        found.append(documents.c.wave.in_(scope.waves))
    return found


def keyword_page(
    connection: Connection, query: TextQuery, scope: Scope, limit: int, among: Collection[int] | None = None
) -> tuple[int, list[Match]]:
    """How many segments in ``scope`` the query matches (only those in ``among``, when given) and the
    best ``limit`` of them, ordered as :func:`keyword_matches`.

    On SQLite the count and the best rows are two queries, so only ``limit`` rows reach Python: a
    common word matches a third of 100,000 segments, and fetching them all cost ~200 ms of the
    ~300. ``among`` travels as one JSON array (``json_each``). PostgreSQL takes every match."""
    if among is not None and not among:
        return 0, []
    if connection.dialect.name != "sqlite" or not has_text_index(connection):
        matches = keyword_matches(connection, query, scope)
        if among is not None:
            keep = set(among)
            matches = [m for m in matches if m.segment_id in keep]
        return len(matches), matches[: max(limit, 0)]
    where, values = _sqlite_where(query, scope, among)
    total = connection.execute(text(f"SELECT count(*) {where}").bindparams(*_expanding(values)), values)
    best = text(
        f"SELECT segments_fts.rowid AS id, bm25(segments_fts) AS rank {where} "
        "ORDER BY rank, segments_fts.rowid LIMIT :limit"
    ).bindparams(*_expanding(values))
    rows = connection.execute(best, {**values, "limit": max(limit, 0)})
    return int(total.scalar_one()), [Match(int(row.id), -float(row.rank)) for row in rows]


def _sqlite_matches(connection: Connection, query: TextQuery, scope: Scope) -> list[Match]:
    where, values = _sqlite_where(query, scope)
    sql = text(
        f"SELECT segments_fts.rowid AS id, bm25(segments_fts) AS rank {where} "
        "ORDER BY rank, segments_fts.rowid"
    ).bindparams(*_expanding(values))
    rows = connection.execute(sql, values)
    return [Match(int(row.id), -float(row.rank)) for row in rows]


def _sqlite_where(
    query: TextQuery, scope: Scope, among: Collection[int] | None = None
) -> tuple[str, dict[str, Any]]:
    """The FROM and WHERE of a keyword query on SQLite, and the values it binds."""
    conditions, values = _scope_sql(scope)
    if among is not None:
        conditions += " AND segments.id IN (SELECT value FROM json_each(:among))"
        values["among"] = json.dumps(sorted(int(i) for i in among))
    where = (
        "FROM segments_fts JOIN segments ON segments.id = segments_fts.rowid "
        "JOIN documents ON documents.id = segments.document_id "
        f"WHERE segments_fts MATCH :match AND {conditions}"
    )
    return where, {"match": fts5_expression(query), **values}


def _scope_sql(scope: Scope) -> tuple[str, dict[str, Any]]:
    conditions = ["documents.current = 1", "segments.unit = :unit"]
    values: dict[str, Any] = {"unit": scope.unit}
    if scope.kinds:
        conditions.append("documents.kind IN :kinds")
        values["kinds"] = list(scope.kinds)
    if scope.waves:
        conditions.append("documents.wave IN :waves")
        values["waves"] = list(scope.waves)
    return " AND ".join(conditions), values


def _expanding(values: dict[str, Any]) -> list[Any]:
    return [bindparam(name, expanding=True) for name in ("kinds", "waves") if name in values]


# A literal, not a bound parameter, so the planner sees the expression of the index of migration 0003.
ENGLISH: ColumnElement[Any] = literal_column("'english'::regconfig")


def _postgres_matches(connection: Connection, query: TextQuery, scope: Scope) -> list[Match]:
    vector = func.to_tsvector(ENGLISH, segments.c.text)
    tsquery = func.to_tsquery(ENGLISH, tsquery_expression(query))
    rank = func.ts_rank_cd(vector, tsquery).label("rank")
    statement = (
        select(segments.c.id, rank)
        .join(documents, documents.c.id == segments.c.document_id)
        .where(vector.bool_op("@@")(tsquery), *_in_scope(scope))
        .order_by(rank.desc(), segments.c.id)
    )
    return [Match(int(row.id), float(row.rank)) for row in connection.execute(statement)]


def fts5_expression(query: TextQuery) -> str:
    """The query in FTS5's syntax: every term quoted, so no word of the user's is read as an operator."""
    return " OR ".join(f"({_fts5_clause(clause)})" for clause in query.clauses)


def _fts5_clause(clause: Clause) -> str:
    required = " AND ".join(_fts5_term(term) for term in clause.required)
    excluded = "".join(f" NOT {_fts5_term(term)}" for term in clause.excluded)
    return required + excluded


def _fts5_term(term: str) -> str:
    prefix = term.endswith("*")
    words = term.rstrip("*").replace('"', '""')
    return f'"{words}"' + ("*" if prefix else "")


_TSQUERY_UNSAFE = re.compile(r"[^\w]+", re.UNICODE)


def tsquery_expression(query: TextQuery) -> str:
    """The query in ``to_tsquery`` syntax: words reduced to letters and digits, phrases joined by ``<->``."""
    return " | ".join(f"({_tsquery_clause(clause)})" for clause in query.clauses)


def _tsquery_clause(clause: Clause) -> str:
    parts = [_tsquery_term(term) for term in clause.required]
    parts += [f"!{_tsquery_term(term)}" for term in clause.excluded]
    return " & ".join(parts)


def _tsquery_term(term: str) -> str:
    prefix = term.endswith("*")
    words = [w for w in _TSQUERY_UNSAFE.split(term.rstrip("*")) if w]
    if prefix and words:
        words[-1] += ":*"
    return "(" + " <-> ".join(words) + ")"


# ------------------------------------------------------------------------------------ highlights


def highlighted_spans(
    connection: Connection, query: TextQuery, segment_ids: Sequence[int]
) -> dict[int, list[tuple[int, int]]]:
    """segment id -> the (start, end) offsets in its text of the words the query matched."""
    if not segment_ids or not has_text_index(connection):
        return {}
    if connection.dialect.name == "sqlite":
        sql = text(
            "SELECT rowid AS id, highlight(segments_fts, 0, :start, :end) AS marked FROM segments_fts "
            "WHERE segments_fts MATCH :match AND rowid IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        values = {"start": START_MARK, "end": END_MARK, "match": fts5_expression(query)}
        rows = connection.execute(sql, {**values, "ids": list(segment_ids)})
    else:
        options = f"StartSel={START_MARK}, StopSel={END_MARK}, HighlightAll=true"
        tsquery = func.to_tsquery(ENGLISH, tsquery_expression(query))
        marked = func.ts_headline(ENGLISH, segments.c.text, tsquery, options).label("marked")
        rows = connection.execute(select(segments.c.id, marked).where(segments.c.id.in_(list(segment_ids))))
    plain = select(segments.c.id, segments.c.text).where(segments.c.id.in_(list(segment_ids)))
    stored = {int(row.id): row.text for row in connection.execute(plain)}
    found: dict[int, list[tuple[int, int]]] = {}
    for row in rows:
        spans = marks_to_spans(str(row.marked))
        if spans is not None and spans[0] == stored.get(int(row.id)):
            found[int(row.id)] = spans[1]
    return found


def marks_to_spans(marked: str) -> tuple[str, list[tuple[int, int]]] | None:
    """The plain text and the offsets of the marked parts of a highlighted text (None if malformed)."""
    plain: list[str] = []
    spans: list[tuple[int, int]] = []
    position, opened = 0, None
    for piece in re.split(f"([{START_MARK}{END_MARK}])", marked):
        if piece == START_MARK:
            if opened is not None:
                return None
            opened = position
        elif piece == END_MARK:
            if opened is None:
                return None
            spans.append((opened, position))
            opened = None
        else:
            plain.append(piece)
            position += len(piece)
    return ("".join(plain), spans) if opened is None else None


# ---------------------------------------------------------------------------------- the segments


def segments_in_context(connection: Connection, segment_ids: Sequence[int]) -> dict[int, SegmentInContext]:
    """The segments with their document's title, kind, wave, participant and whole text."""
    found: dict[int, SegmentInContext] = {}
    for chunk in chunked(list(segment_ids)):
        query = (
            select(
                segments.c.id,
                segments.c.document_id,
                segments.c.unit,
                segments.c.start,
                segments.c.end,
                segments.c.text,
                documents.c.title,
                documents.c.kind,
                documents.c.wave,
                documents.c.text.label("document_text"),
                participants.c.key.label("participant"),
            )
            .join(documents, documents.c.id == segments.c.document_id)
            .outerjoin(participants, participants.c.id == documents.c.participant_id)
            .where(segments.c.id.in_(chunk))
        )
        for row in connection.execute(query):
            found[int(row.id)] = SegmentInContext(
                int(row.id),
                int(row.document_id),
                row.title,
                row.kind,
                None if row.wave is None else int(row.wave),
                row.participant,
                row.unit,
                int(row.start),
                int(row.end),
                row.text,
                row.document_text,
            )
    return found


def segment_ids_in_scope(connection: Connection, scope: Scope) -> list[int]:
    query = select(segments.c.id).join(documents, documents.c.id == segments.c.document_id)
    return [
        int(i) for i in connection.execute(query.where(*_in_scope(scope)).order_by(segments.c.id)).scalars()
    ]


# ------------------------------------------------------------------------------ semantic vectors


def scope_vectors(connection: Connection, model: str, unit: str) -> ScopeVectors:
    """Every stored ``model`` vector of the ``unit`` segments of current documents (one query)."""
    query = (
        select(segments.c.id, documents.c.kind, documents.c.wave, embeddings.c.dim, embeddings.c.vector)
        .join(documents, documents.c.id == segments.c.document_id)
        .join(embeddings, and_(embeddings.c.text_hash == segments.c.text_hash, embeddings.c.model == model))
        .where(documents.c.current.is_(True), segments.c.unit == unit)
        .order_by(segments.c.id)
    )
    ids: list[int] = []
    kinds: list[str] = []
    waves: list[float] = []
    blobs: list[bytes] = []
    dims: list[int] = []
    for row in connection.execute(query):
        ids.append(int(row.id))
        kinds.append(row.kind)
        waves.append(float("nan") if row.wave is None else float(row.wave))
        dims.append(int(row.dim))
        blobs.append(bytes(row.vector))
    vectors = decode_vectors(blobs, dims)
    return ScopeVectors(
        np.array(ids, dtype=np.int64), vectors, np.array(kinds, dtype=object), np.array(waves)
    )


def segments_without_vectors(connection: Connection, model: str, unit: str) -> list[tuple[str, str]]:
    """(text hash, text) of the ``unit`` segments of current documents with no ``model`` vector, once each."""
    stored = select(embeddings.c.text_hash).where(embeddings.c.model == model)
    query = (
        select(segments.c.text_hash, func.min(segments.c.text).label("text"))
        .join(documents, documents.c.id == segments.c.document_id)
        .where(documents.c.current.is_(True), segments.c.unit == unit, segments.c.text_hash.not_in(stored))
        .group_by(segments.c.text_hash)
    )
    return [(row.text_hash, row.text) for row in connection.execute(query)]


def stored_models(connection: Connection) -> list[tuple[str, int]]:
    """The embedding models with vectors stored, most vectors first."""
    query = select(embeddings.c.model, func.count().label("n")).group_by(embeddings.c.model)
    rows = connection.execute(query.order_by(func.count().desc(), embeddings.c.model))
    return [(row.model, int(row.n)) for row in rows]
