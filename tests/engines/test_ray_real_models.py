"""`--engine ray` with the real models: MiniLM gives the local engine's segments, stored vectors (to
the byte) and suggestions (order and scores) on a slice of the demo corpus; a static (model2vec)
embedder travels to the Ray workers by pickle, loads there, and codes as it does locally."""

from __future__ import annotations

import csv
import pickle
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from narratives.codebook.files import load_codebook
from narratives.coding.config import CodingConfig
from narratives.embed import Embedder, load_embedder
from narratives.embed_static import StaticEmbedder
from narratives.engines import LOCAL, EngineOptions, code_with, segment_with
from narratives.pipeline import load_pipeline_config, run_pipeline
from narratives.store.project import init_project, open_project
from tests.engines.snapshots import copy_project, snapshot

pytest.importorskip("ray")
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CODEBOOK = REPO / "models" / "codebooks" / "social-care-lived-experience.yaml"
RESPONDENTS = 30  # survey rows kept: about 40 answered comments
TRANSCRIPT = "corpus/interviews/synthetic_P01_wave1.txt"
CODERS = CodingConfig()  # every coder, as in test_ray_engine


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first survey respondents and one transcript of the demo corpus, ingested, not segmented."""
    base = tmp_path_factory.mktemp("small")
    survey = base / "corpus" / "survey.csv"
    survey.parent.mkdir()
    with (REPO / "corpus/survey/synthetic_survey_2025.csv").open(newline="", encoding="utf-8") as source:
        rows = list(csv.reader(source))[: RESPONDENTS + 1]
    with survey.open("w", newline="", encoding="utf-8") as target:
        csv.writer(target).writerows(rows)
    shutil.copy(REPO / TRANSCRIPT, base / "corpus" / Path(TRANSCRIPT).name)
    demo = load_pipeline_config(REPO / "pipelines" / "demo.toml")
    files = {"survey": "corpus/survey.csv", "interview": f"corpus/{Path(TRANSCRIPT).name}"}
    ingest = [
        step.model_copy(update={"files": [files[step.kind]], "attributes": None})
        for step in demo.ingest
        if step.kind in files
    ]
    config = demo.model_copy(update={"ingest": ingest, "segment": None, "code": None, "discover": None})
    project = init_project(base / "ingested")
    run_pipeline(project, config, base=base, user="t")
    project.close()
    return base / "ingested"


def run_both(
    ray_engine: EngineOptions, corpus: Path, embedder: Embedder, tmp_path: Path
) -> tuple[dict[str, Any], dict[str, Any], tuple[int, int]]:
    """Segment and code a copy of ``corpus`` on each engine; both snapshots and the suggestion counts."""
    written = []
    for engine, folder in ((LOCAL, "local"), (ray_engine, "ray")):
        project = open_project(copy_project(corpus, tmp_path / folder))
        segment_with(engine, project, "sentence", user="t")
        book = load_codebook(CODEBOOK)
        result = code_with(engine, project, book, embedder=embedder, user="t", config=CODERS)
        project.close()
        assert result.warnings == []
        written.append(result.suggestions_written)
    return snapshot(tmp_path / "local"), snapshot(tmp_path / "ray"), (written[0], written[1])


def test_ray_with_minilm_gives_the_local_vectors_and_suggestions(
    ray_engine: EngineOptions, small_corpus: Path, tmp_path: Path
) -> None:
    local, ray, (local_written, ray_written) = run_both(ray_engine, small_corpus, load_embedder(), tmp_path)
    assert 100 < len(local["segments"]) < 400  # a small slice: the test stays quick
    assert ray["segments"] == local["segments"]
    assert ray["vectors"] == local["vectors"]  # the stored bytes of every vector
    assert len(local["vectors"]) >= len(local["segments"]) // 2
    assert ray_written == local_written == len(local["suggestions"]) > 20
    assert ray["suggestions"] == local["suggestions"]  # same order, same scores


def words_of(corpus: Path) -> list[str]:
    """Every word of the corpus's documents and of the codebook: the tokens a tiny static model keeps."""
    book = load_codebook(CODEBOOK)
    texts = [f"{c.name} {c.definition} {' '.join(c.examples)} {' '.join(c.phrases)}" for c in book.codes]
    texts += [path.read_text(encoding="utf-8") for path in (corpus.parent / "corpus").iterdir()]
    return sorted({word for text in texts for word in re.findall(r"[a-z]+", text.lower())})


def test_a_static_embedder_pickles_to_ray_workers_and_codes_as_locally(
    ray_engine: EngineOptions, small_corpus: Path, tmp_path: Path
) -> None:
    from narratives.models_local import distill_static_model

    model = distill_static_model(
        "tiny-static", None, folder=tmp_path / "models", tokens=words_of(small_corpus)
    )
    embedder = StaticEmbedder(model.path)
    local, ray, (local_written, ray_written) = run_both(ray_engine, small_corpus, embedder, tmp_path)
    assert pickle.loads(pickle.dumps(embedder))._model is None  # travels without its loaded model
    assert embedder.name.startswith("tiny-static@") and {v[0] for v in ray["vectors"]} == {embedder.name}
    assert ray["vectors"] == local["vectors"] and len(ray["vectors"]) > 100
    assert ray_written == local_written > 20
    assert ray["suggestions"] == local["suggestions"]
