"""Merging two codes into one, and splitting one code into two, with history.

Both are compound edits: their events share one ``group`` id (:func:`~narratives.codebook.edits.new_group`)
so that undo treats them as one.

Merging moves the source code's current suggestions and live reviews to the target: suggestions
are copied (the originals stop being current) and reviews are copied as new reviews with
``source="merge"``; nothing is updated in place, and a review withdrawn by an undo is not copied.
Splitting writes a coding run of its own that records the threshold the old code's scores were judged
by, for both codes, so a split changes which code a score belongs to but not whether it applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Connection

from narratives.codebook.edits import active_code, child_codes, create_code, new_group
from narratives.embed import Embedder
from narratives.errors import CodebookEditError
from narratives.review.state import POSITIVE, latest_by_reviewer, live_reviews, thresholds, withdrawn_ids
from narratives.schema import Code, Review, Suggestion, text_hash
from narratives.store.codebooks import apply_code_change, codebook_version, current_codes
from narratives.store.coding_runs import finish_run, insert_suggestions, run_suggestion_ids, start_run
from narratives.store.panel import insert_panel_quote, panel_quote_rows
from narratives.store.reviews import copy_reviews
from narratives.store.segments import load_segments
from narratives.store.suggestions import copy_suggestion, current_suggestions, set_current

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


def _move_suggestions(connection: Connection, codebook: str, source_id: str, target_id: str) -> _Moved:
    """Copy the source's current suggestions to the target, keeping the higher score per coder."""
    from_source = current_suggestions(connection, codebook, source_id)
    existing = {
        (s.segment_id, s.coder): (int(s.id or 0), s.score)
        for s in current_suggestions(connection, codebook, target_id)
    }
    moved = _Moved()
    for original in from_source:
        old_id = int(original.id or 0)
        moved.deactivated.append(old_id)
        found = existing.get((original.segment_id, original.coder))
        if found is not None and found[1] >= original.score:
            moved.new_by_old[old_id] = found[0]
            continue
        if found is not None:
            moved.deactivated.append(found[0])
        new_id = copy_suggestion(connection, original, code_id=target_id)
        moved.created.append(new_id)
        moved.new_by_old[old_id] = new_id
    if moved.deactivated:
        set_current(connection, moved.deactivated, False)
    return moved


def _copy_reviews(
    connection: Connection, codebook: str, source_id: str, target_id: str, new_by_old: dict[int, int]
) -> list[int]:
    """Copy the source's live reviews to the target, so that the merged code applies wherever either
    did; reviews withdrawn by an undo stay withdrawn and are not copied.

    Where a reviewer's latest live decision on the target for the same segment exists, the source's
    decisions are copied only if they turn a 'does not apply' into 'applies'.
    """
    from_source = [r for r in live_reviews(connection, codebook) if r.code_id == source_id]
    target_latest: dict[tuple[int, str], str] = {}
    source_latest: dict[tuple[int, str], str] = {}
    for (segment_id, code_id), votes in latest_by_reviewer(connection, codebook).items():
        if code_id in (source_id, target_id):
            latest = target_latest if code_id == target_id else source_latest
            latest.update({(segment_id, user): vote.decision for user, vote in votes.items()})
    copies: list[Review] = []
    for review in from_source:
        key = (review.segment_id, review.user)
        if key in target_latest and (target_latest[key] in POSITIVE or source_latest[key] not in POSITIVE):
            continue
        suggestion_id = review.suggestion_id
        if suggestion_id is not None:
            suggestion_id = new_by_old.get(suggestion_id, suggestion_id)
        change = {
            "id": None,
            "code_id": target_id,
            "source": "merge",
            "suggestion_id": suggestion_id,
            "memo": review.memo if review.memo else f"merged from '{source_id}'",
        }
        copies.append(review.model_copy(update=change))
    return copy_reviews(connection, copies)


def _copy_panel_quotes(
    connection: Connection, codebook: str, source_id: str, target_id: str, user: str
) -> list[int]:
    """Copy the source's chosen panel quotes (those still chosen) to the target, once per segment."""
    withdrawn = withdrawn_ids(connection, "withdrawn_quotes")
    live = [q for q in panel_quote_rows(connection, codebook) if q.id not in withdrawn]
    chosen = {quote.segment_id for quote in live if quote.code_id == target_id}
    copied = []
    for quote in [q for q in live if q.code_id == source_id]:
        if quote.segment_id in chosen:
            continue
        chosen.add(quote.segment_id)
        copied.append(insert_panel_quote(connection, codebook, target_id, quote.segment_id, user))
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
    current = current_suggestions(connection, codebook, code_id)
    found = load_segments(connection, ids={s.segment_id for s in current}, current_only=False)
    texts = {int(s.id or 0): s.text for s in found}
    rows = [s for s in current if s.segment_id in texts]
    segment_ids = sorted({r.segment_id for r in rows})
    result = SplitResult(code_id, new_code.id, len(segment_ids), 0, 0)
    details: dict[str, Any] = {"group": group, "split_into": new_code.id}
    if embedder is None or not rows:
        result.needs_review = segment_ids
        details["needs_review"] = segment_ids
    else:
        closer_to_new = _closer_to_new(embedder, old, new_code, [texts[r.segment_id] for r in rows])
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
    rows: Sequence[Suggestion],
    closer_to_new: list[bool],
    old: Code,
    new: Code,
    embedder: Embedder,
    user: str,
) -> dict[str, Any]:
    """Write the split's coding runs: each suggestion again, as whichever code it is closer to.

    One split run per run the old code's suggestions came from, each recording, for both codes, the
    threshold that run judged the old code by: after the split every score is judged exactly as
    before it.
    """
    judged = thresholds(connection, codebook)
    version = codebook_version(connection, codebook)
    deactivated = [int(r.id or 0) for r in rows]
    set_current(connection, deactivated, False)
    by_run: dict[int, list[tuple[Suggestion, bool]]] = {}
    for row, to_new in zip(rows, closer_to_new, strict=True):
        by_run.setdefault(int(row.run_id or 0), []).append((row, to_new))
    run_ids: list[int] = []
    created: list[int] = []
    for source_run, members in sorted(by_run.items()):
        threshold = judged.of(source_run, old.id)
        config = {"split": old.id, "into": new.id, "embedder": embedder.name, "from_run": source_run}
        run_id = start_run(
            connection,
            codebook=codebook,
            codebook_version=version,
            unit=None,
            model=embedder.name,
            config=config,
            config_hash=text_hash(str(sorted(config.items()))),
            codes=[old.id, new.id],
            stats={},
            user=user,
        )
        items = [_moved(row, new if to_new else old, old, embedder) for row, to_new in members]
        insert_suggestions(connection, run_id, items)
        created += run_suggestion_ids(connection, run_id)
        stats = {"suggestions": len(items), "thresholds": {old.id: threshold, new.id: threshold}}
        finish_run(connection, run_id, stats, user, event={"suggestions": len(items), "split": old.id})
        run_ids.append(run_id)
    return {
        "run_id": run_ids[0],
        "run_ids": run_ids,
        "suggestions_deactivated": deactivated,
        "suggestions_created": created,
    }


def _moved(row: Suggestion, chosen: Code, old: Code, embedder: Embedder) -> Suggestion:
    change = {
        "id": None,
        "code_id": chosen.id,
        "evidence": f"split of '{old.id}': closer to '{chosen.name}'",
        "evidence_start": None,
        "evidence_end": None,
        "model": embedder.name,
    }
    return row.model_copy(update=change)
