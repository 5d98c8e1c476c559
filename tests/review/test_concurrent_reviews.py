"""Two reviewers writing at the same moment: every review is stored, none lost or applied twice."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import func, select

from narratives.review.record import record_review
from narratives.review.state import latest_decisions
from narratives.schema import Decision, Review
from narratives.store import open_project
from narratives.store.tables import events, reviews
from tests.builders.demo_project import CODEBOOK, build_demo_project


def counts(project) -> tuple[int, int]:
    with project.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(reviews)).scalar_one()
        logged = connection.execute(
            select(func.count()).select_from(events).where(events.c.kind == "review")
        ).scalar_one()
    return int(stored), int(logged)


def test_two_reviewers_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    built = build_demo_project(tmp_path / "p")
    (segment_id, code_id), suggestion_id = next(
        iter(((built.segment_ids[text], code), sid) for (text, code), sid in built.suggestion_ids.items())
    )
    before = counts(built.project)
    built.project.close()
    errors: list[BaseException] = []

    def review_many(user: str, decision: Decision) -> None:
        project = None
        try:
            project = open_project(tmp_path / "p")  # each reviewer opens the project, as a session does
            for _ in range(25):
                with project.begin() as connection:
                    record_review(
                        connection,
                        Review(
                            segment_id=segment_id,
                            code_id=code_id,
                            codebook=CODEBOOK,
                            decision=decision,
                            user=user,
                            suggestion_id=suggestion_id,
                        ),
                    )
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            if project is not None:
                project.close()

    threads = [
        threading.Thread(target=review_many, args=("ana", Decision.accept)),
        threading.Thread(target=review_many, args=("ben", Decision.reject)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    project = open_project(tmp_path / "p")
    after = counts(project)
    with project.connect() as connection:
        state = latest_decisions(connection, CODEBOOK)[(segment_id, code_id)]
    project.close()
    assert (after[0] - before[0], after[1] - before[1]) == (50, 50)  # each review once, with its event
    assert state == {"ana": "accept", "ben": "reject"}  # the disagreement stays visible
