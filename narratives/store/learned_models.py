"""Trained learned coders, as stored in ``learned_models``.

One training is a ``'*'`` row (the coder without its per-code estimators, and a card with what it was
trained on) followed by one row per fitted code (its estimator and model card, the card naming the
``'*'`` row as ``training_id``). Blobs are opaque bytes here: (de)serialising estimators is the
coder's business (:mod:`narratives.coding.training`). Older trainings keep their cards but lose
their blobs (:func:`prune_trainings`), so the table does not grow without bound.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, insert, select, update

from narratives.schema import utcnow
from narratives.store.rows import inserted_id
from narratives.store.tables import learned_models

TRAINING_CODE = "*"  # the code id of a training's own row


class LearnedModelRow(NamedTuple):
    """One row of ``learned_models``: a training (``code_id == '*'``) or one code's estimator."""

    id: int
    codebook: str
    code_id: str
    model: str
    blob: bytes
    card: dict[str, Any]
    created: datetime


def _row(row: Any) -> LearnedModelRow:
    return LearnedModelRow(
        id=int(row.id),
        codebook=row.codebook,
        code_id=row.code_id,
        model=row.model,
        blob=bytes(row.blob or b""),
        card=dict(row.card or {}),
        created=row.created,
    )


def save_training(
    connection: Connection,
    codebook: str,
    model: str,
    blob: bytes,
    card: dict[str, Any],
    estimators: Mapping[str, tuple[bytes, dict[str, Any]]],
    *,
    keep: int = 2,
) -> int:
    """Store one training: its ``'*'`` row and, per code, (estimator blob, model card); returns the
    training's id. Before writing, the blobs of all but the newest ``keep`` earlier trainings of
    ``codebook`` are emptied (:func:`prune_trainings`)."""
    now = utcnow()
    prune_trainings(connection, codebook, keep)
    result = connection.execute(
        insert(learned_models).values(
            codebook=codebook, code_id=TRAINING_CODE, model=model, blob=blob, card=card, created=now
        )
    )
    training_id = inserted_id(result)
    for code_id, (code_blob, code_card) in estimators.items():
        connection.execute(
            insert(learned_models).values(
                codebook=codebook,
                code_id=code_id,
                model=model,
                blob=code_blob,
                card={**code_card, "training_id": training_id},
                created=now,
            )
        )
    return training_id


def prune_trainings(connection: Connection, codebook: str, keep: int = 2) -> None:
    """Empty the blobs of all but the newest ``keep`` trainings; their model cards stay for the audit."""
    newest = (
        connection.execute(
            select(learned_models.c.id)
            .where(learned_models.c.codebook == codebook, learned_models.c.code_id == TRAINING_CODE)
            .order_by(learned_models.c.id.desc())
            .limit(keep)
        )
        .scalars()
        .all()
    )
    if len(newest) == keep:
        connection.execute(
            update(learned_models)
            .where(learned_models.c.codebook == codebook, learned_models.c.id < min(newest))
            .values(blob=b"")
        )


def latest_training(connection: Connection, codebook: str, model: str) -> LearnedModelRow | None:
    """The newest training's ``'*'`` row of ``codebook`` with embedding model ``model``, if any."""
    row = connection.execute(
        select(learned_models)
        .where(
            learned_models.c.codebook == codebook,
            learned_models.c.code_id == TRAINING_CODE,
            learned_models.c.model == model,
        )
        .order_by(learned_models.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else _row(row)


def training_estimators(connection: Connection, codebook: str, training_id: int) -> dict[str, bytes]:
    """code id -> estimator blob, of the codes fitted in training ``training_id``."""
    rows = connection.execute(
        select(learned_models.c.code_id, learned_models.c.blob, learned_models.c.card)
        .where(learned_models.c.codebook == codebook, learned_models.c.id > training_id)
        .order_by(learned_models.c.id)
    )
    return {
        str(code_id): bytes(blob or b"")
        for code_id, blob, card in rows
        if (card or {}).get("training_id") == training_id
    }


def learned_model_rows(connection: Connection, codebook: str | None = None) -> list[LearnedModelRow]:
    """Every stored row (of ``codebook``, when given), oldest first: the model cards' record."""
    query = select(learned_models).order_by(learned_models.c.id)
    if codebook is not None:
        query = query.where(learned_models.c.codebook == codebook)
    return [_row(row) for row in connection.execute(query)]
