"""Codebooks inside a project: stored versions, the current codes, and the history of every change.

Every change to a code is a row of ``codebook_events`` (who, when, before, after); ``codes`` holds the
state those events lead to, written in the same transaction so reads stay fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from narratives.errors import CodebookEditError, UnknownCodebook
from narratives.schema import Code, Codebook, text_hash, utcnow
from narratives.store.events import event_author, record_event, record_events
from narratives.store.rows import chunked
from narratives.store.tables import codebook_events, codebooks, codes


def codebook_content_hash(codebook: Codebook) -> str:
    return text_hash(codebook.model_dump_json())


def store_codebook(
    connection: Connection,
    codebook: Codebook,
    user: str,
    source_path: str | None = None,
    *,
    replace: bool = False,
) -> list[str]:
    """Bring a codebook file into the project; returns the code ids that changed.

    By default only what changed in the file since it was last loaded is applied (new codes created,
    changed ones edited, codes dropped from the file retired), so edits made in the project since
    (a renamed code, a promoted theme) survive re-running a pipeline with the same file. With
    ``replace=True`` the project's codes are made to match the file exactly (an explicit import).
    Every change is an event; loading the same content again changes nothing.
    """
    content = codebook_content_hash(codebook)
    known = connection.execute(
        select(codebooks.c.id).where(codebooks.c.name == codebook.name, codebooks.c.content_hash == content)
    ).scalar()
    current = {c.id: c for c in current_codes(connection, codebook.name, include_retired=True)}
    last_file = None if replace else _last_loaded(connection, codebook.name)
    baseline = current if last_file is None else {c.id: c for c in last_file.codes}
    changes: list[CodeChange] = []
    for code in codebook.codes:
        if baseline.get(code.id) == code and code.id in current:
            continue  # unchanged in the file: keep whatever the project made of it
        before = current.get(code.id)
        if before == code:
            continue
        changes.append(CodeChange(code.id, "create" if before is None else "edit", before, code))
    file_ids = {c.id for c in codebook.codes}
    for code_id, code in current.items():
        if code_id in file_ids or code.retired or (not replace and code_id not in baseline):
            continue  # codes made in the project, not in any file, stay unless replacing
        changes.append(CodeChange(code_id, "retire", code, code.model_copy(update={"retired": True})))
    apply_code_changes(connection, codebook.name, changes, user)
    changed = [change.code_id for change in changes]
    if changed or known is None:
        # Written after the code events, so that edits made later count from here (codebook_version).
        connection.execute(
            insert(codebooks).values(
                name=codebook.name,
                version=codebook.version,
                content_hash=content,
                body=codebook.model_dump(mode="json"),
                source_path=source_path,
                created=utcnow(),
                user=user,
            )
        )
        record_event(
            connection,
            "codebook.load",
            user,
            target=codebook.name,
            payload={"version": codebook.version, "content_hash": content, "changed": changed},
        )
    return changed


def _last_loaded(connection: Connection, name: str) -> Codebook | None:
    body = connection.execute(
        select(codebooks.c.body).where(codebooks.c.name == name).order_by(codebooks.c.id.desc()).limit(1)
    ).scalar()
    return None if body is None else Codebook.model_validate(body)


@dataclass(frozen=True)
class CodeChange:
    """One change of one code: ``action`` (create, edit, rename, move, retire ...) takes it from
    ``before`` (None for a new code) to ``after``; ``extra`` goes into the event's payload."""

    code_id: str
    action: str
    before: Code | None
    after: Code
    extra: dict[str, Any] | None = None


def apply_code_change(
    connection: Connection,
    codebook: str,
    code_id: str,
    action: str,
    before: Code | None,
    after: Code | None,
    user: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """Record one change of one code and update the current state; ``after=None`` deletes nothing,
    it is not allowed: codes are retired, never removed, so their history stays readable."""
    if after is None:
        raise CodebookEditError(
            f"code '{code_id}' cannot be deleted, only retired.", fix="retire it instead."
        )
    apply_code_changes(connection, codebook, [CodeChange(code_id, action, before, after, extra)], user)


def apply_code_changes(
    connection: Connection, codebook: str, changes: Sequence[CodeChange], user: str
) -> None:
    """Record ``changes`` in order and update the current state, as :func:`apply_code_change` one
    after another would (a code changed twice ends in its last state), in a few statements of many
    rows: the change log, new codes, changed codes and the events, each one ``executemany``."""
    if not changes:
        return
    event_author(user)  # refused before anything is written
    stored = _code_row_ids(connection, codebook, [change.code_id for change in changes])
    log, audit = [], []
    new: dict[str, dict[str, Any]] = {}  # by code id, in the order first created
    changed: dict[str, dict[str, Any]] = {}
    for change in changes:
        entry, state, event = _change_rows(codebook, change, user)
        log.append(entry)
        audit.append(event)
        if change.code_id in stored:
            changed[change.code_id] = {"row_id": stored[change.code_id], **_prefixed(state)}
        else:  # created here: a later change in this batch only changes what is inserted
            new[change.code_id] = {"codebook": codebook, "code_id": change.code_id, **state}
    connection.execute(insert(codebook_events), log)
    if new:
        connection.execute(insert(codes), list(new.values()))
    if changed:
        values: dict[str, Any] = {column: bindparam(f"new_{column}") for column in _STATE_COLUMNS}
        connection.execute(
            update(codes).where(codes.c.id == bindparam("row_id")).values(**values), list(changed.values())
        )
    record_events(connection, user, audit)


Row = dict[str, Any]


def _change_rows(codebook: str, change: CodeChange, user: str) -> tuple[Row, Row, Row]:
    """One change as its ``codebook_events`` row, the code's new state and its ``events`` row."""
    now = utcnow()
    after = change.after.model_dump(mode="json")
    before = change.before.model_dump(mode="json") if change.before else None
    entry = {
        "codebook": codebook,
        "code_id": change.code_id,
        "action": change.action,
        "before": before,
        "after": after,
        "user": user,
        "created": now,
    }
    state = {
        "name": change.after.name,
        "parent": change.after.parent,
        "body": after,
        "fingerprint": text_hash(change.after.model_dump_json()),
        "retired": change.after.retired,
        "updated": now,
    }
    event = {
        "kind": f"code.{change.action}",
        "target": f"{codebook}/{change.code_id}",
        "payload": {"before": after if before is None else before, "after": after, **(change.extra or {})},
        "created": now,
    }
    return entry, state, event


_STATE_COLUMNS = ("name", "parent", "body", "fingerprint", "retired", "updated")


def _prefixed(state: dict[str, Any]) -> dict[str, Any]:
    # an executemany UPDATE may not name its bound values after the columns it sets
    return {f"new_{column}": value for column, value in state.items()}


def _code_row_ids(connection: Connection, codebook: str, code_ids: Sequence[str]) -> dict[str, int]:
    """The ``codes`` row of each of ``code_ids`` that the codebook has already."""
    unique = list(dict.fromkeys(code_ids))
    found: dict[str, int] = {}
    for part in chunked(unique):
        query = select(codes.c.code_id, codes.c.id).where(
            codes.c.codebook == codebook, codes.c.code_id.in_(part)
        )
        found.update({str(code_id): int(row_id) for code_id, row_id in connection.execute(query)})
    return found


def current_codes(connection: Connection, codebook: str, include_retired: bool = False) -> list[Code]:
    query = select(codes.c.body).where(codes.c.codebook == codebook).order_by(codes.c.id)
    if not include_retired:
        query = query.where(codes.c.retired.is_(False))
    return [Code.model_validate(body) for body in connection.execute(query).scalars()]


def code_fingerprints(connection: Connection, codebook: str) -> dict[str, str]:
    rows = connection.execute(
        select(codes.c.code_id, codes.c.fingerprint).where(codes.c.codebook == codebook)
    ).all()
    return {code_id: fingerprint for code_id, fingerprint in rows}


def current_codebook(connection: Connection, name: str) -> Codebook:
    """The codebook as it stands now in the project (file content plus every edit since)."""
    latest = connection.execute(
        select(codebooks.c.body).where(codebooks.c.name == name).order_by(codebooks.c.id.desc()).limit(1)
    ).scalar()
    if latest is None:
        raise UnknownCodebook(
            f"the project has no codebook named '{name}'.",
            fix="load one with: narratives code PROJECT --codebook FILE",
        )
    base = Codebook.model_validate(latest)
    return base.model_copy(
        update={
            "codes": current_codes(connection, name, include_retired=True),
            "version": codebook_version(connection, name),
        }
    )


def codebook_version(connection: Connection, name: str) -> str:
    """File version plus the number of edits since: '1.0+3' means three edits after loading 1.0."""
    latest = connection.execute(
        select(codebooks.c.version, codebooks.c.created)
        .where(codebooks.c.name == name)
        .order_by(codebooks.c.id.desc())
        .limit(1)
    ).first()
    if latest is None:
        return ""
    edits = connection.execute(
        select(codebook_events.c.id).where(
            codebook_events.c.codebook == name,
            codebook_events.c.created > latest.created,
        )
    ).all()
    return f"{latest.version}+{len(edits)}" if edits else str(latest.version)


def codebook_names(connection: Connection) -> list[str]:
    return sorted(set(connection.execute(select(codebooks.c.name)).scalars()))


def resolve_codebook_name(connection: Connection, name: str | None) -> str:
    """The codebook named, or the project's only one; an error saying what to do otherwise."""
    if name:
        return name
    names = codebook_names(connection)
    if len(names) == 1:
        return names[0]
    raise UnknownCodebook(
        f"say which codebook: the project has {', '.join(names) if names else 'none'}.",
        fix="pass --codebook NAME (or code the project first: narratives code PROJECT --codebook FILE).",
    )


def code_history(connection: Connection, codebook: str, code_id: str) -> list[dict[str, Any]]:
    rows = connection.execute(
        select(codebook_events)
        .where(codebook_events.c.codebook == codebook, codebook_events.c.code_id == code_id)
        .order_by(codebook_events.c.id)
    )
    return [dict(row._mapping) for row in rows]


def retired_code_ids(connection: Connection, codebook: str) -> set[str]:
    rows = connection.execute(
        select(codes.c.code_id).where(codes.c.codebook == codebook, codes.c.retired.is_(True))
    )
    return {str(code_id) for code_id in rows.scalars()}
