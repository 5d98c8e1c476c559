"""What a researcher does with a discovered theme: promote it to a code, merge it, or dismiss it.

Each action is a codebook event where it changes a code (through
:func:`~narratives.store.codebooks.apply_code_change`), a ``candidate_events`` row and an audit
event, all in one transaction. A candidate is acted on once: promoted, merged or dismissed.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection

from narratives.codebook.edits import create_code
from narratives.errors import CandidateError
from narratives.schema import Code
from narratives.store.codebooks import apply_code_change, current_codebook
from narratives.store.discovery import (
    StoredCandidate,
    insert_candidate_event,
    latest_discovery_run_id,
    stored_candidate,
    stored_candidates,
)
from narratives.store.events import record_event
from narratives.store.project import Project

logger = logging.getLogger(__name__)

MAX_EXAMPLES = 5


def load_candidate(connection: Connection, candidate_id: int) -> StoredCandidate:
    candidate = stored_candidate(connection, candidate_id)
    if candidate is None:
        raise CandidateError(
            f"candidate {candidate_id} does not exist.",
            fix="list the candidates with: narratives discover PROJECT",
        )
    return candidate


def list_candidates(connection: Connection, run_id: int | None = None) -> list[StoredCandidate]:
    """Candidates of one discovery run (the latest when ``run_id`` is None), largest first."""
    if run_id is None:
        run_id = latest_discovery_run_id(connection)
        if run_id is None:
            return []
    return stored_candidates(connection, run_id)


def draft_definition(candidate: StoredCandidate) -> str:
    words = ", ".join(candidate.keywords[:8]) or candidate.label
    return (
        f"Draft from discovered theme '{candidate.label}' ({candidate.size} segments): "
        f"texts about {words}. Rewrite this definition in your own words before coding with it."
    )


def promote_candidate(
    project: Project,
    candidate_id: int,
    *,
    codebook_name: str,
    code_id: str,
    name: str,
    parent: str | None = None,
    user: str,
) -> Code:
    """Create code ``code_id`` from the candidate: a draft definition and its quotes as examples."""
    with project.begin() as connection:
        candidate = _open_candidate(connection, candidate_id)
        code = Code(
            id=code_id,
            name=name,
            parent=parent,
            definition=draft_definition(candidate),
            examples=_quote_texts(candidate)[:MAX_EXAMPLES],
        )
        create_code(connection, codebook_name, code, user, {"from_candidate": candidate_id})
        _record(connection, candidate, "promote", f"{codebook_name}/{code_id}", code_id, user)
    return code


def merge_candidate(
    project: Project, candidate_id: int, code_id: str, user: str, *, codebook_name: str | None = None
) -> Code:
    """Add the candidate's quotes as examples of an existing code."""
    with project.begin() as connection:
        candidate = _open_candidate(connection, candidate_id)
        name = codebook_name or candidate.codebook
        if not name:
            raise CandidateError(
                f"candidate {candidate_id} was discovered without a codebook; say which to merge into.",
                fix="pass --codebook NAME.",
            )
        codebook = current_codebook(connection, name)
        try:
            before = codebook.code(code_id)
        except KeyError:
            raise CandidateError(f"code '{code_id}' is not in codebook '{name}'.") from None
        if before.retired:
            raise CandidateError(f"code '{code_id}' is retired.", fix="merge into an active code.")
        new_examples = [q for q in _quote_texts(candidate) if q not in before.examples][:MAX_EXAMPLES]
        after = before.model_copy(update={"examples": [*before.examples, *new_examples]})
        extra = {"from_candidate": candidate_id, "merged_examples": len(new_examples)}
        apply_code_change(connection, name, code_id, "edit", before, after, user, extra=extra)
        _record(connection, candidate, "merge", f"{name}/{code_id}", code_id, user)
    return after


def dismiss_candidate(project: Project, candidate_id: int, user: str, *, reason: str | None = None) -> None:
    """Mark the candidate as not a theme worth coding (kept, with who decided and why)."""
    with project.begin() as connection:
        candidate = _open_candidate(connection, candidate_id)
        _record(connection, candidate, "dismiss", None, None, user, reason=reason)


def _open_candidate(connection: Connection, candidate_id: int) -> StoredCandidate:
    candidate = load_candidate(connection, candidate_id)
    if candidate.status is not None:
        done = f" ({candidate.status_code_id})" if candidate.status_code_id else ""
        raise CandidateError(
            f"candidate {candidate_id} was already acted on: {candidate.status}{done}.",
            fix="run discovery again for fresh candidates, or edit the code directly.",
        )
    return candidate


def _quote_texts(candidate: StoredCandidate) -> list[str]:
    return list(dict.fromkeys(q["text"].strip() for q in candidate.quotes if q.get("text", "").strip()))


def _record(
    connection: Connection,
    candidate: StoredCandidate,
    action: str,
    target: str | None,
    code_id: str | None,
    user: str,
    reason: str | None = None,
) -> None:
    insert_candidate_event(connection, candidate.id, action, code_id, user)
    record_event(
        connection,
        f"candidate.{action}",
        user,
        target=target or f"candidate/{candidate.id}",
        payload={
            "candidate_id": candidate.id,
            "label": candidate.label,
            "code_id": code_id,
            "reason": reason,
        },
    )
    logger.info("candidate %s: %s %s", candidate.id, action, code_id or "")
