"""Coding quality with vectors as the project stores them (float16) against float32.

    python evals/stored_precision.py --k 0,10,25 --seeds 3 --json evals/results-float16.json

Runs `narratives evaluate`'s evaluation twice on the same data, seeds and settings: once with the
embedder's float32 vectors, once with every vector (comments and the codebook's prototypes) rounded
to float16 and back, which is what a project's embedding cache returns. Prints micro and macro F1 for
both and the difference.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from narratives.analysis.evaluate import EvaluationSettings, read_gold
from narratives.analysis.evaluate import evaluate as run_evaluation
from narratives.codebook.files import load_codebook
from narratives.embed import CachedEmbedder, NpyEmbeddingCache, load_embedder
from narratives.store.embeddings import STORED_DTYPE

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "narratives" / "embeddings"


class StoredPrecision:
    """An embedder whose vectors go through the project's stored form (float16) and back."""

    def __init__(self, embedder: CachedEmbedder):
        self.embedder = embedder
        self.name = embedder.name

    @property
    def dim(self) -> int:
        return self.embedder.dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder.encode(texts).astype(STORED_DTYPE).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", default="0,10,25")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--no-codebook-examples", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    book = load_codebook(ROOT / "models/codebooks/nhs-fft.yaml")
    gold = read_gold(
        ROOT / "evals/data/nhs_fft_dev/comments.csv", book, "text", "labels_v7", "|", "substantive=True"
    )
    settings = EvaluationSettings(
        ks=[int(k) for k in args.k.split(",")],
        seeds=args.seeds,
        use_codebook_examples=not args.no_codebook_examples,
    )
    full = CachedEmbedder(load_embedder(None), NpyEmbeddingCache(CACHE))
    results = {}
    for label, embedder in (("float32", full), ("float16", StoredPrecision(full))):
        report = run_evaluation(book, gold, embedder.encode, embedder, settings)
        results[label] = report.summary
    print(f"{'k':>4} {'float32 micro/macro':>22} {'float16 micro/macro':>22} {'macro diff':>11}")
    for k in settings.ks:
        a = next(row for row in results["float32"] if row["k"] == k)
        b = next(row for row in results["float16"] if row["k"] == k)
        print(
            f"{k:>4} {a['micro_f1']:>10.4f} / {a['macro_f1']:.4f} "
            f"{b['micro_f1']:>10.4f} / {b['macro_f1']:.4f} "
            f"{b['macro_f1'] - a['macro_f1']:>+11.4f}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
