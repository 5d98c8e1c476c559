"""UMAP's compiled code is kept on disk, so a new process does not compile it again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

COUNT = """
from narratives.discovery.compiled import cache_compiled_code
import umap.umap_
print(cache_compiled_code(), type(umap.umap_.smooth_knn_dist._cache).__name__)
"""

FIT_AND_REPORT = """
import numpy as np
from narratives.discovery.compiled import cache_compiled_code
cache_compiled_code()
import umap.umap_
from umap import UMAP
vectors = np.random.default_rng(0).standard_normal((80, 16)).astype(np.float32)
coords = UMAP(n_neighbors=10, n_components=2, metric="cosine", random_state=0, low_memory=True).fit_transform(vectors)
stats = umap.umap_.smooth_knn_dist.stats
print(len(stats.cache_hits), len(stats.cache_misses), round(float(coords[0, 0]), 4))
"""


def _run(code: str, cache: Path) -> list[str]:
    environment = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_every_compiled_function_of_umap_gets_a_disk_cache(tmp_path: Path) -> None:
    turned_on, cache_kind = _run(COUNT, tmp_path / "numba")
    assert int(turned_on) > 100  # UMAP and pynndescent have hundreds; UMAP marks almost none itself
    assert cache_kind == "FunctionCache"


@pytest.mark.slow
def test_a_second_process_loads_the_compiled_code_and_gets_the_same_layout(tmp_path: Path) -> None:
    cache = tmp_path / "numba"
    hits, misses, first = _run(FIT_AND_REPORT, cache)
    assert (int(hits), int(misses)) == (0, 1)  # compiled, then written to disk
    assert any(cache.rglob("*.nbi"))
    hits, misses, second = _run(FIT_AND_REPORT, cache)
    assert (int(hits), int(misses)) == (1, 0)  # loaded from disk, not compiled
    assert second == first
