"""Codebook edits refuse a name another code has, and the history gives old and new values
(issue 12: two codes were renamed to the same name; the history named fields only)."""

from __future__ import annotations

import pytest

from narratives.codebook.edits import code_changes, edit_code, rename_code, retire_code
from narratives.errors import CodebookEditError
from narratives.store.codebooks import code_history, current_codebook
from tests.builders.demo_project import CODEBOOK


@pytest.mark.parametrize("taken", ["Paperwork", "paperwork", "  PAPERWORK "])
def test_rename_to_a_name_another_code_has_is_refused_and_changes_nothing(demo, taken) -> None:
    with demo.project.begin() as connection:
        with pytest.raises(CodebookEditError, match="already named 'Paperwork'") as refused:
            rename_code(connection, CODEBOOK, "choice", taken, "ana")
        assert refused.value.fix and "merge" in refused.value.fix
        assert current_codebook(connection, CODEBOOK).code("choice").name == "Choice and control"
        assert [row["action"] for row in code_history(connection, CODEBOOK, "choice")] == ["create"]


def test_editing_the_name_is_checked_too_and_a_code_may_keep_or_recase_its_own(demo) -> None:
    with demo.project.begin() as connection:
        with pytest.raises(CodebookEditError, match="two codes cannot share a name"):
            edit_code(connection, CODEBOOK, "choice", "ana", name="Paperwork")
        assert (
            rename_code(connection, CODEBOOK, "choice", "Choice and control", "ana").name
            == "Choice and control"
        )
        assert (
            rename_code(connection, CODEBOOK, "choice", "choice and control", "ana").name
            == "choice and control"
        )


def test_a_retired_codes_name_is_free_again(demo) -> None:
    with demo.project.begin() as connection:
        retire_code(connection, CODEBOOK, "paperwork", "ana")
        assert rename_code(connection, CODEBOOK, "choice", "Paperwork", "ana").name == "Paperwork"


def test_history_shows_old_and_new_values_of_each_change(demo) -> None:
    with demo.project.begin() as connection:
        rename_code(connection, CODEBOOK, "choice", "Choice and say", "ana")
        edit_code(
            connection, CODEBOOK, "choice", "ben", definition="Saying how support goes.", examples=["a", "b"]
        )
        changes = code_changes(connection, CODEBOOK, "choice")
    created = [c for c in changes if c.action == "create"]
    assert ("name", "", "Choice and control") in {(c.field, c.before, c.after) for c in created}
    later = [(c.user, c.action, c.field, c.before, c.after) for c in changes if c.action != "create"]
    assert later == [
        ("ana", "rename", "name", "Choice and control", "Choice and say"),
        ("ben", "edit", "definition", "Having a say over one's support.", "Saying how support goes."),
        ("ben", "edit", "examples", "", "a; b"),
    ]


def test_a_new_code_cannot_take_a_name_in_use(demo) -> None:
    from narratives.codebook.edits import create_code
    from narratives.errors import CodebookEditError
    from narratives.schema import Code
    from narratives.store.codebooks import current_codes
    from tests.builders.demo_project import CODEBOOK

    with demo.project.connect() as connection:
        taken = current_codes(connection, CODEBOOK)[0].name
    with (
        pytest.raises(CodebookEditError, match="two codes cannot share a name"),
        demo.project.begin() as connection,
    ):
        create_code(
            connection, CODEBOOK, Code(id="brand_new", name=f" {taken.upper()} ", definition="x"), "ana"
        )
