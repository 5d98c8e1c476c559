"""`narratives bench --search` at a small size: every measure is there, with positive figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from narratives.bench.project import MODEL
from narratives.bench.search import (
    KEYWORD_QUERIES,
    RARE_SENTENCES,
    SEMANTIC_QUERIES,
    BenchQueryEmbedder,
    bench_search_report,
)
from narratives.cli import app

SEGMENTS = 2000


def check_report(report: dict, segments: int, with_model: bool) -> None:
    assert report["segments"] == segments + RARE_SENTENCES and report["query_embedder"] == MODEL
    assert report["build_s"] > 0 and report["repeats"] > 0
    rows = report["timings"]
    measures = {(row["measure"], row["scope"]) for row in rows}
    assert len(measures) == len(rows)  # no measure twice
    for label, typed in KEYWORD_QUERIES.items():
        assert {(f"keyword: {label} ({typed})", s) for s in ("all kinds", "interviews")} <= measures
    for label in SEMANTIC_QUERIES:
        assert {(f"semantic: {label}", s) for s in ("all kinds", "interviews", "code system")} <= measures
    names = {row["measure"] for row in rows}
    assert {"semantic index: first build", "semantic index: rebuild"} <= names
    assert "codes_by_segment (once per data version)" in names
    assert any(name.startswith("keyword: first call after opening") for name in names)
    assert any(name.endswith("encode one query") for name in names) == with_model
    for row in rows:
        assert row["median_ms"] > 0 and row["p95_ms"] >= row["median_ms"] and row["runs"] > 0, row
        assert row["matches"] is None or row["matches"] > 0, row
    by_measure = {(row["measure"], row["scope"]): row for row in rows}
    rare = by_measure[(f"keyword: rare word ({KEYWORD_QUERIES['rare word']})", "all kinds")]
    assert rare["matches"] == RARE_SENTENCES  # only the added interview names it
    index = by_measure[("semantic index: rebuild", "-")]
    assert index["matches"] == segments + RARE_SENTENCES  # every segment has a vector


def test_the_report_times_every_search_measure(tmp_path: Path) -> None:
    report = bench_search_report(tmp_path / "search", SEGMENTS, repeats=3, real_model=False)
    check_report(report, SEGMENTS, with_model=False)
    json.dumps(report)  # JSON-ready as it is


def test_the_query_embedder_is_deterministic_and_normalised() -> None:
    vectors = BenchQueryEmbedder().encode(["money", "money", "care"])
    assert vectors.shape == (3, BenchQueryEmbedder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert np.array_equal(vectors[0], vectors[1]) and not np.allclose(vectors[0], vectors[2])


@pytest.mark.slow
def test_the_command_prints_the_table_and_writes_the_json(tmp_path: Path) -> None:
    out = tmp_path / "search.json"
    result = CliRunner().invoke(app, ["bench", "--search", "--segments", str(SEGMENTS), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "keyword: common word" in result.output and "all-MiniLM-L6-v2" in result.output
    check_report(json.loads(out.read_text(encoding="utf-8")), SEGMENTS, with_model=True)
