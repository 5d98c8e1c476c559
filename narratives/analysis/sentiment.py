"""Themes by sentiment: how many of the segments carrying each code are positive, mixed or negative.

Counts come from :func:`~narratives.analysis.coded.carried_codes` (so a parent theme counts each
segment any of its sub-codes reaches once) and :func:`~narratives.store.sentiments.current_sentiments`
(a reviewer's correction wins over the model). Segments not yet scored count as ``(not scored)``.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection

from narratives.analysis.coded import (
    Threshold,
    carried_codes,
    code_hierarchy,
    codebook_name,
    coded_with_documents,
    document_table,
)
from narratives.analysis.crosstab import with_hierarchy
from narratives.coding.sentiment import LABELS
from narratives.schema import Codebook
from narratives.store.sentiments import current_sentiments

NOT_SCORED = "(not scored)"
SENTIMENT_COLUMNS = ["code_id", "sentiment", "count", "people", "share", "code_total"]


def themes_by_sentiment(
    connection: Connection,
    codebook: str | Codebook,
    *,
    include_machine: bool = True,
    threshold: Threshold = None,
) -> pd.DataFrame:
    """One row per (code, sentiment) with the hierarchy columns: ``count`` segments, ``people`` they
    come from (for small-cell suppression), ``share`` of the code's ``code_total`` segments. Every
    code has a row for each label (zero counts included). Segments of current documents only."""
    name = codebook_name(codebook)
    docs = document_table(connection)[["document_id", "person"]]
    carried = coded_with_documents(
        carried_codes(connection, name, include_machine=include_machine, threshold=threshold), docs
    )
    sentiments = current_sentiments(connection, sorted({int(s) for s in carried["segment_id"]}))
    carried = carried.assign(
        sentiment=[
            sentiments[int(s)].label if int(s) in sentiments else NOT_SCORED for s in carried["segment_id"]
        ]
    )
    hierarchy = code_hierarchy(connection, name)
    rows = []
    for code in hierarchy.codes:
        own = carried[carried["code_id"] == code.id].drop_duplicates("segment_id")
        total = len(own)
        counts = own["sentiment"].value_counts()
        people = own.groupby("sentiment")["person"].nunique()
        labels = [*LABELS, *([NOT_SCORED] if NOT_SCORED in counts.index else [])]
        for label in labels:
            count = int(counts.get(label, 0))
            share = round(count / total, 4) if total else 0.0
            rows.append((code.id, label, count, int(people.get(label, 0)), share, total))
    return with_hierarchy(pd.DataFrame(rows, columns=SENTIMENT_COLUMNS), hierarchy)


def segment_sentiment_column(connection: Connection, segment_ids: pd.Series) -> list[str | None]:
    """Each segment's sentiment now (None where none has been scored), for an export column."""
    found = current_sentiments(connection, sorted({int(s) for s in segment_ids}))
    return [found[int(s)].label if int(s) in found else None for s in segment_ids]
