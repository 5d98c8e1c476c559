"""Stored learned coders: a training's rows stay together, the newest per model is found, old blobs go."""

from __future__ import annotations

from narratives.store.learned_models import (
    latest_training,
    learned_model_rows,
    save_training,
    training_estimators,
)
from narratives.store.project import Project


def _save(project: Project, model: str, digest: str, codes: list[str]) -> int:
    with project.begin() as connection:
        return save_training(
            connection,
            "care",
            model,
            f"coder {digest}".encode(),
            {"digest": digest, "fitted_codes": codes},
            {code: (f"{code} {digest}".encode(), {"f1": 0.5, "digest": digest}) for code in codes},
        )


def test_a_training_comes_back_with_its_own_estimators_only(backend_project: Project) -> None:
    first = _save(backend_project, "mini", "d1", ["continuity", "waiting"])
    other = _save(backend_project, "large", "d2", ["choice"])
    with backend_project.connect() as connection:
        star = latest_training(connection, "care", "mini")
        estimators = training_estimators(connection, "care", first)
        none_yet = latest_training(connection, "other-book", "mini")
        cards = {r.code_id: r.card for r in learned_model_rows(connection, "care") if r.code_id != "*"}
    assert star is not None and star.id == first and star.code_id == "*"
    assert star.blob == b"coder d1" and star.card == {
        "digest": "d1",
        "fitted_codes": ["continuity", "waiting"],
    }
    assert estimators == {"continuity": b"continuity d1", "waiting": b"waiting d1"}
    assert none_yet is None
    assert cards["continuity"] == {"f1": 0.5, "digest": "d1", "training_id": first}
    assert cards["choice"]["training_id"] == other


def test_the_newest_training_of_a_model_is_the_one_found(backend_project: Project) -> None:
    _save(backend_project, "mini", "old", ["continuity"])
    newer = _save(backend_project, "mini", "new", ["continuity"])
    with backend_project.connect() as connection:
        star = latest_training(connection, "care", "mini")
        estimators = training_estimators(connection, "care", newer)
    assert star is not None and star.id == newer and star.card["digest"] == "new"
    assert estimators == {"continuity": b"continuity new"}


def test_older_trainings_lose_their_blobs_but_keep_their_cards(backend_project: Project) -> None:
    ids = [_save(backend_project, "mini", f"d{i}", ["continuity"]) for i in range(4)]
    with backend_project.connect() as connection:
        rows = learned_model_rows(connection, "care")
    emptied = {r.card["digest"] for r in rows if r.blob == b""}
    kept = {r.card["digest"] for r in rows if r.blob}
    # each save keeps the two newest trainings before it, so the fourth save empties the first
    assert emptied == {"d0"} and kept == {"d1", "d2", "d3"}
    assert len(rows) == 8 and [r.id for r in rows if r.code_id == "*"] == ids
