"""The benchmark project is written through the tool's own writers and holds what it says."""

from __future__ import annotations

from pathlib import Path

import pytest

from narratives.bench.project import CODEBOOK, REVIEWERS, build_large_project
from narratives.bench.ui import _long_document_id
from narratives.review.state import latest_by_reviewer
from narratives.store.coding_runs import latest_run
from narratives.store.events import event_kinds
from narratives.store.segments import count_segments, segment_counts_by_document
from narratives.store.suggestions import coder_counts


def test_a_small_benchmark_project_holds_what_was_asked(tmp_path: Path) -> None:
    project = build_large_project(tmp_path / "bench", n_segments=1000, n_suggestions=1500)
    with project.connect() as connection:
        segments = count_segments(connection)
        coders = coder_counts(connection, CODEBOOK)
        run = latest_run(connection, CODEBOOK)
        reviewers = {user for votes in latest_by_reviewer(connection, CODEBOOK).values() for user in votes}
        kinds = set(event_kinds(connection))
        longest = _long_document_id(connection)
        counts = segment_counts_by_document(connection)
    project.close()
    assert segments == 1000 and coders == {"ensemble": 900, "similarity": 600}
    assert run is not None and run.unit == "sentence" and set(run.stats["thresholds"]) == set(run.codes)
    assert reviewers == set(REVIEWERS)
    assert {"coding.run", "review", "discovery.run", "panel.quote", "panel.response"} <= kinds
    assert counts[longest] == max(counts.values()) == 200  # the long interview: a fifth of the segments


def test_a_project_with_segments_is_not_built_over(tmp_path: Path) -> None:
    build_large_project(tmp_path / "bench", n_segments=50, n_suggestions=60).close()
    with pytest.raises(ValueError, match="already holds a project"):
        build_large_project(tmp_path / "bench", n_segments=50, n_suggestions=60)
