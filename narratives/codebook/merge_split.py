"""Merging two codes into one, and splitting one code into two, with history.

Both are compound edits: their events share one ``group`` id (:func:`~narratives.codebook.edits.new_group`)
so that undo treats them as one.

Merging moves the source code's current suggestions and reviews to the target: suggestions are
copied (the originals stop being current) and reviews are copied as new reviews with
``source="merge"``; nothing is updated in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Connection, insert, select, update

from narratives.codebook.edits import active_code, child_codes, create_code, new_group
from narratives.embed import Embedder
from narratives.errors import CodebookEditError
from narratives.review.state import POSITIVE
from narratives.schema import Code, text_hash, utcnow
from narratives.store.codebooks import apply_code_change, codebook_version, current_codes
from narratives.store.tables import coding_runs, panel_quotes, reviews, segments, suggestions

# ---------------------------------------------------------------------------------------- merge


@dataclass
class MergeResult:
    source: str
    target: str
    suggestions_moved: int
    reviews_copied: int
    examples_added: int


def merge_codes(
    connection: Connection, codebook: str, source_id: str, target_id: str, user: str
) -> MergeResult:
    """Fold ``source`` into ``target``: examples, children, suggestions and reviews follow it."""
    if source_id == target_id:
        raise CodebookEditError(f"cannot merge code '{source_id}' into itself.", fix="choose another code.")
    source = active_code(connection, codebook, source_id)
    target = active_code(connection, codebook, target_id)
    if target_id in _descendants(connection, codebook, source_id):
        raise CodebookEditError(
            f"cannot merge '{source_id}' into its own descendant '{target_id}'.",
            fix="move the descendant out first, or merge the other way round.",
        )
    group = new_group()
    moved = _move_suggestions(connection, codebook, source_id, target_id)
    copied = _copy_reviews(connection, codebook, source_id, target_id, moved.new_by_old)
    quotes = _copy_panel_quotes(connection, codebook, source_id, target_id, user)
    new_examples = [e for e in source.examples if e not in target.examples]
    merged_target = target.model_copy(update={"examples": [*target.examples, *new_examples]})
    extra = {"group": group, "merged_from": source_id}
    apply_code_change(connection, codebook, target_id, "edit", target, merged_target, user, extra)
    for child in child_codes(connection, codebook, source_id):
        moved_child = child.model_copy(update={"parent": target_id})
        apply_code_change(connection, codebook, child.id, "move", child, moved_child, user, {"group": group})
    update_fields: dict[str, Any] = {"retired": True}
    if "merged_into" in Code.model_fields:
        update_fields["merged_into"] = target_id
    details = {
        "group": group,
        "merged_into": target_id,
        "suggestions_deactivated": moved.deactivated,
        "suggestions_created": moved.created,
        "reviews_copied": copied,
        "quotes_copied": quotes,
    }
    retired = source.model_copy(update=update_fields)
    apply_code_change(connection, codebook, source_id, "merge", source, retired, user, details)
    return MergeResult(source_id, target_id, len(moved.created), len(copied), len(new_examples))


@dataclass
class _Moved:
    deactivated: list[int] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    new_by_old: dict[int, int] = field(default_factory=dict)


def _suggestion_copy(row: Any, **changes: Any) -> dict[str, Any]:
    values = {k: v for k, v in row._mapping.items() if k != "id"}
    return {**values, "created": utcnow(), **changes}


def _move_suggestions(connection: Connection, codebook: str, source_id: str, target_id: str) -> _Moved:
    """Copy the source's current suggestions to the target, keeping the higher score per coder."""
    current = suggestions.c.current.is_(True)
    rows = connection.execute(
        select(suggestions).where(
            suggestions.c.codebook == codebook, suggestions.c.code_id == source_id, current
        )
    ).all()
    existing = {
        (r.segment_id, r.coder): (r.id, r.score)
        for r in connection.execute(
            select(
                suggestions.c.id, suggestions.c.segment_id, suggestions.c.coder, suggestions.c.score
            ).where(suggestions.c.codebook == codebook, suggestions.c.code_id == target_id, current)
        )
    }
    moved = _Moved()
    for row in rows:
        moved.deactivated.append(row.id)
        found = existing.get((row.segment_id, row.coder))
        if found is not None and found[1] >= row.score:
            moved.new_by_old[row.id] = found[0]
            continue
        if found is not None:
            moved.deactivated.append(found[0])
        result = connection.execute(insert(suggestions).values(**_suggestion_copy(row, code_id=target_id)))
        new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        moved.created.append(new_id)
        moved.new_by_old[row.id] = new_id
    if moved.deactivated:
        connection.execute(
            update(suggestions).where(suggestions.c.id.in_(moved.deactivated)).values(current=False)
        )
    return moved


def _copy_reviews(
    connection: Connection, codebook: str, source_id: str, target_id: str, new_by_old: dict[int, int]
) -> list[int]:
    """Copy the source's reviews to the target, so that the merged code applies wherever either did.

    Where a reviewer already decided on the target for the same segment, the source's decisions are
    copied only if they turn a 'does not apply' into 'applies'.
    """
    source_rows = connection.execute(
        select(reviews)
        .where(reviews.c.codebook == codebook, reviews.c.code_id == source_id)
        .order_by(reviews.c.id)
    ).all()
    target_latest: dict[tuple[int, str], str] = {}
    for segment_id, user, decision in connection.execute(
        select(reviews.c.segment_id, reviews.c.user, reviews.c.decision)
        .where(reviews.c.codebook == codebook, reviews.c.code_id == target_id)
        .order_by(reviews.c.id)
    ):
        target_latest[(segment_id, user)] = decision
    source_latest = {(r.segment_id, r.user): r.decision for r in source_rows}
    copied: list[int] = []
    for row in source_rows:
        key = (row.segment_id, row.user)
        if key in target_latest and (target_latest[key] in POSITIVE or source_latest[key] not in POSITIVE):
            continue
        values = {k: v for k, v in row._mapping.items() if k != "id"}
        values |= {
            "code_id": target_id,
            "source": "merge",
            "suggestion_id": new_by_old.get(row.suggestion_id, row.suggestion_id),
            "memo": row.memo if row.memo else f"merged from '{source_id}'",
            "created": utcnow(),
        }
        result = connection.execute(insert(reviews).values(**values))
        copied.append(int(result.inserted_primary_key[0]))  # type: ignore[index]
    return copied


def _copy_panel_quotes(
    connection: Connection, codebook: str, source_id: str, target_id: str, user: str
) -> list[int]:
    chosen = set(
        connection.execute(
            select(panel_quotes.c.segment_id).where(
                panel_quotes.c.codebook == codebook, panel_quotes.c.code_id == target_id
            )
        ).scalars()
    )
    copied = []
    for segment_id in connection.execute(
        select(panel_quotes.c.segment_id)
        .where(panel_quotes.c.codebook == codebook, panel_quotes.c.code_id == source_id)
        .order_by(panel_quotes.c.id)
    ).scalars():
        if segment_id in chosen:
            continue
        chosen.add(segment_id)
        result = connection.execute(
            insert(panel_quotes).values(
                codebook=codebook, code_id=target_id, segment_id=segment_id, user=user, created=utcnow()
            )
        )
        copied.append(int(result.inserted_primary_key[0]))  # type: ignore[index]
    return copied


def _descendants(connection: Connection, codebook: str, code_id: str) -> set[str]:
    children: dict[str | None, list[str]] = {}
    for code in current_codes(connection, codebook):
        children.setdefault(code.parent, []).append(code.id)
    found: set[str] = set()
    stack = [code_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


# ---------------------------------------------------------------------------------------- split


@dataclass
class SplitResult:
    code: str
    new_code: str
    segments: int  # segments that carried the old code's current suggestions
    to_old: int  # re-suggested as the old code (0 without an embedder)
    to_new: int  # re-suggested as the new code
    needs_review: list[int] = field(default_factory=list)  # segment ids, when no embedder was given


def split_code(
    connection: Connection,
    codebook: str,
    code_id: str,
    new_code: Code,
    user: str,
    *,
    embedder: Embedder | None = None,
) -> SplitResult:
    """Create ``new_code`` out of ``code_id`` and share the old code's segments between the two.

    With an embedder, each segment with a current suggestion of the old code is re-suggested as
    whichever of the two codes it is closer to (cosine similarity to the definition and examples),
    keeping its score, in a new coding run. Without one, the suggestions stay with the old code and
    the split event lists their segments as needing review.
    """
    old = active_code(connection, codebook, code_id)
    if new_code.parent is None:
        new_code = new_code.model_copy(update={"parent": old.parent})
    group = new_group()
    create_code(connection, codebook, new_code, user, {"group": group})
    rows = connection.execute(
        select(suggestions, segments.c.text.label("segment_text"))
        .join(segments, segments.c.id == suggestions.c.segment_id)
        .where(
            suggestions.c.codebook == codebook,
            suggestions.c.code_id == code_id,
            suggestions.c.current.is_(True),
        )
        .order_by(suggestions.c.id)
    ).all()
    segment_ids = sorted({r.segment_id for r in rows})
    result = SplitResult(code_id, new_code.id, len(segment_ids), 0, 0)
    details: dict[str, Any] = {"group": group, "split_into": new_code.id}
    if embedder is None or not rows:
        result.needs_review = segment_ids
        details["needs_review"] = segment_ids
    else:
        closer_to_new = _closer_to_new(embedder, old, new_code, [r.segment_text for r in rows])
        details |= _resuggest(connection, codebook, rows, closer_to_new, old, new_code, embedder, user)
        result.to_new = len({r.segment_id for r, new in zip(rows, closer_to_new, strict=True) if new})
        result.to_old = len({r.segment_id for r, new in zip(rows, closer_to_new, strict=True) if not new})
    apply_code_change(connection, codebook, code_id, "split", old, old, user, details)
    return result


def code_profile_texts(code: Code) -> list[str]:
    """What a code says about itself: name, definition, inclusion criteria and examples."""
    texts = [code.name, code.definition, *code.inclusion, *code.examples]
    return [t for t in texts if t and t.strip()]


def _closer_to_new(embedder: Embedder, old: Code, new: Code, texts: Sequence[str]) -> list[bool]:
    old_texts, new_texts = code_profile_texts(old), code_profile_texts(new)
    vectors = embedder.encode([*texts, *old_texts, *new_texts])
    segment_vectors = vectors[: len(texts)]
    old_vectors = vectors[len(texts) : len(texts) + len(old_texts)]
    new_vectors = vectors[len(texts) + len(old_texts) :]
    to_old = np.max(segment_vectors @ old_vectors.T, axis=1)
    to_new = np.max(segment_vectors @ new_vectors.T, axis=1)
    return [bool(n > o) for o, n in zip(to_old, to_new, strict=True)]


def _resuggest(
    connection: Connection,
    codebook: str,
    rows: Sequence[Any],
    closer_to_new: list[bool],
    old: Code,
    new: Code,
    embedder: Embedder,
    user: str,
) -> dict[str, Any]:
    config = {"split": old.id, "into": new.id, "embedder": embedder.name}
    now = utcnow()
    run = connection.execute(
        insert(coding_runs).values(
            codebook=codebook,
            codebook_version=codebook_version(connection, codebook),
            unit=None,
            model=embedder.name,
            config=config,
            config_hash=text_hash(str(sorted(config.items()))),
            codes=[old.id, new.id],
            stats={"suggestions": len(rows)},
            user=user,
            started=now,
            finished=now,
        )
    )
    run_id = int(run.inserted_primary_key[0])  # type: ignore[index]
    deactivated = [r.id for r in rows]
    connection.execute(update(suggestions).where(suggestions.c.id.in_(deactivated)).values(current=False))
    created = []
    for row, to_new in zip(rows, closer_to_new, strict=True):
        chosen = new if to_new else old
        data = {k: v for k, v in row._mapping.items() if k not in ("id", "segment_text")}
        data |= {
            "run_id": run_id,
            "code_id": chosen.id,
            "evidence": f"split of '{old.id}': closer to '{chosen.name}'",
            "evidence_start": None,
            "evidence_end": None,
            "model": embedder.name,
            "created": utcnow(),
        }
        result = connection.execute(insert(suggestions).values(**data))
        created.append(int(result.inserted_primary_key[0]))  # type: ignore[index]
    return {"run_id": run_id, "suggestions_deactivated": deactivated, "suggestions_created": created}
