"""Held-out macro-F1 of the sentiment model (narratives.coding.sentiment) on the NHS comments.

Stratified 80/20 splits of the 3,871 rated comments, three seeds: the model is fitted on 80 % and
scored on the other 20 %, three classes (1-2 positive, 3 mixed, 4-5 negative). Also the same with a
logistic regression on the embeddings alone, and "most frequent class", for comparison.

    python evals/sentiment.py [--model NAME] [--json evals/results-sentiment.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedShuffleSplit

    from narratives.coding.sentiment import LABELS, SentimentModel, shipped_training_set
    from narratives.coding.sentiment_run import shipped_cache_folder
    from narratives.embed import CachedEmbedder, NpyEmbeddingCache, load_embedder

    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    texts, labels = shipped_training_set()
    y = np.array(labels)
    embedder = CachedEmbedder(load_embedder(args.model), NpyEmbeddingCache(shipped_cache_folder()))
    vectors = embedder.encode(texts)
    scores: dict[str, list[float]] = {"model": [], "embeddings only": [], "most frequent class": []}
    per_class: list[list[float]] = []
    started = time.perf_counter()
    for seed in range(args.seeds):
        train, test = next(StratifiedShuffleSplit(1, test_size=0.2, random_state=seed).split(texts, y))
        model = SentimentModel(seed=seed).fit([texts[i] for i in train], vectors[train], y[train].tolist())
        guess = np.array(model.predict([texts[i] for i in test], vectors[test]))
        scores["model"].append(float(f1_score(y[test], guess, average="macro")))
        per_class.append(f1_score(y[test], guess, average=None, labels=list(LABELS)).tolist())
        plain = LogisticRegression(max_iter=2000, class_weight="balanced", random_state=seed)
        plain.fit(vectors[train], y[train])
        scores["embeddings only"].append(
            float(f1_score(y[test], plain.predict(vectors[test]), average="macro"))
        )
        common = max(set(y[train].tolist()), key=y[train].tolist().count)
        scores["most frequent class"].append(
            float(f1_score(y[test], np.full(len(test), common), average="macro"))
        )
    report = {
        "data": "evals/data/nhs_fft_dev/comments.csv, rows with sentiment_1to5",
        "texts": len(texts),
        "classes": {label: labels.count(label) for label in LABELS},
        "model": embedder.name,
        "split": "stratified 80/20",
        "seeds": args.seeds,
        "macro_f1": {
            name: {"mean": round(float(np.mean(v)), 3), "sd": round(float(np.std(v)), 3)}
            for name, v in scores.items()
        },
        "f1_per_class": dict(zip(LABELS, np.round(np.mean(per_class, axis=0), 3).tolist(), strict=True)),
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
