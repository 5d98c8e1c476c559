"""Long narratives made from the NHS comments: the coders' learning curve when each text holds
several matters, beside the short-comment curve.

Each long text joins 3 to 10 substantive comments (drawn without replacement, mixed services, a fixed
seed) into one paragraph, with the union of their codes: like an interview turn or a patient story in
which each code lives in a few sentences. ``narratives.analysis.evaluate`` then runs on them exactly as
on the short comments (k reviewed long texts per code, the rest scored; the ensemble max-pools each
code over a text's sentences).

    python evals/long_texts.py [--texts 600] [--k 0,10,25] [--seeds 3] [--passages]
        [--json evals/results-long-texts.json]

``--passages`` adds the passage coder (:mod:`narratives.coding.passages`), as ``narratives code``
does by itself on long segments.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
COMMENTS = ROOT / "evals/data/nhs_fft_dev/comments.csv"
CODEBOOK = ROOT / "models/codebooks/nhs-fft.yaml"


def long_texts(
    texts: list[str], labels: list[set[str]], n: int, seed: int = 0, sizes: tuple[int, int] = (3, 10)
) -> tuple[list[str], list[set[str]]]:
    """``n`` texts of ``sizes`` (3-10) comments each, with the union of their codes."""
    rng = random.Random(seed)
    order = list(range(len(texts)))
    rng.shuffle(order)
    joined, unions, at = [], [], 0
    while len(joined) < n and at < len(order):
        size = rng.randint(*sizes)
        chosen = order[at : at + size]
        at += size
        pieces = [texts[i].strip().rstrip(".") + "." for i in chosen]
        joined.append(" ".join(pieces))
        unions.append(set().union(*(labels[i] for i in chosen)))
    return joined, unions


def main() -> None:
    from narratives.analysis.evaluate import EvaluationSettings, GoldSet, evaluate, read_gold
    from narratives.codebook.files import load_codebook
    from narratives.coding.sentiment_run import shipped_cache_folder
    from narratives.embed import CachedEmbedder, NpyEmbeddingCache, load_embedder

    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=600)
    parser.add_argument("--k", default="0,10,25")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--passages", action="store_true", help="add the passage coder (MIL)")
    parser.add_argument("--min-comments", type=int, default=3)
    parser.add_argument("--max-comments", type=int, default=10)
    args = parser.parse_args()
    book = load_codebook(CODEBOOK)
    short = read_gold(COMMENTS, book, "text", "labels_v7", "|", "substantive=True")
    texts, labels = long_texts(
        short.texts, short.labels, args.texts, sizes=(args.min_comments, args.max_comments)
    )
    gold = GoldSet(path="long texts from " + str(COMMENTS.relative_to(ROOT)), texts=texts, labels=labels)
    embedder = CachedEmbedder(load_embedder(None), NpyEmbeddingCache(shipped_cache_folder()))
    settings = EvaluationSettings(
        ks=tuple(int(k) for k in args.k.split(",")), seeds=args.seeds, passages=args.passages
    )
    started = time.perf_counter()
    report = evaluate(book, gold, embedder.encode, embedder, settings, progress=print)
    words = [len(t.split()) for t in texts]
    result = {
        "texts": len(texts),
        "comments_per_text": f"{args.min_comments}-{args.max_comments}",
        "passages": args.passages,
        "words_per_text": {"median": sorted(words)[len(words) // 2], "max": max(words)},
        "codes_per_text": round(sum(len(lab) for lab in labels) / len(labels), 2),
        "summary": report.summary,
        "runs": [
            {key: run[key] for key in ("k", "seed", "n_reviewed", "micro_f1", "macro_f1", "mode", "seconds")}
            for run in report.runs
        ],
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
