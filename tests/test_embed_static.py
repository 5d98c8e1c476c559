"""Static embedders distilled from the bundled MiniLM (`narratives models distill`), found by name.

Distilling MiniLM's whole vocabulary takes a minute or two, so these tests keep a few hundred of its
tokens (the words of the small themed project they code): the same distillation, a small model. The
tests that distil load the real MiniLM and are marked ``slow``; the checks of names need no model.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from narratives.analysis.search import search_model
from narratives.cli import app
from narratives.coding.runner import code_project
from narratives.embed import load_embedder
from narratives.embed_static import StaticEmbedder, models_dir, read_card, versioned_name
from narratives.errors import LocalModelError, ModelNotAvailable
from narratives.models_local import distill_static_model, local_models
from narratives.store.project import Project
from narratives.store.tables import coding_runs, suggestions
from tests.builders.themes import THEMES, make_codebook
from tests.test_offline import no_network  # noqa: F401  (the fixture that cuts the network off)

NAME = "tiny-static"


def project_words() -> list[str]:
    """Every word of the themed project and its codebook: the tokens the small model keeps."""
    book = make_codebook()
    texts = [s for sentences in THEMES.values() for s in sentences]
    texts += [f"{c.name} {c.definition} {' '.join(c.examples)} {' '.join(c.phrases)}" for c in book.codes]
    texts += ["Document ends here okay", "the nurse was kind and caring", "car park parking expensive"]
    return sorted({word for text in texts for word in re.findall(r"[a-z]+", text.lower())})


@pytest.fixture(scope="module")
def cache_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An XDG cache folder holding one small distilled model, ``tiny-static``."""
    home = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(home))
        distill_static_model(NAME, None, tokens=project_words())
    return home


@pytest.fixture
def cache(cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    return cache_home


@pytest.fixture
def project(themed_project: Project) -> Project:
    return themed_project


# ------------------------------------------------------------------ without a model


def test_an_unknown_model_name_says_how_to_make_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(ModelNotAvailable) as caught:
        load_embedder("minilm-static")
    assert caught.value.fix is not None
    assert "narratives models distill --name minilm-static" in caught.value.fix


@pytest.mark.parametrize("name", ["", "../escape", "a/b", ".hidden", "all-MiniLM-L6-v2", "default"])
def test_a_model_name_that_cannot_be_a_folder_is_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(LocalModelError, match="cannot name a distilled model"):
        distill_static_model(name, folder=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_models_live_in_the_xdg_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert models_dir() == tmp_path / "xdg" / "narratives" / "models"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert models_dir() == Path.home() / ".cache" / "narratives" / "models"


# ------------------------------------------------------------------ with a distilled model


@pytest.mark.slow
def test_distilling_never_reaches_the_network(no_network: list[str], tmp_path: Path) -> None:  # noqa: F811
    made = distill_static_model("offline", None, folder=tmp_path, tokens=["nurse", "kind"])
    assert no_network == []
    assert made.path == tmp_path / "offline" and made.card["vocabulary"] == 4  # with [PAD] and [UNK]


@pytest.mark.slow
def test_the_embedder_gives_normalised_float32_rows(cache: Path) -> None:
    embedder = load_embedder(NAME)
    assert isinstance(embedder, StaticEmbedder) and embedder.name == versioned_name(models_dir() / NAME)
    assert re.fullmatch(rf"{NAME}@[0-9a-f]{{8}}", embedder.name)  # the folder and its weights' digest
    vectors = embedder.encode(["Mum feels lonely.", "The charges doubled.", "", "zzzz qqqq"])
    assert vectors.dtype == np.float32 and vectors.shape == (4, embedder.dim) and embedder.dim == 384
    norms = np.linalg.norm(vectors, axis=1)
    assert norms[:2] == pytest.approx([1.0, 1.0], abs=1e-5)
    assert norms[2:].tolist() == [0.0, 0.0]  # no known token: similar to nothing
    assert embedder.encode([]).shape == (0, 384)


@pytest.mark.slow
def test_similar_texts_are_closer_than_unrelated_ones(cache: Path) -> None:
    a, b, c = load_embedder(NAME).encode(
        [
            "Mum feels lonely and isolated at home.",
            "I felt so lonely, nobody visits.",
            "The bills and charges for care.",
        ]
    )
    assert float(a @ b) > float(a @ c) and float(a @ b) > float(b @ c)


@pytest.mark.slow
def test_a_model_is_found_by_its_folder_too(cache: Path) -> None:
    folder = models_dir() / NAME
    by_folder, by_name = load_embedder(folder), load_embedder(NAME)
    assert by_folder.name == by_name.name == load_embedder(by_name.name).name  # the versioned name too
    assert by_name.name.startswith(f"{NAME}@")
    texts = ["The assessment was delayed again."]
    assert np.array_equal(by_folder.encode(texts), by_name.encode(texts))


@pytest.mark.slow
def test_the_card_says_what_the_model_was_made_from(cache: Path) -> None:
    card = read_card(models_dir() / NAME)
    assert card["base_model"] == "all-MiniLM-L6-v2" and card["pca_dims"] is None
    assert card["model2vec_version"] == "0.10.0" and card["seed"] == 0 and card["seconds"] > 0
    assert 2 < card["vocabulary"] <= len(project_words()) + 2  # the words MiniLM has whole, [PAD], [UNK]
    assert [(m.name, m.kind) for m in local_models()] == [("all-MiniLM-L6-v2", "bundled"), (NAME, "static")]


@pytest.mark.slow
def test_distilling_over_a_model_needs_force(cache: Path) -> None:
    with pytest.raises(LocalModelError, match="already exists") as caught:
        distill_static_model(NAME)
    assert caught.value.fix is not None and "--force" in caught.value.fix
    result = CliRunner().invoke(app, ["models", "distill", "--name", NAME])
    assert result.exit_code == 1 and "E530" in result.output


@pytest.mark.slow
def test_coding_with_a_static_model_records_its_name(cache: Path, project: Project) -> None:
    result = code_project(project, make_codebook(), embedder=load_embedder(NAME), user="ana")
    assert result.suggestions_written > 0
    with project.connect() as connection:
        models = set(connection.execute(select(suggestions.c.model)).scalars())
        run_models = set(connection.execute(select(coding_runs.c.model)).scalars())
        searched_with = search_model(connection, "test-book")
    name = versioned_name(models_dir() / NAME)
    assert models == run_models == {name}
    assert searched_with == name and load_embedder(searched_with).name == name  # found again by name
    again = code_project(project, make_codebook(), embedder=load_embedder(NAME), user="ana")
    assert again.noop and again.cache_misses == 0  # the name is the embedding cache key


@pytest.mark.slow
def test_models_list_shows_the_bundled_and_the_distilled_models(cache: Path) -> None:
    result = CliRunner().invoke(app, ["models", "list"])
    assert result.exit_code == 0, result.output
    assert "all-MiniLM-L6-v2" in result.output and NAME in result.output and "static" in result.output


@pytest.mark.slow
def test_the_manifest_hashes_a_distilled_models_weights(cache: Path) -> None:
    from narratives.interop.manifest import _sha256_file, embedding_model_hash

    facts = embedding_model_hash(NAME)
    weights = models_dir() / NAME / "model.safetensors"
    assert facts == {"source": str(models_dir() / NAME), "sha256": _sha256_file(weights)}
