"""Codebooks in the project: file changes applied, project edits kept, history of every change."""

from __future__ import annotations

from narratives.schema import Code, Codebook
from narratives.store.codebooks import (
    apply_code_change,
    code_history,
    codebook_version,
    current_codebook,
    store_codebook,
)


def book(*codes: Code, version: str = "1") -> Codebook:
    return Codebook(name="care", version=version, codes=list(codes))


A = Code(id="a", name="Waiting", definition="Waiting for help.")
B = Code(id="b", name="Paperwork", definition="Forms and reviews.")
C = Code(id="c", name="Respite", definition="Breaks for carers.")


def test_loading_the_same_file_twice_changes_nothing(backend_project) -> None:
    with backend_project.begin() as connection:
        assert store_codebook(connection, book(A, B), "ana") == ["a", "b"]
        assert store_codebook(connection, book(A, B), "ana") == []
        assert codebook_version(connection, "care") == "1"


def test_reloading_the_file_keeps_edits_made_in_the_project(backend_project) -> None:
    with backend_project.begin() as connection:
        store_codebook(connection, book(A, B), "ana")
        renamed = A.model_copy(update={"name": "Waiting too long"})
        apply_code_change(connection, "care", "a", "rename", A, renamed, "ben")
        apply_code_change(connection, "care", "p", "create", None, C.model_copy(update={"id": "p"}), "ben")
        changed_b = B.model_copy(update={"definition": "Forms, reviews and audits."})
        assert store_codebook(connection, book(A, changed_b, version="2"), "ana") == ["b"]
        now = current_codebook(connection, "care")
    assert now.code("a").name == "Waiting too long"  # unchanged in the file: the project's edit stays
    assert now.code("b").definition == "Forms, reviews and audits."  # changed in the file: applied
    assert not now.code("p").retired  # made in the project: kept


def test_codes_dropped_from_the_file_are_retired_not_deleted(backend_project) -> None:
    with backend_project.begin() as connection:
        store_codebook(connection, book(A, B), "ana")
        assert store_codebook(connection, book(A, version="2"), "ana") == ["b"]
        now = current_codebook(connection, "care")
        history = code_history(connection, "care", "b")
    assert now.code("b").retired
    assert [h["action"] for h in history] == ["create", "retire"]
    assert history[-1]["before"]["definition"] == "Forms and reviews."


def test_replace_makes_the_project_match_the_file(backend_project) -> None:
    with backend_project.begin() as connection:
        store_codebook(connection, book(A, B), "ana")
        apply_code_change(connection, "care", "p", "create", None, C.model_copy(update={"id": "p"}), "ben")
        store_codebook(connection, book(A, B), "ana", replace=True)
        assert current_codebook(connection, "care").code("p").retired


def test_version_counts_edits_since_the_file_was_loaded(backend_project) -> None:
    with backend_project.begin() as connection:
        store_codebook(connection, book(A, version="1.0"), "ana")
        apply_code_change(connection, "care", "a", "edit", A, A.model_copy(update={"definition": "x"}), "ben")
        assert codebook_version(connection, "care") == "1.0+1"
