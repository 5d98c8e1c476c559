"""Encoding speed of the bundled MiniLM against a distilled static model, on the same texts, same run.

    narratives models distill --name minilm-static
    python evals/static_speed.py --model minilm-static --json evals/results-static-speed.json

Reads the gold texts `narratives evaluate` scores (the NHS FFT development set, substantive rows),
loads both models first (their loading is timed apart), encodes every text once with each (no cache)
and prints texts per second and the ratio. Run it alone: the figures are CPU time on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from narratives.analysis.evaluate import read_gold
from narratives.codebook.files import load_codebook
from narratives.embed import Embedder, load_embedder

ROOT = Path(__file__).resolve().parents[1]


def timed_encode(embedder: Embedder, texts: list[str]) -> dict[str, float]:
    """Load (a first tiny encode), then encode ``texts`` once; seconds and texts per second."""
    started = time.perf_counter()
    embedder.encode(["warm up"])
    loaded = time.perf_counter()
    vectors = embedder.encode(texts)
    done = time.perf_counter()
    assert vectors.shape[0] == len(texts) and np.isfinite(vectors).all()
    return {
        "load_seconds": round(loaded - started, 2),
        "encode_seconds": round(done - loaded, 3),
        "texts_per_second": round(len(texts) / (done - loaded), 1),
        "dim": int(vectors.shape[1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="minilm-static", help="The static model's name or folder.")
    parser.add_argument("--json", type=Path, help="Write the figures to this file.")
    args = parser.parse_args()
    book = load_codebook(ROOT / "models" / "codebooks" / "nhs-fft.yaml")
    gold = read_gold(
        ROOT / "evals" / "data" / "nhs_fft_dev" / "comments.csv",
        book,
        "text",
        "labels_v7",
        "|",
        "substantive=True",
    )
    texts = list(gold.texts)
    figures = {name: timed_encode(load_embedder(name), texts) for name in ("all-MiniLM-L6-v2", args.model)}
    ratio = figures[args.model]["texts_per_second"] / figures["all-MiniLM-L6-v2"]["texts_per_second"]
    result = {
        "texts": len(texts),
        "models": figures,
        "speedup": round(ratio, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared)",
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
