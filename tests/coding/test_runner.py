"""Coding a project: provenance on every suggestion, re-coding only what changed, one transaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from narratives.coding.config import CodingConfig
from narratives.coding.runner import choose_unit, code_project
from narratives.errors import CodingError
from narratives.schema import Code, SegmentUnit
from narratives.store.project import Project
from narratives.store.tables import (
    codebook_events,
    coding_runs,
    events,
    learned_models,
    segments,
    suggestions,
)
from tests.builders.themes import THEMES, FakeEmbedder, add_documents, make_codebook


@pytest.fixture
def project(themed_project: Project) -> Project:
    return themed_project


def count(project: Project, table, *where) -> int:
    with project.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def current_ids(project: Project, code_id: str) -> set[int]:
    with project.connect() as connection:
        return set(
            connection.execute(
                select(suggestions.c.id).where(
                    suggestions.c.code_id == code_id, suggestions.c.current.is_(True)
                )
            ).scalars()
        )


# ------------------------------------------------------------------------------------- tests


def test_coding_writes_suggestions_with_provenance(project: Project) -> None:
    embedder = FakeEmbedder()
    result = code_project(project, make_codebook(), embedder=embedder, user="ana")
    assert result.run_id is not None and result.suggestions_written > 0
    assert result.codes_recoded == ["waiting", "staff", "money", "isolation"]
    assert result.cache_misses == 24 and result.segments_coded == 24
    with project.connect() as connection:
        rows = connection.execute(select(suggestions)).all()
        run = connection.execute(select(coding_runs)).one()
        kinds = set(connection.execute(select(events.c.kind)).scalars())
    assert {r.model for r in rows} == {"fake-bag-of-stems"}
    assert {r.codebook_version for r in rows} == {"1"} and {r.coder for r in rows} == {"ensemble"}
    assert {r.config_hash for r in rows} == {run.config_hash} and len(run.config_hash) == 64
    assert "coding.run" in kinds and "codebook.load" in kinds
    assert len(rows) <= 24 * 4 and all(0 <= r.score <= 1 for r in rows)
    phrase_hit = [r for r in rows if r.evidence == "waiting list"]
    assert phrase_hit and phrase_hit[0].evidence_start is not None


def test_rerunning_is_a_noop_without_embedding(project: Project) -> None:
    code_project(project, make_codebook(), embedder=FakeEmbedder(), user="ana")
    before = count(project, suggestions)
    embedder = FakeEmbedder()
    again = code_project(project, make_codebook(), embedder=embedder, user="ana")
    assert again.noop and again.cache_misses == 0 and again.cache_hits == 24
    assert embedder.encoded == 0  # code prototypes come from the project cache too
    assert count(project, suggestions) == before and count(project, coding_runs) == 1


def test_changing_one_definition_recodes_only_that_code(project: Project) -> None:
    code_project(project, make_codebook(), embedder=FakeEmbedder(), user="ana")
    kept = {code: current_ids(project, code) for code in ("waiting", "staff", "isolation")}
    old_money = current_ids(project, "money")
    changed = make_codebook(money="Paying charges and bills for care, and financial assessments.")
    result = code_project(project, changed, embedder=FakeEmbedder(), user="ana")
    assert result.codes_recoded == ["money"] and result.cache_misses == 0
    assert result.codebook_version == "1"
    for code, ids in kept.items():
        assert current_ids(project, code) == ids
    new_money = current_ids(project, "money")
    assert new_money and not (new_money & old_money)
    assert count(project, suggestions, suggestions.c.id.in_(old_money), suggestions.c.current.is_(True)) == 0


def test_retiring_a_code_makes_its_suggestions_not_current(project: Project) -> None:
    code_project(project, make_codebook(), embedder=FakeEmbedder(), user="ana")
    assert current_ids(project, "isolation")
    book = make_codebook()
    book.codes = [c for c in book.codes if c.id != "isolation"]
    result = code_project(project, book, embedder=FakeEmbedder(), user="ana")
    assert result.codes_retired == ["isolation"] and result.codes_recoded == []
    assert current_ids(project, "isolation") == set()
    assert count(project, codebook_events, codebook_events.c.action == "retire") == 1


def test_new_documents_code_only_their_segments(project: Project) -> None:
    code_project(project, make_codebook(), embedder=FakeEmbedder(), user="ana")
    before = {code: current_ids(project, code) for code in ("waiting", "staff", "money", "isolation")}
    add_documents(project, [[THEMES["money"][0], THEMES["waiting"][1]]], prefix="new")
    embedder = FakeEmbedder()
    result = code_project(project, make_codebook(), embedder=embedder, user="ana")
    assert result.new_segments == 2 and result.segments_coded == 2 and result.codes_recoded == []
    assert result.cache_misses == 0  # the same sentences were embedded before
    for code, ids in before.items():
        assert ids <= current_ids(project, code)


def test_a_failed_run_leaves_the_project_as_it_was(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    import narratives.coding.runner as runner

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(runner, "insert_suggestions", fail)
    with pytest.raises(RuntimeError):
        code_project(project, make_codebook(), embedder=FakeEmbedder(), user="ana")
    assert count(project, suggestions) == 0 and count(project, coding_runs) == 0
    assert count(project, codebook_events) == 0


def test_default_unit_is_the_finest_present(project: Project) -> None:
    with project.connect() as connection:
        assert choose_unit(connection) == SegmentUnit.sentence
        with pytest.raises(CodingError, match="no paragraph segments"):
            choose_unit(connection, SegmentUnit.paragraph)


def test_table_stays_small_with_floor_and_top_k(project: Project) -> None:
    config = CodingConfig(floor=0.99, top_k=1, min_score=0.0)
    result = code_project(project, make_codebook(), embedder=FakeEmbedder(), user="ana", config=config)
    assert result.suggestions_written <= 24 + 24  # one top code per segment, plus near-certain phrase hits


def test_reviews_train_the_learned_coder_and_its_card_is_stored(project: Project, tmp_path: Path) -> None:
    from narratives.interop.reviews_csv import import_reviews_csv

    code_project(project, make_codebook(), embedder=FakeEmbedder(), user="ana")
    lines = ["text,code,decision,user"]
    for theme, sentences in THEMES.items():
        for sentence in sentences:
            for other in THEMES:
                decision = "accept" if other == theme else "reject"
                lines.append(f'"{sentence}",{other},{decision},ana')
    csv_path = tmp_path / "reviews.csv"
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    imported = import_reviews_csv(project, csv_path, codebook_name="test-book")
    assert imported.problems == [] and imported.imported == 64
    trained = code_project(project, make_codebook(), embedder=FakeEmbedder(), user="ana")
    assert trained.learned == "trained" and trained.codes_recoded  # new training data: everything re-coded
    with project.connect() as connection:
        cards = connection.execute(select(learned_models.c.code_id, learned_models.c.card)).all()
    per_code = {code_id: card for code_id, card in cards if code_id != "*"}
    assert set(per_code) == {"waiting", "staff", "money", "isolation"}
    assert per_code["money"]["n_reviewed_positive"] == 4 and per_code["money"]["model"] == "fake-bag-of-stems"
    again = code_project(project, make_codebook(), embedder=FakeEmbedder(), user="ana")
    assert again.noop and again.learned == "loaded"


def test_cli_codes_then_queues_then_round_trips_reviews(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    import narratives.embed
    from narratives.cli import app
    from narratives.codebook.files import save_codebook

    monkeypatch.setattr(narratives.embed, "load_embedder", lambda name=None: FakeEmbedder())
    monkeypatch.setenv("NARRATIVES_USER", "cli-user")
    book = save_codebook(make_codebook(), tmp_path / "book.yaml")
    cli = CliRunner()
    coded = cli.invoke(app, ["code", str(project.path), "--codebook", str(book)], terminal_width=200)
    assert coded.exit_code == 0, coded.output
    assert "suggestions written" in coded.output and "24 of 24" in coded.output
    again = cli.invoke(app, ["code", str(project.path), "--codebook", str(book)], terminal_width=200)
    assert "nothing changed" in again.output and "24 / 0" in again.output
    queued = cli.invoke(
        app, ["queue", str(project.path), "--limit", "3", "--band", "medium"], terminal_width=200
    )
    assert queued.exit_code == 0 and "Review queue: test-book" in queued.output
    bad_band = cli.invoke(app, ["queue", str(project.path), "--band", "huge"])
    assert bad_band.exit_code == 2 and "--band" in bad_band.output and "huge" in bad_band.output
    decisions = tmp_path / "d.csv"
    decisions.write_text("segment_id,code,decision\n1,waiting,accept\n1,nope,accept\n", encoding="utf-8")
    imported = cli.invoke(app, ["reviews", "import", str(project.path), str(decisions)], terminal_width=200)
    assert imported.exit_code == 1 and "1 reviews imported, 1 rows refused" in imported.output
    assert "row 3" in imported.output
    out = tmp_path / "out.csv"
    exported = cli.invoke(app, ["reviews", "export", str(project.path), str(out)])
    assert exported.exit_code == 0 and "1 reviews written" in exported.output
    assert "cli-user" in out.read_text(encoding="utf-8")


def test_component_coders_rows_can_be_stored_too(project: Project) -> None:
    config = CodingConfig(store_components=["phrase"])
    code_project(project, make_codebook(), embedder=FakeEmbedder(), user="ana", config=config)
    with project.connect() as connection:
        phrase_rows = connection.execute(select(suggestions).where(suggestions.c.coder == "phrase")).all()
    assert phrase_rows and all(r.evidence_start is not None for r in phrase_rows)
    assert {r.code_id for r in phrase_rows} <= {"waiting", "staff", "money", "isolation"}


def test_a_run_finished_meanwhile_stops_this_one(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    import narratives.coding.runner as runner

    real_score = runner._score

    def score_while_another_run_finishes(*args, **kwargs):
        monkeypatch.setattr(runner, "_score", real_score)
        code_project(project, make_codebook(), embedder=FakeEmbedder(), user="ben")
        return real_score(*args, **kwargs)

    monkeypatch.setattr(runner, "_score", score_while_another_run_finishes)
    with pytest.raises(CodingError, match="another coding run"):
        code_project(project, make_codebook(), embedder=FakeEmbedder(), user="ana")
    assert count(project, coding_runs) == 1


@pytest.mark.slow
def test_the_bundled_model_codes_offline(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    from narratives.embed import load_embedder

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = code_project(project, make_codebook(), embedder=load_embedder(None), user="ana")
    assert result.suggestions_written > 0
    with project.connect() as connection:
        rows = connection.execute(select(suggestions).where(suggestions.c.current.is_(True))).all()
        texts = dict(connection.execute(select(segments.c.id, segments.c.text)).all())
    best: dict[int, tuple[float, str]] = {}
    for row in rows:
        best[row.segment_id] = max(best.get(row.segment_id, (0.0, "")), (row.score, row.code_id))
    lonely = next(i for i, t in texts.items() if t.startswith("Mum feels lonely"))
    charges = next(i for i, t in texts.items() if t.startswith("The charges for day care"))
    assert best[lonely][1] == "isolation" and best[charges][1] == "money"
    assert {r.model for r in rows} == {"all-MiniLM-L6-v2"}


def test_recoding_with_the_file_keeps_codes_made_in_the_project(project: Project) -> None:
    from narratives.codebook.edits import create_code, rename_code
    from narratives.store.codebooks import current_codebook

    code_project(project, make_codebook(), embedder=FakeEmbedder(), user="ana")
    with project.begin() as connection:
        create_code(
            connection,
            "test-book",
            Code(id="promoted", name="Promoted theme", definition="Waiting lists for assessments."),
            "ben",
        )
        rename_code(connection, "test-book", "waiting", "Waiting for support", "ben")
    again = code_project(project, make_codebook(), embedder=FakeEmbedder(), user="ana")
    with project.connect() as connection:
        codebook = current_codebook(connection, "test-book")
    assert not codebook.code("promoted").retired
    assert codebook.code("waiting").name == "Waiting for support"  # the project's rename survives
    assert "promoted" in again.codes_recoded  # and the new code is scored


def test_a_new_project_learns_from_the_codebook_examples(project: Project) -> None:
    first = code_project(project, make_codebook(), embedder=FakeEmbedder(), user="ana")
    again = code_project(project, make_codebook(), embedder=FakeEmbedder(), user="ana")
    assert first.learned == "trained"  # no reviews yet: trained on the codebook's own examples
    assert again.noop and again.learned == "loaded"
