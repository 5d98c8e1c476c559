"""`narratives evaluate` with the LLM coder on the fake OpenAI-compatible server: the coder joins the
ensemble at every k, its answers are cached in owner-only files, and a second evaluation sends nothing."""

from __future__ import annotations

import stat
from pathlib import Path

from narratives.analysis.evaluate import EvaluationSettings, GoldSet, evaluate
from narratives.coding.llm.settings import LLMSettings
from tests.builders.fake_llm_server import FakeLLMServer
from tests.builders.themes import THEMES, FakeEmbedder, make_codebook


def test_evaluate_with_the_llm_coder_asks_once_and_records_it(
    llm_server: FakeLLMServer, tmp_path: Path
) -> None:
    gold = GoldSet(
        path="themes",
        texts=[text for texts in THEMES.values() for text in texts],
        labels=[{theme} for theme, texts in THEMES.items() for _ in texts],
    )
    embedder = FakeEmbedder()
    llm = LLMSettings(url=llm_server.url, model="fake-model", max_examples=0)  # one prompt for every k
    settings = EvaluationSettings(ks=(0, 1), seeds=2, llm=llm, llm_cache=str(tmp_path / "cache"))
    report = evaluate(make_codebook(), gold, embedder.encode, embedder, settings)
    assert report.settings["llm"] == {"server": llm_server.url, "model": "fake-model"}
    assert sorted(llm_server.asked) == sorted(gold.texts)  # each text asked once, whatever the k and seed
    (cached,) = (tmp_path / "cache").glob("llm-fake-model-*.json")
    assert stat.S_IMODE(cached.stat().st_mode) == 0o600
    asked = len(llm_server.asked)
    again = evaluate(make_codebook(), gold, embedder.encode, embedder, settings)
    assert len(llm_server.asked) == asked
    assert [run["micro_f1"] for run in again.runs] == [run["micro_f1"] for run in report.runs]
    without = evaluate(make_codebook(), gold, embedder.encode, embedder, EvaluationSettings(ks=(0,), seeds=1))
    # the fake codes every sentence holding its theme's keyword, exactly: it can only add true positives
    assert report.runs[0]["micro_recall"] >= without.runs[0]["micro_recall"]
