"""Codebook: the tree of codes; create, edit, rename, move, merge, split, retire; examples from
accepted segments; each code's history; export and import YAML and CSV."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st
from sqlalchemy import Connection

from narratives.codebook import edits, merge_split
from narratives.review.state import accepted_segment_texts
from narratives.schema import Code
from narratives.store.codebooks import current_codes
from narratives.store.project import Project
from narratives.ui import common

LIST_FIELDS = ("inclusion", "exclusion", "examples", "near_misses", "phrases", "patterns")


@st.cache_data(show_spinner=False)
def codes_of(path: str, version: str, codebook: str) -> list[Code]:
    with common.project_by_path(path).connect() as connection:
        return current_codes(connection, codebook, include_retired=True)


@st.cache_data(show_spinner=False)
def accepted_segments(path: str, version: str, codebook: str, code_id: str) -> dict[int, str]:
    with common.project_by_path(path).connect() as connection:
        return accepted_segment_texts(connection, codebook, code_id)


@st.cache_data(show_spinner=False)
def history_of(path: str, version: str, codebook: str, code_id: str) -> pd.DataFrame:
    with common.project_by_path(path).connect() as connection:
        changes = edits.code_changes(connection, codebook, code_id)
    return pd.DataFrame(
        [
            {
                "When": change.when,
                "Who": change.user,
                "What": change.action,
                "Field": change.field,
                "Old value": change.before,
                "New value": change.after,
            }
            for change in changes
        ],
        columns=["When", "Who", "What", "Field", "Old value", "New value"],
    )


@st.cache_data(show_spinner=False)
def exported(path: str, version: str, codebook: str, fmt: edits.CodebookFormat) -> str:
    with common.project_by_path(path).connect() as connection:
        return edits.export_codebook(connection, codebook, fmt)


def render() -> None:
    common.require_researcher()
    project = common.require_project()
    codebook = common.require_codebook(project)
    st.title("Codebook")
    _clear_saved_inputs()
    common.show_flash()
    path, version = str(project.path), common.data_version(project)
    codes = codes_of(path, version, codebook)
    active = [c for c in codes if not c.retired]
    _tree(active, [c for c in codes if c.retired])
    user = common.acting_user()
    if user is None:
        common.need_user_notice()
        return
    names = {c.id: f"{c.name} ({c.id})" for c in active}
    sections: dict[str, Callable[[], None]] = {
        "Create": lambda: _create(project, codebook, user, names),
        "Edit": lambda: _edit(project, codebook, user, active, names),
        "Rename": lambda: _rename(project, codebook, user, names),
        "Move": lambda: _move(project, codebook, user, names),
        "Merge": lambda: _merge(project, codebook, user, names),
        "Split": lambda: _split(project, codebook, user, names),
        "Retire": lambda: _retire(project, codebook, user, names),
        "Add example": lambda: _example(project, codebook, user, names),
        "History": lambda: _history(path, version, codebook, {c.id: f"{c.name} ({c.id})" for c in codes}),
        "Files": lambda: _files(project, codebook, user, path, version),
    }
    # Stateful tabs (a key): the chosen tab stays chosen after a save's rerun. Every tab's content
    # still runs, as with plain tabs, so a form's values survive switching tabs.
    tabs = st.tabs(list(sections), key="codebook_tab", on_change="rerun")
    for tab, show in zip(tabs, sections.values(), strict=True):
        with tab:
            show()


def _tree(active: list[Code], retired: list[Code]) -> None:
    children: dict[str | None, list[Code]] = {}
    for code in active:
        children.setdefault(code.parent if code.parent in {c.id for c in active} else None, []).append(code)

    def show(parent: str | None, depth: int) -> None:
        for code in children.get(parent, []):
            indent = "\u2003" * depth + ("↳ " if depth else "")
            with st.expander(f"{indent}{code.name} · `{code.id}`"):
                st.markdown(code.definition or "_No definition._")
                if code.plain_name:
                    st.caption(f"In everyday words: {code.plain_name}")
                for field in LIST_FIELDS:
                    values = getattr(code, field)
                    if values:
                        st.markdown(f"**{field.replace('_', ' ').capitalize()}**")
                        st.markdown("\n".join(f"- {v}" for v in values))
            show(code.id, depth + 1)

    show(None, 0)
    if retired:
        with st.expander(f"Retired codes ({len(retired)})"):
            st.markdown("\n".join(f"- {c.name} · `{c.id}`" for c in retired))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


CLEAR = "codebook_clear"  # text widget keys to empty at the start of the next run (after a save)


def _clear_saved_inputs() -> None:
    """Empty the inputs of a form whose save succeeded; a widget's value can only be reset before
    the widget is drawn, so the keys wait in the session for the run after the save."""
    for key in st.session_state.pop(CLEAR, []):
        st.session_state[key] = ""


def _done(
    project: Project, action: Callable[[Connection], object], message: str, clear: tuple[str, ...] = ()
) -> None:
    if common.write(project, action, message) is not None:
        st.session_state[CLEAR] = list(clear)
        st.rerun()


def _create(project: Project, codebook: str, user: str, names: dict[str, str]) -> None:
    with st.form("codebook_form_create"):
        code_id = st.text_input("Id (short, no spaces)", key="codebook_create_id")
        name = st.text_input("Name", key="codebook_create_name")
        definition = st.text_area("Definition", key="codebook_create_definition")
        parent = st.selectbox(
            "Parent",
            [None, *names],
            format_func=lambda c: "none" if c is None else names[c],
            key="codebook_create_parent",
        )
        examples = st.text_area("Examples (one per line)", key="codebook_create_examples")
        submitted = st.form_submit_button("Create code", key="codebook_create_submit")
    if submitted:
        code = Code(
            id=code_id.strip(),
            name=name.strip(),
            definition=definition.strip(),
            parent=parent,
            examples=_lines(examples),
        )
        _done(
            project,
            lambda c: edits.create_code(c, codebook, code, user),
            f"Created code {code.name}.",
            clear=tuple(f"codebook_create_{k}" for k in ("id", "name", "definition", "examples")),
        )


def _edit(project: Project, codebook: str, user: str, active: list[Code], names: dict[str, str]) -> None:
    code_id = st.selectbox(
        "Code to edit", list(names), format_func=names.__getitem__, key="codebook_edit_code"
    )
    if code_id is None:
        return
    code = next(c for c in active if c.id == code_id)
    with st.form(f"codebook_form_edit_{code_id}"):
        definition = st.text_area("Definition", code.definition, key=f"codebook_edit_definition_{code_id}")
        plain_name = st.text_input(
            "Name in everyday words (for the panel)",
            code.plain_name or "",
            key=f"codebook_edit_plain_{code_id}",
        )
        colour = st.text_input("Colour (#rrggbb)", code.colour or "", key=f"codebook_edit_colour_{code_id}")
        lists = {
            field: st.text_area(
                f"{field.replace('_', ' ').capitalize()} (one per line)",
                "\n".join(getattr(code, field)),
                key=f"codebook_edit_{field}_{code_id}",
            )
            for field in LIST_FIELDS
        }
        submitted = st.form_submit_button("Save changes", key="codebook_edit_submit")
    if submitted:
        changes: dict[str, object] = {
            "definition": definition.strip(),
            "plain_name": plain_name.strip() or None,
            "colour": colour.strip() or None,
        }
        changes |= {field: _lines(text) for field, text in lists.items()}
        _done(
            project, lambda c: edits.edit_code(c, codebook, code_id, user, **changes), f"Saved {code.name}."
        )


def _rename(project: Project, codebook: str, user: str, names: dict[str, str]) -> None:
    with st.form("codebook_form_rename"):
        code_id = st.selectbox("Code", list(names), format_func=names.__getitem__, key="codebook_rename_code")
        name = st.text_input("New name", key="codebook_rename_name")
        submitted = st.form_submit_button("Rename code", key="codebook_rename_submit")
    if submitted and code_id:
        _done(
            project,
            lambda c: edits.rename_code(c, codebook, code_id, name, user),
            f"Renamed {names[code_id]} to {name.strip()}.",
            clear=("codebook_rename_name",),
        )


def _move(project: Project, codebook: str, user: str, names: dict[str, str]) -> None:
    with st.form("codebook_form_move"):
        code_id = st.selectbox("Code", list(names), format_func=names.__getitem__, key="codebook_move_code")
        parent = st.selectbox(
            "New parent",
            [None, *names],
            format_func=lambda c: "top level" if c is None else names[c],
            key="codebook_move_parent",
        )
        submitted = st.form_submit_button("Move code", key="codebook_move_submit")
    if submitted and code_id:
        _done(
            project, lambda c: edits.move_code(c, codebook, code_id, parent, user), f"Moved {names[code_id]}."
        )


def _merge(project: Project, codebook: str, user: str, names: dict[str, str]) -> None:
    st.caption("The source code is retired; its examples, suggestions and reviews move to the target.")
    with st.form("codebook_form_merge"):
        source = st.selectbox(
            "Merge this code", list(names), format_func=names.__getitem__, key="codebook_merge_source"
        )
        target = st.selectbox(
            "into this code", list(names), format_func=names.__getitem__, key="codebook_merge_target"
        )
        submitted = st.form_submit_button("Merge codes", key="codebook_merge_submit")
    if submitted and source and target:
        _done(
            project,
            lambda c: merge_split.merge_codes(c, codebook, source, target, user),
            f"Merged {names[source]} into {names[target]}.",
        )


def _split(project: Project, codebook: str, user: str, names: dict[str, str]) -> None:
    st.caption("A new code takes part of an existing one; its segments are re-suggested between the two.")
    with st.form("codebook_form_split"):
        code_id = st.selectbox(
            "Split this code", list(names), format_func=names.__getitem__, key="codebook_split_code"
        )
        new_id = st.text_input("New code id", key="codebook_split_id")
        new_name = st.text_input("New code name", key="codebook_split_name")
        definition = st.text_area("New code definition", key="codebook_split_definition")
        use_model = st.checkbox(
            "Re-suggest segments with the embedding model (slower)", key="codebook_split_embed"
        )
        submitted = st.form_submit_button("Split code", key="codebook_split_submit")
    if submitted and code_id:
        new = Code(id=new_id.strip(), name=new_name.strip(), definition=definition.strip())
        embedder = common.embedder(None) if use_model else None
        message = f"Split {names[code_id]}: created {new.name}."
        _done(
            project,
            lambda c: merge_split.split_code(c, codebook, code_id, new, user, embedder=embedder),
            message,
        )


def _retire(project: Project, codebook: str, user: str, names: dict[str, str]) -> None:
    with st.form("codebook_form_retire"):
        code_id = st.selectbox("Code", list(names), format_func=names.__getitem__, key="codebook_retire_code")
        submitted = st.form_submit_button("Retire code", key="codebook_retire_submit")
    if submitted and code_id:
        _done(project, lambda c: edits.retire_code(c, codebook, code_id, user), f"Retired {names[code_id]}.")


def _example(project: Project, codebook: str, user: str, names: dict[str, str]) -> None:
    code_id = st.selectbox("Code", list(names), format_func=names.__getitem__, key="codebook_example_code")
    if code_id is None:
        return
    accepted = accepted_segments(str(project.path), common.data_version(project), codebook, code_id)
    if not accepted:
        st.caption("No accepted segments for this code yet: accept some in the Review queue.")
        return
    segment_id = st.selectbox(
        "Accepted segment",
        list(accepted),
        format_func=lambda i: accepted[i][:120],
        key="codebook_example_segment",
    )
    if st.button("Add as example", key="codebook_example_submit") and segment_id is not None:
        _done(
            project,
            lambda c: edits.add_example_from_segment(c, codebook, code_id, segment_id, user),
            "Example added.",
        )


def _history(path: str, version: str, codebook: str, names: dict[str, str]) -> None:
    code_id = st.selectbox("Code", list(names), format_func=names.__getitem__, key="codebook_history_code")
    if code_id:
        st.dataframe(history_of(path, version, codebook, code_id), hide_index=True)


def _files(project: Project, codebook: str, user: str, path: str, version: str) -> None:
    left, right = st.columns(2)
    left.download_button(
        "Download YAML",
        exported(path, version, codebook, "yaml"),
        f"{codebook}.yaml",
        "text/yaml",
        key="codebook_download_yaml",
    )
    try:
        csv_text = exported(path, version, codebook, "csv")
    except ValueError as error:
        right.caption(f"CSV export not possible: {error}")
    else:
        right.download_button(
            "Download CSV", csv_text, f"{codebook}.csv", "text/csv", key="codebook_download_csv"
        )
    upload = st.file_uploader(
        "Import a codebook file (YAML or CSV)", type=["yaml", "yml", "csv"], key="codebook_upload"
    )
    st.caption("New codes are created, changed ones edited and codes missing from the file retired.")
    if st.button("Import codebook", key="codebook_import", disabled=upload is None) and upload is not None:
        fmt: edits.CodebookFormat = "csv" if Path(upload.name).suffix.lower() == ".csv" else "yaml"
        text = upload.getvalue().decode("utf-8", errors="replace")

        def write(connection: Connection) -> object:
            return edits.import_codebook(connection, text, fmt, user, name=codebook, source=upload.name)

        _done(project, write, f"Imported {upload.name}.")


if __name__ == "__main__":
    render()
