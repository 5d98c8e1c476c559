"""`narratives search` on the hand-checked study: results, filters, JSON, --apply, and errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from narratives.cli import app
from narratives.review.state import latest_reviews
from narratives.store.reviews import load_reviews
from tests.builders.study import CODEBOOK, build_study

runner = CliRunner()


def test_prints_and_writes_the_hits_in_context(tmp_path: Path) -> None:
    study = build_study(tmp_path / "study")
    study.project.close()
    out = tmp_path / "hits.json"
    result = runner.invoke(
        app, ["search", str(tmp_path / "study"), "waited", "--kind", "interview", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "3 sentence segments found" in result.output
    hits = json.loads(out.read_text(encoding="utf-8"))["hits"]
    assert {h["segment_id"] for h in hits} == {
        study.segment("I waited eight months"),
        study.segment("Getting the ramp fitted"),
        study.segment("I waited ages"),
    }
    assert all(h["kind"] == "interview" and h["highlights"] for h in hits)
    assert "Interview P1 wave 1 · interview · wave 1 · P1" in result.output


def test_apply_codes_every_result_shown_as_the_users_reviews(tmp_path: Path) -> None:
    study = build_study(tmp_path / "study")
    study.project.close()
    args = [
        "search",
        str(tmp_path / "study"),
        "carers OR carer",
        "--limit",
        "3",
        "--apply",
        "Choice and control",
    ]
    result = runner.invoke(app, [*args, "--user", "ben"])
    assert result.exit_code == 0, result.output
    assert "Coded 3 segments with choice as ben (0 carried it already)" in result.output
    again = runner.invoke(app, [*args, "--user", "ben"])
    assert "Coded 0 segments with choice as ben (3 carried it already)" in again.output
    with study.project.connect() as connection:
        mine = [r for r in load_reviews(connection, CODEBOOK) if r.user == "ben"]
        holding = latest_reviews(connection, CODEBOOK)
    assert len(mine) == 3 and {r.source for r in mine} == {"search"}
    assert all(holding[(r.segment_id, "choice")].applies for r in mine)


def test_errors_are_one_line_naming_the_fix(tmp_path: Path) -> None:
    build_study(tmp_path / "study").project.close()
    for args, expected in [
        (["--", "-carers"], "E1120"),  # after --, a leading - is the query's
        (["carers", "--unit", "paragraph"], "no 'paragraph' segments"),
        (["carers", "--code", "nope"], "no active code 'nope'"),
        (["carers", "--apply", "nope"], "no active code 'nope'"),
    ]:
        result = runner.invoke(app, ["search", str(tmp_path / "study"), *args])
        assert result.exit_code == 1 and expected in result.output and "Traceback" not in result.output
