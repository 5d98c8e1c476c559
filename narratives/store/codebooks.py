"""Codebooks inside a project: stored versions, the current codes, and the history of every change.

Every change to a code is a row of ``codebook_events`` (who, when, before, after); ``codes`` holds the
state those events lead to, written in the same transaction so reads stay fast.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from narratives.errors import CodebookEditError, UnknownCodebook
from narratives.schema import Code, Codebook, text_hash, utcnow
from narratives.store.events import record_event
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
    changed: list[str] = []
    for code in codebook.codes:
        if baseline.get(code.id) == code and code.id in current:
            continue  # unchanged in the file: keep whatever the project made of it
        before = current.get(code.id)
        if before == code:
            continue
        action = "create" if before is None else "edit"
        apply_code_change(connection, codebook.name, code.id, action, before, code, user)
        changed.append(code.id)
    file_ids = {c.id for c in codebook.codes}
    for code_id, code in current.items():
        if code_id in file_ids or code.retired or (not replace and code_id not in baseline):
            continue  # codes made in the project, not in any file, stay unless replacing
        apply_code_change(
            connection,
            codebook.name,
            code_id,
            "retire",
            code,
            code.model_copy(update={"retired": True}),
            user,
        )
        changed.append(code_id)
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
    now = utcnow()
    connection.execute(
        insert(codebook_events).values(
            codebook=codebook,
            code_id=code_id,
            action=action,
            before=before.model_dump(mode="json") if before else None,
            after=after.model_dump(mode="json"),
            user=user,
            created=now,
        )
    )
    values = {
        "name": after.name,
        "parent": after.parent,
        "body": after.model_dump(mode="json"),
        "fingerprint": text_hash(after.model_dump_json()),
        "retired": after.retired,
        "updated": now,
    }
    exists = connection.execute(
        select(codes.c.id).where(codes.c.codebook == codebook, codes.c.code_id == code_id)
    ).scalar()
    if exists is None:
        connection.execute(insert(codes).values(codebook=codebook, code_id=code_id, **values))
    else:
        connection.execute(update(codes).where(codes.c.id == exists).values(**values))
    record_event(
        connection,
        f"code.{action}",
        user,
        target=f"{codebook}/{code_id}",
        payload={
            "before": values["body"] if before is None else before.model_dump(mode="json"),
            "after": values["body"],
            **(extra or {}),
        },
    )


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
