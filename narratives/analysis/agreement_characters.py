"""Character-level agreement of hand-coded spans: a different measure from segment agreement.

For each pair of reviewers and each code, over the documents both of them hand-coded (each has at
least one live hand-coded span there, of any code): the characters both coded with the code divided
by the characters either coded with it (overlap / union, as QDA programs report span agreement),
with each coder's own character count. A span is a reviewer's latest live ``add`` decision on a
(segment, code) with document offsets; overlapping spans of one coder count once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

from sqlalchemy import Connection

from narratives.review.state import latest_by_reviewer
from narratives.schema import Decision
from narratives.store.segments import segment_spans

MEASURE = "character level: characters both coded / characters either coded (hand-coded spans only)"
Intervals = list[tuple[int, int]]


@dataclass(frozen=True)
class CharacterAgreement:
    """Overlap of two coders' hand-coded characters for one code, over ``n_documents`` documents."""

    code_id: str
    coder_a: str
    coder_b: str
    n_documents: int
    characters_a: int
    characters_b: int
    both: int
    either: int

    @property
    def overlap(self) -> float:
        return self.both / self.either if self.either else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "overlap": self.overlap, "measure": MEASURE}


def merged(intervals: Iterable[tuple[int, int]]) -> Intervals:
    """Sorted, non-overlapping intervals covering the same characters."""
    found: Intervals = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if found and start <= found[-1][1]:
            found[-1] = (found[-1][0], max(found[-1][1], end))
        else:
            found.append((start, end))
    return found


def covered(intervals: Intervals) -> int:
    return sum(end - start for start, end in intervals)


def intersection(a: Intervals, b: Intervals) -> int:
    """Characters in both merged interval lists."""
    total, i, j = 0, 0, 0
    while i < len(a) and j < len(b):
        total += max(0, min(a[i][1], b[j][1]) - max(a[i][0], b[j][0]))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def hand_spans(
    connection: Connection, codebook: str, coders: Sequence[str]
) -> dict[str, dict[tuple[int, str], Intervals]]:
    """coder -> (document, code) -> their merged hand-coded spans."""
    wanted, raw = set(coders), defaultdict(lambda: defaultdict(list))  # type: ignore[var-annotated]
    latest = latest_by_reviewer(connection, codebook)
    spans = segment_spans(connection, ids={segment_id for segment_id, _ in latest})
    for (segment_id, code_id), by_user in latest.items():
        for user, review in by_user.items():
            hand = (
                review.decision == Decision.add.value and review.start is not None and review.end is not None
            )
            if user in wanted and hand and segment_id in spans:
                raw[user][(spans[segment_id].document_id, code_id)].append((review.start, review.end))
    return {user: {key: merged(found) for key, found in by_key.items()} for user, by_key in raw.items()}


def character_agreement(
    connection: Connection, codebook: str, coders: Sequence[str], codes: Sequence[str] | None = None
) -> list[CharacterAgreement]:
    """Per pair of ``coders`` and per code, the overlap of their hand-coded characters."""
    spans = hand_spans(connection, codebook, coders)
    found: list[CharacterAgreement] = []
    for first, second in combinations(list(coders), 2):
        mine, theirs = spans.get(first, {}), spans.get(second, {})
        documents = {d for d, _ in mine} & {d for d, _ in theirs}
        code_ids = sorted(
            {c for d, c in [*mine, *theirs] if d in documents}
            & set(codes or [c for _, c in [*mine, *theirs]])
        )
        for code in code_ids:
            a = [mine.get((d, code), []) for d in sorted(documents)]
            b = [theirs.get((d, code), []) for d in sorted(documents)]
            both = sum(intersection(x, y) for x, y in zip(a, b, strict=True))
            count_a, count_b = sum(map(covered, a)), sum(map(covered, b))
            found.append(
                CharacterAgreement(
                    code, first, second, len(documents), count_a, count_b, both, count_a + count_b - both
                )
            )
    return found
