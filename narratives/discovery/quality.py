"""How far to trust a discovery run: stability across seeds, redundancy with the codebook, and,
against human codes, purity, NMI and the outlier share.

- **Stability**: the run is fitted again with other seeds on the same texts and vectors; a candidate
  *recurs* in a re-run when some topic of it shares members with Jaccard >= :data:`RECUR_JACCARD`.
- **Redundancy**: a candidate whose members mostly (share >= :data:`REDUNDANT_SHARE`) carry one
  existing code adds little: it is that code again.
- **Against human codes** (``narratives`` evaluation, ``evals/discovery_quality.py``): purity is the
  share of clustered texts whose candidate's most common human code is among their own codes; NMI
  compares the candidates with each text's first human code; the outlier share is the texts left in
  no candidate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

RECUR_JACCARD = 0.5
REDUNDANT_SHARE = 0.5


def members(topics: np.ndarray) -> dict[int, set[int]]:
    """Topic id -> positions of its texts (outliers, -1, left out)."""
    found: dict[int, set[int]] = {}
    for position, topic in enumerate(np.asarray(topics).tolist()):
        if topic != -1:
            found.setdefault(int(topic), set()).add(position)
    return found


def jaccard(a: set[int], b: set[int]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


@dataclass
class Stability:
    seeds: list[int]  # the re-runs' seeds
    best_jaccard: dict[int, list[float]]  # candidate topic -> its best match in each re-run
    recurs: dict[int, int] = field(default_factory=dict)  # topic -> re-runs it recurs in
    topics_per_run: list[int] = field(default_factory=list)

    @property
    def recurring_share(self) -> float:
        """The share of candidates that recur in every re-run."""
        if not self.best_jaccard:
            return 0.0
        every = sum(1 for topic in self.best_jaccard if self.recurs.get(topic, 0) == len(self.seeds))
        return every / len(self.best_jaccard)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "recurring_share": round(self.recurring_share, 4)}


def stability(
    base: np.ndarray, reruns: Mapping[int, np.ndarray], only: Collection[int] | None = None
) -> Stability:
    """Each candidate of ``base`` (those in ``only``, when given) against the topics of each re-run
    (seed -> topics per text)."""
    own = {t: group for t, group in members(base).items() if only is None or t in only}
    best: dict[int, list[float]] = {topic: [] for topic in own}
    sizes = []
    for _seed, topics in sorted(reruns.items()):
        other = members(topics)
        sizes.append(len(other))
        for topic, group in own.items():
            best[topic].append(round(max((jaccard(group, g) for g in other.values()), default=0.0), 4))
    recurs = {topic: sum(1 for j in values if j >= RECUR_JACCARD) for topic, values in best.items()}
    return Stability(seeds=sorted(reruns), best_jaccard=best, recurs=recurs, topics_per_run=sizes)


def redundant(overlaps: Mapping[int, Sequence[Mapping[str, Any]]]) -> dict[int, dict[str, Any]]:
    """Candidate topic -> the existing code it mostly repeats (``{"code_id", "name", "share"}``)."""
    found = {}
    for topic, overlap in overlaps.items():
        top = max(overlap, key=lambda o: float(o.get("share", 0.0)), default=None)
        if top is not None and float(top.get("share", 0.0)) >= REDUNDANT_SHARE:
            found[topic] = dict(top)
    return found


@dataclass(frozen=True)
class AgainstGold:
    candidates: int
    texts: int
    clustered: int
    purity: float
    nmi: float
    outlier_share: float


def against_gold(topics: np.ndarray, gold: Sequence[Sequence[str]]) -> AgainstGold:
    """Purity, NMI and the outlier share of ``topics`` (per text, -1 outlier) against human codes
    (per text, a list; the first counts for NMI). Texts without a human code are left out."""
    from sklearn.metrics import normalized_mutual_info_score

    topics = np.asarray(topics)
    keep = [i for i, codes in enumerate(gold) if codes]
    clustered = [i for i in keep if topics[i] != -1]
    hits = 0
    for group in members(topics[clustered]).values():
        chosen = [clustered[k] for k in group]
        majority, _ = Counter(code for i in chosen for code in gold[i]).most_common(1)[0]
        hits += sum(1 for i in chosen if majority in gold[i])
    nmi = (
        normalized_mutual_info_score([gold[i][0] for i in clustered], topics[clustered]) if clustered else 0.0
    )
    return AgainstGold(
        candidates=len(members(topics)),
        texts=len(keep),
        clustered=len(clustered),
        purity=round(hits / len(clustered), 4) if clustered else 0.0,
        nmi=round(float(nmi), 4),
        outlier_share=round(1 - len(clustered) / len(keep), 4) if keep else 0.0,
    )
