"""`narratives agreement`: the tables, the JSON file and the errors, on a small real project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from narratives.cli import app
from narratives.review.record import record_review
from narratives.schema import Decision, Review
from tests.builders.demo_project import CODEBOOK

RUSHED = "The carers are always rushed."
NEVER = "I never know who is coming."


def review(demo, text: str, decision: str, user: str, **extra) -> None:
    with demo.project.begin() as connection:
        record_review(
            connection,
            Review(
                segment_id=demo.segment_ids[text],
                code_id="continuity",
                codebook=CODEBOOK,
                decision=Decision(decision),
                user=user,
                **extra,
            ),
        )


def run(*args: str):
    return CliRunner().invoke(app, ["agreement", *args], catch_exceptions=False, env={"COLUMNS": "200"})


@pytest.fixture
def coded(demo):
    review(demo, RUSHED, "accept", "ana", memo="rushed means no continuity")
    review(demo, RUSHED, "reject", "ben")
    review(demo, NEVER, "accept", "ana", start=30, end=57, source="hand")
    review(demo, NEVER, "add", "ben", start=32, end=45, source="hand")
    review(demo, NEVER, "add", "ana", start=30, end=57, source="hand")
    return demo


def test_agreement_prints_the_table_disagreements_and_characters_and_writes_json(
    coded, tmp_path: Path
) -> None:
    out = tmp_path / "agreement.json"
    result = run(
        str(coded.project.path), "--coders", "ana,ben", "--disagreements", "--characters",
        "--bootstrap", "100", "--json", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Agreement between ana, ben on 2 segments" in result.output
    assert "rushed means no continuity" in result.output and "A different measure" in result.output
    figures = json.loads(out.read_text(encoding="utf-8"))
    continuity = next(c for c in figures["agreement"]["per_code"] if c["code_id"] == "continuity")
    assert continuity["percent"]["value"] == pytest.approx(0.5) and continuity["kappa"]["value"] == 0.0
    assert [d["text"] for d in figures["disagreements"]] == [RUSHED]
    [characters] = figures["characters"]
    assert (characters["both"], characters["either"]) == (13, 27)


def test_agreement_errors_are_one_line_with_a_code_and_a_fix(coded) -> None:
    result = run(str(coded.project.path), "--coders", "ana,zoe")
    assert result.exit_code != 0 and "E1100" in result.output and "Fix:" in result.output
    alone = run(str(coded.project.path), "--coders", "ana")
    assert alone.exit_code != 0 and "two coders or more" in alone.output
    too_few = run(str(coded.project.path), "--machine", "--folds", "5")
    assert too_few.exit_code != 0 and "E1105" in too_few.output and "Traceback" not in too_few.output


def test_the_team_sets_the_target_a_ready_code_must_reach(tmp_project) -> None:
    from narratives.analysis.machine_agreement import TARGET_F1, team_target

    runner = CliRunner()
    assert team_target(tmp_project) == TARGET_F1
    result = runner.invoke(app, ["agreement", str(tmp_project.path), "--target", "0.8", "--set-target"])
    assert result.exit_code == 0, result.output
    assert "The team's target F1 is 0.8 from now on." in result.output
    assert team_target(tmp_project) == pytest.approx(0.8)
    refused = runner.invoke(app, ["agreement", str(tmp_project.path), "--set-target"])
    assert refused.exit_code != 0 and "--set-target needs --target" in refused.output
