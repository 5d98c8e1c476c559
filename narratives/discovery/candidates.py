"""Candidate themes of a discovery run: what describes them, and how they are stored.

For each topic found by :mod:`narratives.discovery.topics`: representative quotes (the texts nearest
the topic's centroid, near-duplicates skipped), its size by source kind and by groupable attribute
(participant and document attributes with at most ``MAX_GROUP_VALUES`` values, such as need group,
council or role), and its overlap with the codes of a codebook (the share of its segments carrying
the code now, as :mod:`narratives.review.state` defines it).
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
from sqlalchemy import Connection

from narratives.review.state import ENSEMBLE, coding_state
from narratives.schema import Codebook, Segment
from narratives.store.discovery import Candidate, segment_owners
from narratives.store.documents import attribute_rows

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
    applied = _applied_codes(connection, codebook) if codebook else {}
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
                overlap=_overlap(segment_ids, applied, names),
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


def _applied_codes(connection: Connection, codebook: Codebook) -> dict[int, set[str]]:
    """segment id -> the codes it carries now (:mod:`narratives.review.state`)."""
    applied: dict[int, set[str]] = defaultdict(set)
    for pair in coding_state(connection, codebook.name, coder=ENSEMBLE).carried():
        applied[pair.segment_id].add(pair.code_id)
    return applied


def _overlap(segment_ids: list[int], applied: dict[int, set[str]], names: dict[str, str]) -> list[dict]:
    counts: Counter[str] = Counter()
    for segment_id in segment_ids:
        counts.update(applied.get(segment_id, ()))
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:3]
    return [
        {"code_id": code_id, "name": names.get(code_id, code_id), "share": round(n / len(segment_ids), 3)}
        for code_id, n in top
    ]
