"""A project's own embedding model (`narratives models use NAME --project P`) and the versioned names
of static models, so a model distilled again under the same name never reuses the old one's vectors.

The models are the small distilled ones of :mod:`tests.test_embed_static` (a few hundred of MiniLM's
tokens); tests that distil load the real MiniLM and are marked ``slow``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from narratives.analysis.search import search_model
from narratives.cli import app
from narratives.codebook.files import save_codebook
from narratives.coding.runner import code_project
from narratives.embed import load_embedder
from narratives.embed_static import models_dir, split_version, static_model_folder, versioned_name
from narratives.errors import ModelNotAvailable
from narratives.interop.manifest import embedding_model_hash
from narratives.models_local import (
    PROJECT_MODEL_KEY,
    choose_model,
    chosen_model,
    distill_static_model,
    project_model,
)
from narratives.store.project import Project
from narratives.store.settings import get_setting, set_setting
from narratives.store.tables import coding_runs, suggestions
from tests.builders.themes import make_codebook
from tests.test_embed_static import (  # noqa: F401  (the small distilled model and its fixtures)
    NAME,
    cache,
    cache_home,
    project_words,
)


def runs_and_suggestions_models(project: Project) -> tuple[set[str], set[str]]:
    with project.connect() as connection:
        runs = set(connection.execute(select(coding_runs.c.model)).scalars())
        made = set(connection.execute(select(suggestions.c.model)).scalars())
    return runs, made


# ------------------------------------------------------------------ without a model


def test_the_given_model_wins_then_the_projects_then_the_fallback(tmp_project: Project) -> None:
    with tmp_project.begin() as connection:
        assert project_model(connection, None) is None  # nothing chosen: the bundled MiniLM
        assert project_model(connection, None, fallback="from-the-last-run") == "from-the-last-run"
        set_setting(connection, PROJECT_MODEL_KEY, "chosen")
        assert project_model(connection, None, fallback="from-the-last-run") == "chosen"
        assert project_model(connection, "given", fallback="from-the-last-run") == "given"
    assert project_model(tmp_project, None) == chosen_model(tmp_project) == "chosen"  # a project will do


def test_an_unknown_model_is_refused_with_the_fix_and_nothing_changes(
    tmp_project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    with tmp_project.begin() as connection, pytest.raises(ModelNotAvailable) as caught:
        choose_model(connection, "minilm-static")
    assert caught.value.fix is not None and "narratives models distill" in caught.value.fix
    result = CliRunner().invoke(app, ["models", "use", "minilm-static", "--project", str(tmp_project.path)])
    assert result.exit_code == 1 and "E510" in result.output and "models distill" in result.output
    with tmp_project.connect() as connection:
        assert get_setting(connection, PROJECT_MODEL_KEY) is None


def test_without_a_name_use_says_what_the_project_embeds_with(tmp_project: Project) -> None:
    result = CliRunner().invoke(app, ["models", "use", "--project", str(tmp_project.path)])
    assert result.exit_code == 0, result.output
    assert "all-MiniLM-L6-v2 (none chosen)" in result.output


def test_a_versioned_name_splits_into_folder_and_digest() -> None:
    assert split_version("minilm-static@1a2b3c4d") == ("minilm-static", "1a2b3c4d")
    assert split_version("minilm-static") == ("minilm-static", None)
    assert split_version("a@b@0123abcd") == ("a@b", "0123abcd")
    assert split_version("name@not-hex!") == ("name@not-hex!", None)


# ------------------------------------------------------------------ with a distilled model


@pytest.mark.slow
def test_a_project_codes_with_the_model_it_chose(
    cache: Path,  # noqa: F811
    themed_project: Project,
    tmp_path: Path,
) -> None:
    project, runner = themed_project, CliRunner()
    chosen = runner.invoke(app, ["models", "use", NAME, "--project", str(project.path)])
    assert chosen.exit_code == 0, chosen.output
    name = versioned_name(models_dir() / NAME)
    assert name in chosen.output and "coded again" in chosen.output  # the warning about old suggestions
    shown = runner.invoke(app, ["models", "use", "--project", str(project.path)])
    assert shown.exit_code == 0 and f"embeds with {NAME}" in shown.output
    listed = runner.invoke(app, ["models", "list", "--project", str(project.path)])
    marked = [line for line in listed.output.splitlines() if "uses it" in line]
    assert listed.exit_code == 0 and len(marked) == 1 and NAME in marked[0]
    book = save_codebook(make_codebook(), tmp_path / "book.yaml")
    coded = runner.invoke(app, ["code", str(project.path), "--codebook", str(book)])  # no --model
    assert coded.exit_code == 0, coded.output
    assert runs_and_suggestions_models(project) == ({name}, {name})
    with project.connect() as connection:
        assert search_model(connection, "test-book") == NAME  # search embeds with the chosen model too
        assert load_embedder(search_model(connection, "test-book")).name == name


@pytest.mark.slow
def test_a_model_given_on_the_command_line_wins_over_the_projects(
    cache: Path,  # noqa: F811
    themed_project: Project,
) -> None:
    with themed_project.begin() as connection:
        set_setting(connection, PROJECT_MODEL_KEY, "a-model-that-is-not-here")  # never loaded
    given = project_model(themed_project, NAME)
    result = code_project(themed_project, make_codebook(), embedder=load_embedder(given), user="ana")
    assert result.suggestions_written > 0
    assert runs_and_suggestions_models(themed_project)[0] == {versioned_name(models_dir() / NAME)}


@pytest.mark.slow
def test_distilling_again_under_the_same_name_gives_another_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, themed_project: Project
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    words = project_words()
    distill_static_model("again", None, tokens=words)
    first = load_embedder("again")
    old_name = first.name
    coded = code_project(themed_project, make_codebook(), embedder=first, user="ana")
    assert coded.cache_misses > 0
    old_facts = embedding_model_hash(old_name)
    assert old_facts["sha256"] is not None and old_facts["sha256"].startswith(
        split_version(old_name)[1] or "?"
    )

    distill_static_model("again", 16, tokens=words, force=True)  # other settings, same name
    second = load_embedder("again")
    assert second.name != old_name and re.fullmatch(r"again@[0-9a-f]{8}", second.name)
    assert second.encode(["lonely"]).shape == (1, 16)
    assert static_model_folder(old_name) is None  # that exact model is gone ...
    assert embedding_model_hash(old_name) == {"source": old_name, "sha256": None}  # ... and not claimed
    assert load_embedder(old_name).name == second.name  # the name still finds the model made since
    assert embedding_model_hash(second.name)["sha256"].startswith(split_version(second.name)[1] or "?")

    recoded = code_project(themed_project, make_codebook(), embedder=second, user="ana")
    assert not recoded.noop and recoded.cache_hits == 0  # no vector of the old model is reused
    runs, made = runs_and_suggestions_models(themed_project)
    assert runs == {old_name, second.name} and second.name in made
