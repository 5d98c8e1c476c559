"""Processes the concurrency and crash tests start: each opens a project by its folder and writes
through the library, printing a line (flushed) for every write the database has acknowledged.

    python -m tests.store.writers reviews PROJECT USER COUNT   # one transaction per review
    python -m tests.store.writers pipeline PROJECT FOLDER      # ingest, segment, code, then reviews

``reviews`` prints ``review ID`` after each commit. ``pipeline`` prints ``ingest DONE/TOTAL`` after
each file is stored, ``segment ...`` and ``code ...`` as those stages report progress, then
``review ID`` for ever (until killed), so a test can kill it in any stage by waiting for a line.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from sqlalchemy import select

from narratives.review.record import record_review
from narratives.schema import Codebook, Decision, Review, SegmentUnit
from narratives.store.project import Project, open_project
from narratives.store.tables import segments
from tests.builders.study import CODEBOOK, CODES

CODE = "waiting"
PHRASES = {"waiting": ["waited"], "continuity": ["carers change"], "choice": ["choose"]}


def phrase_codebook() -> Codebook:
    """The study's codebook with phrases, so the phrase coder alone suggests codes."""
    return Codebook(
        name=CODEBOOK,
        version="1",
        codes=[code.model_copy(update={"phrases": PHRASES.get(code.id, [])}) for code in CODES],
    )


def segment_ids(project: Project) -> list[int]:
    with project.connect() as connection:
        return [int(row.id) for row in connection.execute(select(segments.c.id).order_by(segments.c.id))]


def record_reviews(project: Project, user: str, count: int | None) -> None:
    """``count`` reviews (for ever with None), each in its own transaction, printing each id."""
    targets = segment_ids(project)
    for k in itertools.count() if count is None else range(count):
        review = Review(
            segment_id=targets[k % len(targets)],
            code_id=CODE,
            codebook=CODEBOOK,
            decision=Decision.add,
            user=user,
            memo=f"{user}-{k}",
        )
        with project.begin(what=f"review {k} of {user}") as connection:
            review_id = record_review(connection, review, source="cli")
        print(f"review {review_id}", flush=True)


def pipeline(project: Project, folder: Path) -> None:
    from narratives.coding.config import CodingConfig
    from narratives.coding.runner import code_project
    from narratives.ingest.readers import ReadOptions
    from narratives.ingest.to_project import ingest_paths
    from narratives.schema import SourceKind
    from narratives.segment.to_project import segment_project
    from tests.conftest import HashingEmbedder

    def say(stage: str) -> object:
        return lambda *figures: print(stage, *figures, flush=True)

    ingest_paths(
        project, [folder], ReadOptions(kind=SourceKind.interview), user="crash", progress=say("ingest")
    )  # type: ignore[arg-type]
    segment_project(project, SegmentUnit.sentence, user="crash", progress=say("segment"))  # type: ignore[arg-type]
    code_project(
        project,
        phrase_codebook(),
        embedder=HashingEmbedder(),
        user="crash",
        config=CodingConfig(coders=["phrase"]),
        progress=say("code"),  # type: ignore[arg-type]
    )
    record_reviews(project, "crash", None)


def main(argv: list[str]) -> None:
    command, folder = argv[0], Path(argv[1])
    project = open_project(folder)
    try:
        if command == "reviews":
            record_reviews(project, argv[2], int(argv[3]))
        elif command == "pipeline":
            pipeline(project, Path(argv[2]))
        else:
            raise SystemExit(f"unknown command {command}")
    finally:
        project.close()


if __name__ == "__main__":
    main(sys.argv[1:])
