"""Editing a codebook inside a project, with history.

Every edit is one or more :func:`~narratives.store.codebooks.apply_code_change` calls (before,
after, user) made in the caller's transaction, so a code's history (``code_history``) says who
changed what and when, and ``undo`` can put the ``before`` back. Edits that touch several codes
(merge, split, retire with children) tag their events with one ``group`` id so they are undone
together. Merging and splitting codes live in :mod:`narratives.codebook.merge_split`.
"""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection

from narratives.codebook.csv import dump_codebook_csv, load_codebook_csv
from narratives.codebook.files import dump_codebook_yaml
from narratives.codebook.validate import COLOUR_RE, validate_codebook
from narratives.errors import CodebookEditError, UnknownCodebook
from narratives.review.state import applies_by_review
from narratives.schema import Code, Codebook
from narratives.store.codebooks import (
    apply_code_change,
    code_history,
    codebook_names,
    codebook_version,
    current_codebook,
    current_codes,
    store_codebook,
)
from narratives.store.segments import load_segments
from narratives.store.suggestions import current_counts_by_code

EDITABLE_FIELDS = tuple(name for name in Code.model_fields if name != "id")
CodebookFormat = Literal["yaml", "csv"]


def new_group() -> str:
    """An id shared by the events of one compound edit, so that undo treats them as one."""
    return uuid.uuid4().hex[:16]


def get_code(connection: Connection, codebook: str, code_id: str) -> Code:
    for code in current_codes(connection, codebook, include_retired=True):
        if code.id == code_id:
            return code
    raise CodebookEditError(
        f"code '{code_id}' is not in codebook '{codebook}'.",
        fix="check the code id; the Codebook page lists every code.",
    )


def active_code(connection: Connection, codebook: str, code_id: str) -> Code:
    """The code as it stands now; refuses a retired one."""
    code = get_code(connection, codebook, code_id)
    if code.retired:
        raise CodebookEditError(f"code '{code_id}' is retired.", fix="choose a code that is in use.")
    return code


# -------------------------------------------------------------------------------- single codes


def create_code(
    connection: Connection, codebook: str, code: Code, user: str, extra: dict[str, Any] | None = None
) -> Code:
    """Add a new code (its id must be new to the codebook, retired codes included); ``extra`` goes
    into the change's event (a promotion names its candidate, a split its group)."""
    check_new_code(connection, codebook, code)
    apply_code_change(connection, codebook, code.id, "create", None, code, user, extra)
    return code


def check_new_code(connection: Connection, codebook: str, code: Code) -> None:
    """The checks every new code passes, however it is made (typed in, promoted, split off)."""
    if not code.id.strip():
        raise CodebookEditError(
            "a new code needs an id.", fix="give a short machine name such as 'gatekeeping'."
        )
    if codebook not in codebook_names(connection):
        raise UnknownCodebook(
            f"the project has no codebook named '{codebook}'.",
            fix="check the name (narratives status lists none; the explorer's sidebar lists them), "
            "or load it with: narratives code PROJECT --codebook FILE",
        )
    known = {c.id for c in current_codes(connection, codebook, include_retired=True)}
    if code.id in known:
        raise CodebookEditError(
            f"code id '{code.id}' is already used in codebook '{codebook}'.",
            fix=f"choose another id, or merge into '{code.id}'.",
        )
    check_content(code)
    check_name_free(connection, codebook, code.id, code.name)
    if code.parent is not None:
        active_code(connection, codebook, code.parent)


def edit_code(connection: Connection, codebook: str, code_id: str, user: str, **changes: Any) -> Code:
    """Change any fields of a code (``definition="..."``, ``examples=[...]``); the id stays."""
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise CodebookEditError(
            f"cannot edit {', '.join(repr(u) for u in unknown)} of code '{code_id}'.",
            fix=f"edit one of: {', '.join(EDITABLE_FIELDS)}.",
        )
    before = get_code(connection, codebook, code_id)
    after = Code.model_validate({**before.model_dump(), **changes})
    if after == before:
        return before
    check_content(after)
    if after.name.strip() != before.name.strip():
        check_name_free(connection, codebook, code_id, after.name)
    if after.parent != before.parent:
        _check_parent(connection, codebook, code_id, after.parent)
    apply_code_change(connection, codebook, code_id, "edit", before, after, user)
    return after


def rename_code(connection: Connection, codebook: str, code_id: str, name: str, user: str) -> Code:
    """Give a code a new name; its id, suggestions and reviews stay as they are."""
    if not name.strip():
        raise CodebookEditError(f"the new name of code '{code_id}' is empty.", fix="type a name.")
    before = get_code(connection, codebook, code_id)
    if name.strip() == before.name:
        return before
    check_name_free(connection, codebook, code_id, name)
    after = before.model_copy(update={"name": name.strip()})
    apply_code_change(connection, codebook, code_id, "rename", before, after, user)
    return after


def check_name_free(connection: Connection, codebook: str, code_id: str, name: str) -> None:
    """Refuses ``name`` for ``code_id`` when another code in use has it already (ignoring case and
    spaces at either end): two codes of one name cannot be told apart in the tree, the review
    queue or an export."""
    wanted = name.strip().casefold()
    for other in current_codes(connection, codebook):
        if other.id != code_id and other.name.strip().casefold() == wanted:
            raise CodebookEditError(
                f"code '{other.id}' is already named '{other.name}'; two codes cannot share a name.",
                fix=f"choose another name for '{code_id}', or merge '{code_id}' into '{other.id}'.",
            )


def move_code(connection: Connection, codebook: str, code_id: str, parent: str | None, user: str) -> Code:
    """Put a code under another parent (``None``: top level); refuses to make a cycle."""
    before = get_code(connection, codebook, code_id)
    _check_parent(connection, codebook, code_id, parent)
    after = before.model_copy(update={"parent": parent})
    apply_code_change(connection, codebook, code_id, "move", before, after, user)
    return after


def retire_code(connection: Connection, codebook: str, code_id: str, user: str) -> Code:
    """Take a code out of use; its children move up to its parent. Its history stays readable."""
    before = active_code(connection, codebook, code_id)
    group = new_group()
    for child in child_codes(connection, codebook, code_id):
        moved = child.model_copy(update={"parent": before.parent})
        apply_code_change(connection, codebook, child.id, "move", child, moved, user, {"group": group})
    after = before.model_copy(update={"retired": True})
    apply_code_change(connection, codebook, code_id, "retire", before, after, user, {"group": group})
    return after


def add_example_from_segment(
    connection: Connection, codebook: str, code_id: str, segment_id: int, user: str
) -> Code:
    """Append an accepted segment's text to the code's examples."""
    before = active_code(connection, codebook, code_id)
    found = load_segments(connection, ids=[segment_id], current_only=False)
    if not found:
        raise CodebookEditError(f"segment {segment_id} does not exist.")
    text = found[0].text
    if not applies_by_review(connection, codebook, code_id, segment_id):
        raise CodebookEditError(
            f"segment {segment_id} has not been accepted for code '{code_id}'.",
            fix="accept it in the review queue first; only accepted segments become examples.",
        )
    if text in before.examples:
        return before
    after = before.model_copy(update={"examples": [*before.examples, text]})
    apply_code_change(
        connection, codebook, code_id, "example", before, after, user, {"segment_id": segment_id}
    )
    return after


def check_content(code: Code) -> None:
    """Refuses a code without a name or definition, or with a colour that is not hex."""
    if not code.name.strip():
        raise CodebookEditError(f"code '{code.id}' has no name.", fix="type a readable name.")
    if not code.definition.strip():
        raise CodebookEditError(
            f"code '{code.id}' has no definition.", fix="say in a sentence what it covers."
        )
    if code.colour and not COLOUR_RE.match(code.colour):
        raise CodebookEditError(
            f"code '{code.id}': colour {code.colour!r} is not a hex colour.", fix='use "#rrggbb".'
        )


def _check_parent(connection: Connection, codebook: str, code_id: str, parent: str | None) -> None:
    if parent is None:
        return
    if parent == code_id:
        raise CodebookEditError(f"code '{code_id}' cannot be its own parent.", fix="choose another parent.")
    parents = {c.id: c.parent for c in current_codes(connection, codebook, include_retired=True)}
    active_code(connection, codebook, parent)
    node: str | None = parent
    path = [code_id]
    while node is not None:
        path.append(node)
        if node == code_id:
            raise CodebookEditError(
                f"moving '{code_id}' under '{parent}' would make a cycle: {' -> '.join(path)}.",
                fix=f"choose a parent that is not '{code_id}' or one of its descendants.",
            )
        node = parents.get(node)


@dataclass(frozen=True)
class FieldChange:
    """One field of one code changed by one edit: what it was, and what it became."""

    when: datetime
    user: str
    action: str  # create, edit, rename, move, retire, revert, ...
    field: str
    before: str  # the old value as shown to a researcher ("" where there was none)
    after: str


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def code_changes(connection: Connection, codebook: str, code_id: str) -> list[FieldChange]:
    """The code's history field by field, oldest first: each change with its old and new value
    (a creation lists the fields it set, from nothing)."""
    found: list[FieldChange] = []
    for row in code_history(connection, codebook, code_id):
        before, after = row["before"] or {}, row["after"] or {}
        for key in after:
            if row["before"] is not None and after.get(key) == before.get(key):
                continue
            if row["before"] is None and after.get(key) in (None, "", [], False):
                continue
            found.append(
                FieldChange(
                    row["created"],
                    row["user"],
                    row["action"],
                    key,
                    _shown(before.get(key)),
                    _shown(after.get(key)),
                )
            )
    return found


def child_codes(connection: Connection, codebook: str, code_id: str) -> list[Code]:
    """The active codes directly under ``code_id``."""
    return [c for c in current_codes(connection, codebook) if c.parent == code_id]


# --------------------------------------------------------------------------------- import, export


def export_codebook(connection: Connection, codebook: str, fmt: CodebookFormat = "yaml") -> str:
    """The codebook as it stands now, as YAML (everything) or CSV (the codes)."""
    current = current_codebook(connection, codebook)
    return dump_codebook_yaml(current) if fmt == "yaml" else dump_codebook_csv(current)


def import_codebook(
    connection: Connection,
    text: str,
    fmt: CodebookFormat,
    user: str,
    *,
    name: str | None = None,
    version: str | None = None,
    source: str = "upload",
) -> Codebook:
    """Bring a codebook file's content into the project: new codes created, changed ones edited,
    codes missing from the file retired (``store_codebook(replace=True)``), each change in the history."""
    if fmt == "yaml":
        codebook = validate_codebook(text, source)
    else:
        if not name:
            raise CodebookEditError(
                "a CSV codebook needs the codebook name.", fix="choose the codebook first."
            )
        version = version or codebook_version(connection, name) or "1"
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / Path(source).name
            path.write_text(text, encoding="utf-8")
            codebook = load_codebook_csv(path, name, version)
    store_codebook(connection, codebook, user, source_path=source, replace=True)
    return codebook


def codes_used(connection: Connection, codebook: str) -> dict[str, int]:
    """code id -> number of current suggestions, for warnings before a retire or merge."""
    return current_counts_by_code(connection, codebook)
