"""Discovery on the NHS comments against their human codes: candidates, purity, NMI, outliers,
stability across seeds, and redundancy with the codebook.

The substantive comments go into a throw-away project (one survey answer = one response segment),
are coded zero-shot with the NHS codebook (for the overlap that says which candidates repeat a code),
and `discover_themes` runs with ``--stability`` re-runs. Purity, NMI and the outlier share compare the
candidates with the comments' ``labels_v7`` (:mod:`narratives.discovery.quality`).

    python evals/discovery_quality.py [--seed 42] [--stability 2] [--min-topic-size N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
COMMENTS = ROOT / "evals/data/nhs_fft_dev/comments.csv"
CODEBOOK = ROOT / "models/codebooks/nhs-fft.yaml"


def main() -> None:
    from narratives.codebook.files import load_codebook
    from narratives.coding.runner import code_project
    from narratives.discovery.quality import against_gold
    from narratives.discovery.topics import discover_themes
    from narratives.embed import load_embedder
    from narratives.schema import Document, Segment, SegmentUnit, SourceKind
    from narratives.store import init_project
    from narratives.store.documents import save_document
    from narratives.store.segments import load_segments, save_segments

    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--stability", type=int, default=2)
    parser.add_argument("--min-topic-size", type=int, default=None, help="Default: chosen by size.")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    table = pd.read_csv(COMMENTS, dtype=str, keep_default_na=False)
    table = table[table["substantive"].str.lower() == "true"]
    labels = {
        row.text: [c.strip() for c in row.labels_v7.split("|") if c.strip()] for row in table.itertuples()
    }
    embedder = load_embedder(None)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        project = init_project(Path(folder) / "nhs")
        with project.begin() as connection:
            for number, row in enumerate(table.itertuples()):
                saved = save_document(
                    connection,
                    Document(kind=SourceKind.survey, title=row.comment_id, text=row.text, path=f"{number}"),
                )
                if saved.outcome != "unchanged":
                    segment = Segment(
                        document_id=saved.document_id,
                        unit=SegmentUnit.response,
                        index=0,
                        start=0,
                        end=len(row.text),
                        text=row.text,
                    )
                    save_segments(connection, [segment], pipeline="evals")
        book = load_codebook(CODEBOOK)
        code_project(project, book, embedder=embedder, user="evals")
        result = discover_themes(
            project,
            embedder=embedder,
            user="evals",
            codebook_name=book.name,
            seed=args.seed,
            stability_seeds=args.stability,
            min_topic_size=args.min_topic_size,
            progress=print,
        )
        with project.connect() as connection:
            segs = load_segments(connection, unit=SegmentUnit.response)
        topic_of = {sid: c.topic for c in result.candidates for sid in c.segment_ids}
        topics = [topic_of.get(int(s.id or 0), -1) for s in segs]
        gold = [labels.get(s.text, []) for s in segs]
        project.close()
    import numpy as np

    quality = against_gold(np.array(topics), gold)
    stats = result.stats
    report = {
        "data": "evals/data/nhs_fft_dev/comments.csv, substantive comments, labels_v7",
        "model": embedder.name,
        "seed": args.seed,
        "min_topic_size": args.min_topic_size or f"by size: {result.config.get('min_topic_size')}",
        "candidates": len(result.candidates),
        "against_human_codes": quality.__dict__,
        "outlier_share_of_clustered": stats.get("outlier_share"),
        "stability": {k: stats["stability"][k] for k in ("seeds", "topics_per_run", "recurring_share")}
        if "stability" in stats
        else None,
        "recurs": stats.get("stability", {}).get("recurs"),
        "redundant": len(stats.get("redundant", {})),
        "seconds": round(time.perf_counter() - started, 1),
        "aims": {"purity": ">= 0.75", "outliers": "<= 10%", "candidates": "10-25"},
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
