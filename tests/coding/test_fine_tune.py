"""Fine-tuning the embedder on reviews: the pairs, a real (tiny) model trained and saved with its card,
the project coding with it under its own name, the way back to the base model, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from narratives.cli import app
from narratives.coding.fine_tune import (
    CARD_FILE,
    FineTuneSettings,
    ReviewedTexts,
    fine_tune,
    fine_tuned_models,
    review_pairs,
)
from narratives.coding.fine_tune_run import (
    base_of_project,
    fine_tune_project,
    project_fine_tuned,
    use_base_model,
)
from narratives.coding.runner import code_project
from narratives.embed import SentenceTransformerEmbedder, load_embedder
from narratives.errors import CodingError
from narratives.interop.reviews_csv import import_reviews_csv
from narratives.models_local import choose_model, project_model
from narratives.store.project import Project
from narratives.store.tables import embeddings, suggestions
from tests.builders.themes import THEMES, FakeEmbedder, make_codebook

FAST = FineTuneSettings(min_reviews_per_code=2, pairs_per_text=4, batch_size=8, holdout=0.25)


def themed_reviews(times: int = 1) -> ReviewedTexts:
    """Each theme sentence accepted for its theme and rejected for the others (``times`` wordings)."""
    openings = ["", "To be honest, ", "Sadly, ", "As I said, "][:times]
    texts = [
        f"{opening}{sentence}"
        for opening in openings
        for sentences in THEMES.values()
        for sentence in sentences
    ]
    accepted = [{theme} for _ in openings for theme, sentences in THEMES.items() for _ in sentences]
    return ReviewedTexts(texts, accepted, [set(THEMES) - codes for codes in accepted])


def review_everything(project: Project, tmp_path: Path) -> None:
    """Accept each theme sentence for its theme and reject it for the others (64 reviews)."""
    code_project(project, make_codebook(), embedder=FakeEmbedder(), user="ana")
    lines = ["text,code,decision,user"]
    for theme, sentences in THEMES.items():
        for sentence in sentences:
            lines += [
                f'"{sentence}",{other},{"accept" if other == theme else "reject"},ana' for other in THEMES
            ]
    path = tmp_path / "reviews.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert import_reviews_csv(project, path, codebook_name="test-book").imported == 64


# ------------------------------------------------------------------------------------------- pairs


def test_positive_pairs_share_a_code_and_negative_pairs_share_none() -> None:
    reviewed = themed_reviews()
    pairs = review_pairs(reviewed, FAST)
    assert pairs and {label for *_, label in pairs} == {0.0, 1.0}
    for i, j, label in pairs:
        assert i != j
        assert bool(reviewed.accepted[i] & reviewed.accepted[j]) == (label == 1.0)
    assert review_pairs(reviewed, FAST) == pairs  # the same reviews and seed: the same pairs
    assert review_pairs(reviewed, FineTuneSettings(min_reviews_per_code=2, seed=1)) != pairs


def test_pairs_stay_within_the_budget_and_skip_codes_with_too_few_reviews() -> None:
    reviewed = themed_reviews()
    assert len(review_pairs(reviewed, FineTuneSettings(min_reviews_per_code=2, max_pairs=12))) <= 12
    rare = ReviewedTexts(
        [*reviewed.texts, "A lone remark about the garden."],
        [*reviewed.accepted, {"garden"}],
        [*reviewed.rejected, set()],
    )
    garden = len(rare.texts) - 1
    pairs = review_pairs(rare, FineTuneSettings(min_reviews_per_code=2))
    assert not any(label == 1.0 and garden in (i, j) for i, j, label in pairs)
    assert "garden" not in rare.codes_with_enough(2)


# ------------------------------------------------------------------------------------ a real model


def test_fine_tuning_changes_the_model_and_saves_it_with_its_card(tiny_model: Path, tmp_path: Path) -> None:
    steps: list[tuple[int, int]] = []
    made = fine_tune(
        themed_reviews(times=2),
        tmp_path / "models",
        base=tiny_model,
        settings=FAST,
        progress=lambda *s: steps.append(s),
    )
    assert made.path.parent == tmp_path / "models" and made.name.startswith("fine-tuned-")
    card = json.loads((made.path / CARD_FILE).read_text(encoding="utf-8"))
    assert card["base_model"] == "tiny-bert" and card["reviewed_texts"] == 32
    assert card["trained_on_texts"] == 24 and card["held_out_texts"] == 8
    assert card["pairs"] > 0 and card["steps"] == steps[-1][0] > 0 and card["settings"]["seed"] == 0
    assert set(card["held_out_f1"]) == {"base", "fine_tuned", "what"}
    assert 0.0 <= card["held_out_f1"]["fine_tuned"]["macro_f1"] <= 1.0
    assert "Sadly" not in (made.path / "README.md").read_text(encoding="utf-8")  # no reviewed text in it
    assert card["name"] == made.name and card["codes_learned"] == sorted(THEMES)
    texts = themed_reviews().texts
    before, after = SentenceTransformerEmbedder(tiny_model), load_embedder(str(made.path))
    assert after.name == made.name
    assert not np.allclose(before.encode(texts), after.encode(texts), atol=1e-4)
    assert [m.name for m in fine_tuned_models(tmp_path / "models")] == [made.name]
    assert not [p for p in (tmp_path / "models").iterdir() if p.name.startswith(".")]  # no scratch left


def test_too_few_reviews_says_so_and_writes_nothing(tiny_model: Path, tmp_path: Path) -> None:
    few = ReviewedTexts(["Nobody came.", "The bill went up."], [{"waiting"}, {"money"}], [set(), set()])
    with pytest.raises(CodingError, match="no code has 8 accepted reviews"):
        fine_tune(few, tmp_path / "models", base=tiny_model)
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def test_a_static_model_cannot_be_a_base(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    with pytest.raises(CodingError, match="not a local sentence-transformers model"):
        fine_tune(themed_reviews(), tmp_path / "models", base=tmp_path / "static", settings=FAST)


# ------------------------------------------------------------------------------------ the project


def test_a_project_codes_with_its_fine_tuned_model_and_can_go_back(
    themed_project: Project, tiny_model: Path, tmp_path: Path
) -> None:
    project = themed_project
    review_everything(project, tmp_path)
    made = fine_tune_project(project, make_codebook(), base=tiny_model, settings=FAST)
    assert made.path.parent == project.models_dir and made.card["codebook"] == "test-book"
    assert project_model(project) == str(made.path) and project_fine_tuned(project) == made
    assert base_of_project(project) == str(tiny_model)  # the next tuning starts from the base again
    embedder = load_embedder(project_model(project))
    result = code_project(project, make_codebook(), embedder=embedder, user="ana")
    assert result.run_id and result.suggestions_written > 0
    with project.connect() as connection:
        models = set(
            connection.execute(select(suggestions.c.model).where(suggestions.c.current.is_(True))).scalars()
        )
        cached = set(connection.execute(select(embeddings.c.model).distinct()).scalars())
    assert models == {made.name}  # every current suggestion names the fine-tuned model
    assert made.name in cached and "fake-bag-of-stems" in cached  # its vectors under its own name
    use_base_model(project)
    assert (
        project_fine_tuned(project) is None
        and load_embedder(project_model(project)).name == "all-MiniLM-L6-v2"
    )
    assert made.path.is_dir()  # the fine-tuned model stays, to go back to


def test_the_cli_fine_tunes_codes_and_lists_the_model(
    themed_project: Project, tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = themed_project
    review_everything(project, tmp_path)
    with project.begin() as connection:
        choose_model(connection, str(tiny_model))  # the project's model is the base the CLI tunes
    runner = CliRunner()
    monkeypatch.chdir(project.path.parent)  # the project named by a relative path, as a user types it
    command = ["code", project.path.name, "--codebook", "test-book", "--fine-tune"]
    too_few = runner.invoke(app, command)
    assert too_few.exit_code == 1 and "no code has 8 accepted reviews yet" in too_few.output
    assert project_fine_tuned(project) is None and not fine_tuned_models(project.models_dir)
    result = runner.invoke(app, [*command, "--fine-tune-min-reviews", "2"])
    assert result.exit_code == 0, result.output
    assert "Fine-tuned tiny-bert on 16 reviewed segments" in result.output
    assert "no held-out score" in result.output and "Computing widget" not in result.output
    tuned = project_fine_tuned(project)
    assert tuned is not None and tuned.name in result.output
    assert Path(project_model(project)).is_absolute()  # found from wherever the explorer starts
    listed = runner.invoke(app, ["models", "list", "--project", str(project.path)])
    assert listed.exit_code == 0 and tuned.name in listed.output and "fine-tuned" in listed.output
    back = runner.invoke(app, ["models", "use", "default", "--project", str(project.path)])
    assert back.exit_code == 0 and project_fine_tuned(project) is None


def test_held_out_scores_come_from_heads_trained_on_the_other_rows() -> None:
    from narratives.coding.held_out import held_out_f1, split_holdout

    train, test = split_holdout(40, 0.25, seed=0)
    assert len(test) == 10 and sorted(train + test) == list(range(40)) and split_holdout(19, 0.25, 0)[1] == []
    accepted = [{"a"} if i % 2 else {"b"} for i in range(40)]
    apart = np.array([[1.0, 0.0] if i % 2 else [0.0, 1.0] for i in range(40)])  # the codes lie apart
    assert held_out_f1(apart, accepted, train, test) == {"micro_f1": 1.0, "macro_f1": 1.0, "codes": 2}
    mixed = np.random.default_rng(0).standard_normal((40, 2))  # nothing to learn from
    assert held_out_f1(mixed, accepted, train, test)["macro_f1"] < 1.0
    only_train = [{"a"} if i in train[:3] else set() for i in range(40)]  # no held-out example: not scored
    assert held_out_f1(apart, only_train, train, test)["codes"] == 0
