"""The review page's Embedder panel (streamlit AppTest, in process): the Fine-tune button tunes a real
(tiny) model on the reviews in the background and recodes with it; too few reviews say so; the way
back to the base model."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from narratives.coding.fine_tune_run import project_fine_tuned
from narratives.coding.runner import code_project
from narratives.interop.reviews_csv import import_reviews_csv
from narratives.models_local import choose_model
from narratives.store.project import Project
from narratives.store.tables import suggestions
from narratives.ui import background
from tests.builders.themes import THEMES, FakeEmbedder, add_documents, make_codebook
from tests.ui.test_pages import open_app, texts

OPENINGS = ("", "Sadly, ")  # each theme sentence twice: 8 accepted reviews per code


def reviewed_project(project: Project, tmp_path: Path, tiny_model: Path, openings=OPENINGS) -> None:
    """Segments for every wording, coded, reviewed (accepted for their theme, rejected for the rest),
    and the tiny model made the project's embedder: the base that fine-tuning starts from."""
    extra = [
        [f"{opening}{sentence}" for sentence in sentences]
        for opening in openings[1:]
        for sentences in THEMES.values()
    ]
    add_documents(project, extra, prefix="more")
    code_project(project, make_codebook(), embedder=FakeEmbedder(), user="ana")
    lines = ["text,code,decision,user"]
    for opening in openings:
        for theme, sentences in THEMES.items():
            for sentence in sentences:
                for other in THEMES:
                    lines.append(
                        f'"{opening}{sentence}",{other},{"accept" if other == theme else "reject"},ana'
                    )
    path = tmp_path / "reviews.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert import_reviews_csv(project, path, codebook_name="test-book").problems == []
    with project.begin() as connection:
        choose_model(connection, str(tiny_model))


def run_job(at, project: Project) -> None:
    job = background.job_of(str(project.path))
    assert job is not None and job.wait(timeout=300)  # the fine-tuning runs in a worker thread
    at.run()


def test_fine_tune_button_tunes_recodes_and_goes_back(
    monkeypatch, themed_project: Project, tmp_path, tiny_model
) -> None:
    project = themed_project
    reviewed_project(project, tmp_path, tiny_model)
    at = open_app(monkeypatch, project.path, "review")
    assert "Embedder: tiny-bert" in [e.label for e in at.expander]
    at.button(key="review_fine_tune").click().run()
    run_job(at, project)
    tuned = project_fine_tuned(project)
    assert tuned is not None, texts(at.error)
    said = texts(at.success)
    assert (
        f"Fine-tuned {tuned.name}; Tuned on " in said
        and "Held-out macro-F1" in said
        and "Re-coded with it" in said
    )
    assert f"Embedder: {tuned.name}" in [e.label for e in at.expander]
    with project.connect() as connection:
        models = set(
            connection.execute(select(suggestions.c.model).where(suggestions.c.current.is_(True))).scalars()
        )
    assert models == {tuned.name}
    at.button(key="review_base_model").click().run()
    assert project_fine_tuned(project) is None and "embeds with all-MiniLM-L6-v2 again" in texts(at.success)
    background.forget(str(project.path))


def test_too_few_reviews_show_why_fine_tuning_failed(
    monkeypatch, themed_project: Project, tmp_path, tiny_model
) -> None:
    project = themed_project
    reviewed_project(project, tmp_path, tiny_model, openings=("",))  # 4 accepted reviews per code
    at = open_app(monkeypatch, project.path, "review")
    at.button(key="review_fine_tune").click().run()
    run_job(at, project)
    assert "Fine-tuning failed: E" in texts(at.error) and "no code has 8 accepted reviews" in texts(at.error)
    assert project_fine_tuned(project) is None
    background.forget(str(project.path))
