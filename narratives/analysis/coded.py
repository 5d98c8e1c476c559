"""Which codes a segment carries now: the one definition every analysis and export uses.

A (segment, code) pair is *coded* when

- its latest review (the highest review id, withdrawn reviews left out) says ``accept`` or ``add``:
  source ``"reviewed"``; a latest ``reject`` or ``remove`` takes the code off whatever the machine says;
- or, where no one has reviewed the pair, the machine's current suggestion from the ``ensemble`` coder
  (or, when a codebook has no ensemble rows, the coder with the most current suggestions) reaches the
  threshold of the coding run that wrote it: source ``"machine"``.

A run's threshold for a code is, in order: the per-code threshold the run recorded in ``stats``
(what the calibrated ensemble used), a per-code override in its ``config`` (``settings.thresholds`` or
``thresholds``), the run's default (``settings.threshold`` or ``threshold``), else 0.5.

:func:`document_table` gives every current document with its participant and attributes, so the
analyses can group coded segments by source kind, wave or any attribute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, func, select

from narratives.review.audit import withdrawn_review_ids
from narratives.review.record import POSITIVE
from narratives.schema import Codebook
from narratives.store.documents import parse_attribute_value
from narratives.store.tables import (
    attributes,
    codes,
    coding_runs,
    documents,
    participants,
    reviews,
    segments,
    suggestions,
)

ENSEMBLE = "ensemble"
DEFAULT_THRESHOLD = 0.5
CODED_COLUMNS = [
    "segment_id",
    "document_id",
    "code_id",
    "source",
    "score",
    "start",
    "end",
    "reviewer",
]
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

Threshold = float | Mapping[str, float] | None


@dataclass(frozen=True)
class RunThresholds:
    default: float = DEFAULT_THRESHOLD
    per_code: dict[str, float] = field(default_factory=dict)

    def of(self, code_id: str) -> float:
        return float(self.per_code.get(code_id, self.default))


def codebook_name(codebook: str | Codebook) -> str:
    return codebook if isinstance(codebook, str) else codebook.name


def run_thresholds(connection: Connection, codebook: str) -> dict[int, RunThresholds]:
    """Each coding run of ``codebook``: its default threshold and per-code thresholds."""
    found = {}
    rows = connection.execute(
        select(coding_runs.c.id, coding_runs.c.config, coding_runs.c.stats).where(
            coding_runs.c.codebook == codebook
        )
    )
    for run_id, config, stats in rows:
        config, stats = config or {}, stats or {}
        settings = config.get("settings") or {}
        default = settings.get("threshold", config.get("threshold", DEFAULT_THRESHOLD))
        per_code = {
            **(config.get("thresholds") or {}),
            **(settings.get("thresholds") or {}),
            **(stats.get("thresholds") or {}),
        }
        found[int(run_id)] = RunThresholds(float(default), {k: float(v) for k, v in per_code.items()})
    return found


def machine_coder(connection: Connection, codebook: str) -> str | None:
    """``ensemble`` when the codebook has current ensemble suggestions, else the most frequent coder."""
    rows = connection.execute(
        select(suggestions.c.coder, func.count())
        .where(suggestions.c.codebook == codebook, suggestions.c.current.is_(True))
        .group_by(suggestions.c.coder)
        .order_by(func.count().desc(), suggestions.c.coder)
    ).all()
    coders = [str(coder) for coder, _ in rows]
    if ENSEMBLE in coders:
        return ENSEMBLE
    return coders[0] if coders else None


def latest_reviews(connection: Connection, codebook: str) -> Any:
    """Subquery: the latest non-withdrawn review of each (segment, code) of ``codebook``."""
    latest = select(func.max(reviews.c.id).label("id")).where(reviews.c.codebook == codebook)
    withdrawn = withdrawn_review_ids(connection)
    if withdrawn:
        latest = latest.where(reviews.c.id.not_in(withdrawn))
    latest_ids = latest.group_by(reviews.c.segment_id, reviews.c.code_id).subquery()
    return (
        select(
            reviews.c.segment_id,
            reviews.c.code_id,
            reviews.c.decision,
            reviews.c.user,
            reviews.c.start,
            reviews.c.end,
        )
        .join(latest_ids, latest_ids.c.id == reviews.c.id)
        .subquery()
    )


def _scope(query: Any, unit: str | None) -> Any:
    query = query.join(documents, documents.c.id == segments.c.document_id).where(
        documents.c.current.is_(True)
    )
    return query.where(segments.c.unit == unit) if unit else query


def _reviewed(connection: Connection, codebook: str, unit: str | None) -> pd.DataFrame:
    latest = latest_reviews(connection, codebook)
    query = _scope(
        select(
            latest.c.segment_id,
            segments.c.document_id,
            latest.c.code_id,
            latest.c.decision,
            latest.c.user.label("reviewer"),
            func.coalesce(latest.c.start, segments.c.start).label("start"),
            func.coalesce(latest.c.end, segments.c.end).label("end"),
        ).join(segments, segments.c.id == latest.c.segment_id),
        unit,
    )
    columns = ["segment_id", "document_id", "code_id", "decision", "reviewer", "start", "end"]
    return pd.DataFrame(connection.execute(query).all(), columns=columns)


def _machine(
    connection: Connection, codebook: str, coder: str, floor: float, unit: str | None
) -> pd.DataFrame:
    """Current suggestions of ``coder`` scoring at least ``floor``, or whose pair was reviewed."""
    latest = latest_reviews(connection, codebook)
    pair = and_(latest.c.segment_id == suggestions.c.segment_id, latest.c.code_id == suggestions.c.code_id)
    query = _scope(
        select(
            suggestions.c.segment_id,
            segments.c.document_id,
            suggestions.c.code_id,
            suggestions.c.run_id,
            suggestions.c.score,
            segments.c.start,
            segments.c.end,
            latest.c.decision,
        )
        .join(segments, segments.c.id == suggestions.c.segment_id)
        .outerjoin(latest, pair)
        .where(
            suggestions.c.codebook == codebook,
            suggestions.c.current.is_(True),
            suggestions.c.coder == coder,
            (suggestions.c.score >= floor) | latest.c.decision.is_not(None),
        ),
        unit,
    )
    columns = ["segment_id", "document_id", "code_id", "run_id", "score", "start", "end", "decision"]
    frame = pd.DataFrame(connection.execute(query).all(), columns=columns)
    frame = frame.sort_values("score", ascending=False, kind="stable")
    return frame.drop_duplicates(["segment_id", "code_id"])


def _thresholds(frame: pd.DataFrame, runs: dict[int, RunThresholds], threshold: Threshold) -> pd.Series:
    if isinstance(threshold, int | float):
        return pd.Series(float(threshold), index=frame.index)
    override = dict(threshold or {})
    pairs = frame[["run_id", "code_id"]].drop_duplicates()
    pairs["threshold"] = [
        override.get(code_id, runs.get(int(run_id), RunThresholds()).of(code_id))
        for run_id, code_id in zip(pairs["run_id"], pairs["code_id"], strict=True)
    ]
    merged = frame[["run_id", "code_id"]].merge(pairs, on=["run_id", "code_id"], how="left")
    return pd.Series(merged["threshold"].to_numpy(), index=frame.index)


def _floor(runs: dict[int, RunThresholds], threshold: Threshold) -> float:
    if isinstance(threshold, int | float):
        return float(threshold)
    values = [DEFAULT_THRESHOLD, *dict(threshold or {}).values()]
    for run in runs.values():
        values += [run.default, *run.per_code.values()]
    return min(values)


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
    where it has one). ``score`` is the machine's score, also on reviewed rows (NaN where none).
    """
    name = codebook_name(codebook)
    reviewed = _reviewed(connection, name, unit)
    machine_coder_name = coder or machine_coder(connection, name)
    runs = run_thresholds(connection, name)
    machine = _machine(connection, name, machine_coder_name or "", _floor(runs, threshold), unit)
    positive = reviewed[reviewed["decision"].isin(POSITIVE)].drop(columns="decision")
    scores = machine[["segment_id", "code_id", "score"]].astype({"segment_id": "int64", "code_id": object})
    positive = positive.astype({"segment_id": "int64"}).merge(
        scores, on=["segment_id", "code_id"], how="left"
    )
    positive["source"] = "reviewed"
    frames = [positive]
    if include_machine and not machine.empty:
        unreviewed = machine[machine["decision"].isna()]
        unreviewed = unreviewed[unreviewed["score"] >= _thresholds(unreviewed, runs, threshold)]
        frames.append(unreviewed.drop(columns=["decision", "run_id"]).assign(source="machine", reviewer=None))
    frame = pd.concat([f for f in frames if not f.empty] or [positive], ignore_index=True)
    frame = frame.reindex(columns=CODED_COLUMNS)
    if not include_retired:
        frame = frame[~frame["code_id"].isin(retired_codes(connection, name))]
    frame = frame.reindex(columns=CODED_COLUMNS)
    frame["score"] = frame["score"].astype(float)
    return frame.sort_values(["document_id", "start", "code_id"], kind="stable").reset_index(drop=True)


def retired_codes(connection: Connection, codebook: str) -> set[str]:
    rows = connection.execute(
        select(codes.c.code_id).where(codes.c.codebook == codebook, codes.c.retired.is_(True))
    )
    return {str(code_id) for code_id in rows.scalars()}


def document_table(connection: Connection, *, kinds: Iterable[str] | None = None) -> pd.DataFrame:
    """Current documents: :data:`DOCUMENT_COLUMNS` plus one column per attribute key.

    ``person`` is the participant key, or ``document <id>`` for a text without one (a blog post),
    so that counts "by participant" count such a text once. A document's own attribute wins over
    its participant's attribute of the same name.
    """
    query = (
        select(
            documents.c.id,
            documents.c.title,
            documents.c.kind,
            documents.c.wave,
            participants.c.key,
            documents.c.participant_id,
            documents.c.date,
            documents.c.question,
            documents.c.path,
        )
        .outerjoin(participants, participants.c.id == documents.c.participant_id)
        .where(documents.c.current.is_(True))
        .order_by(documents.c.id)
    )
    if kinds:
        query = query.where(documents.c.kind.in_([str(k) for k in kinds]))
    rows = connection.execute(query).all()
    frame = pd.DataFrame(
        [(r.id, r.title, r.kind, r.wave, r.key, r.date, r.question, r.path) for r in rows],
        columns=["document_id", "title", "kind", "wave", "participant", "date", "question", "path"],
    )
    frame["participant"] = frame["participant"].astype(object).where(frame["participant"].notna(), None)
    frame["person"] = [
        p if isinstance(p, str) else f"document {d}"
        for p, d in zip(frame["participant"], frame["document_id"], strict=True)
    ]
    frame["wave"] = frame["wave"].astype("Int64")
    owners = {int(r.id): r.participant_id for r in rows}
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
    rows = connection.execute(
        select(
            attributes.c.document_id,
            attributes.c.participant_id,
            attributes.c.key,
            attributes.c.value,
            attributes.c.value_type,
        ).order_by(attributes.c.document_id.is_not(None), attributes.c.id)
    )
    for document_id, person, key, value, value_type in rows:
        parsed = parse_attribute_value(value, value_type)
        targets = [document_id] if document_id is not None else by_participant.get(person, [])
        for target in targets:
            if target in owners:
                found.setdefault(str(key), {})[int(target)] = parsed
    return found


def coded_with_documents(coded: pd.DataFrame, docs: pd.DataFrame) -> pd.DataFrame:
    """``coded`` rows joined to their document's kind, wave, person and attributes (inner join)."""
    return coded.merge(docs, on="document_id", how="inner")
