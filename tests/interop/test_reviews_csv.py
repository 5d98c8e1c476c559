"""Reviewer decisions from and to CSV: three ways to name a segment, row-numbered problems, strict mode."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from narratives.coding.runner import code_project
from narratives.errors import ReviewError
from narratives.interop.reviews_csv import export_reviews_csv, import_reviews_csv
from narratives.store.project import Project, init_project
from narratives.store.segments import load_segments
from narratives.store.tables import events, reviews, suggestions
from tests.builders.themes import FakeEmbedder, add_documents, make_codebook, theme_documents

BOOK = "test-book"


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    made = init_project(tmp_path / "project")
    add_documents(made, theme_documents())
    code_project(made, make_codebook(), embedder=FakeEmbedder(), user="ana")
    yield made
    made.close()


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def stored_reviews(project: Project) -> list:
    with project.connect() as connection:
        return connection.execute(select(reviews).order_by(reviews.c.id)).all()


def test_segments_named_three_ways_and_codes_by_id_or_name(project: Project, tmp_path: Path) -> None:
    with project.connect() as connection:
        first, second, third = load_segments(connection)[:3]
    path = write_csv(
        tmp_path / "r.csv",
        [
            ["segment_id", "document_path", "start", "end", "text", "code", "decision", "user", "memo"],
            [str(first.id), "", "", "", "", "waiting", "accept", "ana", "clear case"],
            ["", "doc/0.txt", str(second.start), str(second.end), "", "Changing carers", "Reject", "ben", ""],
            ["", "", "", "", third.text, "money", "add", "ana", ""],
        ],
    )
    report = import_reviews_csv(project, path, codebook_name=BOOK)
    assert report.problems == [] and report.imported == 3
    rows = stored_reviews(project)
    assert [(r.segment_id, r.code_id, r.decision, r.user) for r in rows] == [
        (first.id, "waiting", "accept", "ana"),
        (second.id, "staff", "reject", "ben"),
        (third.id, "money", "add", "ana"),
    ]
    assert {r.source for r in rows} == {"csv"} and rows[0].memo == "clear case"
    with project.connect() as connection:
        assert len(connection.execute(select(events).where(events.c.kind == "review")).all()) == 3


def test_accepting_links_the_current_suggestion(project: Project, tmp_path: Path) -> None:
    with project.connect() as connection:
        segment = next(s for s in load_segments(connection) if "waiting list" in s.text)
    path = write_csv(
        tmp_path / "r.csv",
        [["segment_id", "code", "decision", "user"], [str(segment.id), "waiting", "accept", "ana"]],
    )
    import_reviews_csv(project, path, codebook_name=BOOK)
    with project.connect() as connection:
        ensemble = connection.execute(
            select(suggestions.c.id).where(
                suggestions.c.segment_id == segment.id,
                suggestions.c.code_id == "waiting",
                suggestions.c.coder == "ensemble",
                suggestions.c.current.is_(True),
            )
        ).scalar_one()
    assert stored_reviews(project)[0].suggestion_id == ensemble  # the ensemble's, not a single coder's


def test_bad_rows_are_reported_by_number_and_good_rows_kept(project: Project, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        [
            ["segment_id", "text", "code", "decision", "user"],
            ["1", "", "waiting", "accept", "ana"],
            ["1", "", "no-such-code", "accept", "ana"],
            ["1", "", "waiting", "maybe", "ana"],
            ["", "A sentence that is nowhere.", "waiting", "accept", "ana"],
            ["99999", "", "waiting", "accept", "ana"],
            ["1", "", "waiting", "accept", ""],
            ["x", "", "waiting", "accept", "ana"],
        ],
    )
    report = import_reviews_csv(project, path, codebook_name=BOOK)
    assert report.imported == 1
    assert [p.row for p in report.problems] == [3, 4, 5, 6, 7, 8]
    messages = [str(p) for p in report.problems]
    assert "unknown code 'no-such-code'" in messages[0] and "maybe" in messages[1]
    assert "no segment matches" in messages[2] and "99999 does not exist" in messages[3]
    assert "no user" in messages[4] and "not a whole number" in messages[5]


def test_strict_imports_nothing_when_a_row_is_bad(project: Project, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        [
            ["segment_id", "code", "decision", "user"],
            ["1", "waiting", "accept", "ana"],
            ["1", "nope", "accept", "ana"],
        ],
    )
    with pytest.raises(ReviewError, match="row 3"):
        import_reviews_csv(project, path, codebook_name=BOOK, strict=True)
    assert stored_reviews(project) == []


def test_missing_columns_name_the_file(project: Project, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["code", "decision"], ["waiting", "accept"]])
    with pytest.raises(ReviewError, match=r"r\.csv.*naming the segment"):
        import_reviews_csv(project, path, codebook_name=BOOK)


def test_user_column_can_be_defaulted(project: Project, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["segment_id", "code", "decision"], ["2", "money", "reject"]])
    report = import_reviews_csv(project, path, codebook_name=BOOK, default_user="cli-user")
    assert report.imported == 1 and stored_reviews(project)[0].user == "cli-user"


def test_export_then_import_round_trips(project: Project, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        [
            ["segment_id", "code", "decision", "user", "memo"],
            ["1", "waiting", "accept", "ana", "naïve “quote”"],
            ["2", "money", "reject", "ben", ""],
        ],
    )
    import_reviews_csv(project, path, codebook_name=BOOK)
    out = tmp_path / "exports" / "reviews.csv"
    assert export_reviews_csv(project, out, codebook_name=BOOK) == 2
    with out.open(encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    assert exported[0]["memo"] == "naïve “quote”" and exported[1]["code_name"] == "Cost of care"
    assert import_reviews_csv(project, out, codebook_name=BOOK).imported == 2
    rows = stored_reviews(project)
    assert [(r.segment_id, r.code_id, r.decision, r.user, r.memo) for r in rows[2:]] == [
        (r.segment_id, r.code_id, r.decision, r.user, r.memo) for r in rows[:2]
    ]
