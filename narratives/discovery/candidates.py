"""Candidate themes of a discovery run: what describes them, and how they are stored.

For each topic found by :mod:`narratives.discovery.topics`: representative quotes (the texts nearest
the topic's centroid, near-duplicates skipped), its size by source kind and by groupable attribute
(participant and document attributes with at most ``MAX_GROUP_VALUES`` values, such as need group,
council or role), and its overlap with the codes of a codebook: the share of its segments that
overlap a span carrying the code now (as :mod:`narratives.review.state` defines it). Overlap is
worked out on character spans, not segment ids, so that a theme found among speaker turns meets the
codes applied to sentences: a segment overlaps a coded span when both are in the same document and
their offsets overlap.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
from sqlalchemy import Connection

from narratives.review.state import ENSEMBLE, coding_state
from narratives.schema import Codebook, Segment
from narratives.store.discovery import Candidate, segment_owners
from narratives.store.documents import attribute_rows
from narratives.store.segments import SegmentSpan, segment_spans

MAX_GROUP_VALUES = 12  # an attribute with more distinct values than this is not a grouping


def describe_candidates(
    connection: Connection,
    kept: list[Segment],
    vectors: np.ndarray,
    topics: np.ndarray,
    keywords: dict[int, list[str]],
    labels: dict[int, str],
    codebook: Codebook | None,
) -> list[Candidate]:
    """One candidate per topic (``topics[i]`` for ``kept[i]``, -1 for outliers), largest first."""
    members = defaultdict(list)
    for index, topic in enumerate(topics.tolist()):
        if topic != -1:
            members[topic].append(index)
    groups = _segment_groups(connection, [s.id for s in kept if s.id is not None])
    coded = coded_spans(connection, codebook.name) if codebook else CodedSpans({})
    spans = {int(s.id or 0): SegmentSpan(s.document_id, s.start, s.end) for s in kept}
    names = {c.id: c.name for c in codebook.codes} if codebook else {}
    found = []
    for topic in sorted(members, key=lambda t: (-len(members[t]), t)):
        indices = members[topic]
        segment_ids = [int(kept[i].id or 0) for i in indices]
        found.append(
            Candidate(
                id=None,
                topic=int(topic),
                label=labels.get(topic, "unlabelled"),
                keywords=keywords.get(topic, []),
                quotes=_quotes(kept, vectors, indices),
                segment_ids=segment_ids,
                size=len(indices),
                sizes=_sizes(segment_ids, groups),
                overlap=overlap_shares(segment_ids, spans, coded, names),
            )
        )
    return found


def _quotes(kept: list[Segment], vectors: np.ndarray, indices: list[int], count: int = 5) -> list[dict]:
    """The texts closest to the theme's centroid, skipping near-duplicates."""
    centroid = vectors[indices].mean(axis=0)
    order = np.argsort(-(vectors[indices] @ centroid), kind="stable")
    chosen: list[int] = []
    for position in order:
        index = indices[int(position)]
        if all(float(vectors[index] @ vectors[other]) < 0.95 for other in chosen):
            chosen.append(index)
        if len(chosen) == count:
            break
    return [{"segment_id": int(kept[i].id or 0), "text": kept[i].text} for i in chosen]


def _segment_groups(connection: Connection, segment_ids: list[int]) -> dict[int, dict[str, str]]:
    """segment id -> {"kind": ..., attribute key: value} for groupable attributes."""
    owners = segment_owners(connection, segment_ids)
    by_document: dict[int, dict[str, str]] = defaultdict(dict)
    by_person: dict[int, dict[str, str]] = defaultdict(dict)
    values_per_key: dict[str, set[str]] = defaultdict(set)
    for row in attribute_rows(connection):
        if row.value is None:
            continue
        values_per_key[row.key].add(row.value)
        if row.document_id is not None:
            by_document[row.document_id][row.key] = row.value
        if row.participant_id is not None:
            by_person[row.participant_id][row.key] = row.value
    groupable = {key for key, values in values_per_key.items() if len(values) <= MAX_GROUP_VALUES}
    groups = {}
    for segment_id, (document_id, kind, person) in owners.items():
        of_person = by_person.get(person, {}) if person is not None else {}
        merged = {**of_person, **by_document.get(document_id, {})}
        groups[segment_id] = {"kind": kind, **{k: v for k, v in merged.items() if k in groupable}}
    return groups


def _sizes(segment_ids: list[int], groups: dict[int, dict[str, str]]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for segment_id in segment_ids:
        for key, value in groups.get(segment_id, {}).items():
            counts[key][value] += 1
    return {key: dict(sorted(counter.items())) for key, counter in sorted(counts.items())}


class CodedSpans:
    """The spans carrying each code now, by document, sorted by start: what a candidate's segments
    are laid against, whatever unit either was segmented in."""

    def __init__(self, by_document: dict[int, list[tuple[int, int, str]]]) -> None:
        self.by_document = {doc: sorted(found) for doc, found in by_document.items()}
        self._starts = {doc: [start for start, _, _ in found] for doc, found in self.by_document.items()}
        self._longest = {
            doc: max((end - start for start, end, _ in found), default=0)
            for doc, found in self.by_document.items()
        }

    def codes_over(self, document_id: int, start: int, end: int) -> set[str]:
        """Codes on a span of the document that overlaps ``[start, end)``."""
        found = self.by_document.get(document_id)
        if not found:
            return set()
        starts = self._starts[document_id]
        first = bisect_left(starts, start - self._longest[document_id])
        last = bisect_left(starts, end)
        return {code for s, e, code in found[first:last] if s < end and e > start}


def coded_spans(connection: Connection, codebook: str, coder: str = ENSEMBLE) -> CodedSpans:
    """Every span carrying a code now (reviewed or machine, retired codes left out), by document."""
    by_document: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for pair in coding_state(connection, codebook, coder=coder).carried():
        start, end = pair.span
        by_document[pair.document_id].append((start, end, pair.code_id))
    return CodedSpans(dict(by_document))


def overlap_shares(
    segment_ids: Sequence[int],
    spans: dict[int, SegmentSpan],
    coded: CodedSpans,
    names: dict[str, str],
    top: int = 3,
) -> list[dict]:
    """The ``top`` codes most of these segments overlap, each with the share of segments that do."""
    counts: Counter[str] = Counter()
    for segment_id in segment_ids:
        span = spans.get(segment_id)
        if span is not None:
            counts.update(coded.codes_over(span.document_id, span.start, span.end))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
    return [
        {"code_id": code_id, "name": names.get(code_id, code_id), "share": round(n / len(segment_ids), 3)}
        for code_id, n in ranked
    ]


def current_overlaps(
    connection: Connection,
    codebook: str,
    candidates: Iterable[tuple[int, Sequence[int]]],
    names: dict[str, str],
) -> dict[int, list[dict]]:
    """candidate id -> its overlap with the codes of ``codebook`` as they stand now (for candidates
    given as (id, segment ids)): what the Discover page shows, since coding moves on after a run."""
    chosen = list(candidates)
    spans = segment_spans(connection, ids={i for _, ids in chosen for i in ids})
    coded = coded_spans(connection, codebook)
    return {cid: overlap_shares(ids, spans, coded, names) for cid, ids in chosen}
