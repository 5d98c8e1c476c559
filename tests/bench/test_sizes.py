"""`narratives bench --sizes`: every stage at a small size, the ratio to the bare encoding, a real run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from narratives.bench.corpus import corpus_sentences, write_bench_corpus
from narratives.bench.sizes import PIPELINE_STAGES, bench_sizes

STAGES = {
    "ingest",
    "segment",
    "bare model.encode",
    "bare model.encode (segments and their sentences)",
    "embed",
    "code",
    "re-code after reviews",
    "re-code after editing one code",
    "analyse (themes by need group)",
    "export (coded segments CSV)",
}


def test_the_corpus_has_the_size_asked_for_unique_texts_and_is_the_same_for_a_seed(tmp_path: Path) -> None:
    first = write_bench_corpus(tmp_path / "a", 1000, seed=3)
    again = write_bench_corpus(tmp_path / "b", 1000, seed=3)
    assert first.segments == again.segments and abs(first.segments - 1000) <= 1
    assert first.turns == 3 * 60 and len(first.transcripts) == 3
    assert first.survey.read_bytes() == again.survey.read_bytes()
    assert [p.read_bytes() for p in first.transcripts] == [p.read_bytes() for p in again.transcripts]
    assert write_bench_corpus(tmp_path / "c", 1000, seed=4).survey.read_bytes() != first.survey.read_bytes()
    sentences = corpus_sentences()
    assert len(sentences) > 1000 and len(set(sentences)) == len(sentences)


def check_size(size: dict, asked: int, with_discovery: bool) -> None:
    stages = size["stages"]
    assert set(stages) == STAGES | ({"discover"} if with_discovery else set())
    assert abs(size["segments"] - asked) <= 1
    assert size["unique_texts"] >= 0.9 * size["segments"]  # the cache cannot hide the model's work
    for row in stages.values():
        assert row["seconds"] > 0 and row["peak_memory_mb"] > 0 and row["segments_per_s"] >= 0
    pipeline = sum(stages[name]["seconds"] for name in PIPELINE_STAGES)
    assert size["pipeline_s"] == pytest.approx(pipeline, abs=0.02)
    assert size["pipeline_over_bare_encode"] == pytest.approx(
        pipeline / stages["bare model.encode"]["seconds"], rel=0.01
    )
    assert size["texts_the_coders_embed"] > size["unique_texts"]  # multi-sentence answers and turns
    assert size["reviews"] > 0 and size["suggestions"] > 0
    assert len(size["codes_recoded_after_edit"]) == 1  # editing one code re-codes that code only
    assert size["peak_memory_mb"] == max(row["peak_memory_mb"] for row in stages.values())


def test_every_stage_is_timed_with_the_fake_embedder(fake_embedder) -> None:
    report = bench_sizes([300], embedder=fake_embedder, discover=False)
    assert report["model"] == fake_embedder.name and report["unit"] == "turn"
    (size,) = report["sizes"]
    check_size(size, 300, with_discovery=False)


@pytest.mark.slow
def test_the_command_at_its_smallest_size_with_the_real_model(tmp_path: Path) -> None:
    out = tmp_path / "sizes.json"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from narratives.cli import main; main()",
            "bench",
            "--sizes",
            "200",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "x the bare encoding of the segments" in done.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["model"] == "all-MiniLM-L6-v2"
    (size,) = report["sizes"]
    check_size(size, 200, with_discovery=True)
