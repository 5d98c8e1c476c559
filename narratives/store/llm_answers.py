"""The LLM coder's answers, one row per (model, prompt hash, text hash): what the server said about
one segment text under one prompt, so a later run sends nothing already answered.

An answer is the validated list the coder keeps, ``[{"code", "quote", "reason", "confidence"}]``
(``[]`` when no code applies); quotes are checked against the text when they are used, not here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from narratives.schema import utcnow
from narratives.store.idempotent import insert_new_rows
from narratives.store.rows import chunked
from narratives.store.tables import llm_answers

LOOKUP_CHUNK = 500


def load_answers(
    connection: Connection, model: str, prompt_hash: str, text_hashes: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """text hash -> the stored answer, for those of ``text_hashes`` answered under this model and prompt."""
    found: dict[str, list[dict[str, Any]]] = {}
    for chunk in chunked(list(dict.fromkeys(text_hashes)), LOOKUP_CHUNK):
        rows = connection.execute(
            select(llm_answers.c.text_hash, llm_answers.c.answer).where(
                llm_answers.c.model == model,
                llm_answers.c.prompt_hash == prompt_hash,
                llm_answers.c.text_hash.in_(chunk),
            )
        )
        found.update({row.text_hash: list(row.answer) for row in rows})
    return found


def save_answers(
    connection: Connection,
    model: str,
    prompt_hash: str,
    server: str,
    answers: Mapping[str, list[dict[str, Any]]],
) -> None:
    """Store ``answers`` (text hash -> answer); a text answered already keeps its first answer."""
    created = utcnow()
    rows = [
        {
            "model": model,
            "prompt_hash": prompt_hash,
            "text_hash": text_hash,
            "answer": answer,
            "server": server,
            "created": created,
        }
        for text_hash, answer in answers.items()
    ]
    for chunk in chunked(rows, LOOKUP_CHUNK):
        insert_new_rows(connection, llm_answers, chunk, keys=("model", "prompt_hash", "text_hash"))


def count_answers(connection: Connection, model: str | None = None) -> int:
    """How many answers are stored (for ``model`` only, when given)."""
    query = select(func.count()).select_from(llm_answers)
    if model is not None:
        query = query.where(llm_answers.c.model == model)
    return int(connection.execute(query).scalar_one())
