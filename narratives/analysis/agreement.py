"""Agreement between coders, human or machine, on the segments every compared coder saw.

Coders are:

- every **reviewer**: their own latest live decision per (segment, code)
  (:func:`~narratives.review.state.latest_by_reviewer`; adjudications are not anyone's coding). A
  reviewer saw a segment when they recorded any live decision on it for the codebook; on a segment
  they saw, a code they made no decision on counts as not applied.
- **machine** coders: ``machine`` is what the machine says now by the rule of
  :mod:`narratives.review.state` for unreviewed pairs (the ensemble's, else the most frequent
  coder's score against its run's threshold); every coder name in the suggestions (``ensemble``,
  ``phrase``, ...) is a coder too. A machine coder saw every segment it scored.

Statistics (:mod:`narratives.analysis.agreement_stats`) are computed only on segments every compared
coder saw, so text nobody coded does not inflate agreement. The overall figure pools every (segment,
code) decision of the codes at least one coder applied there. Character-level overlap of hand-coded
spans is :mod:`narratives.analysis.agreement_characters`, a different measure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Connection

from narratives.analysis.agreement_stats import DEFAULT_BOOTSTRAP, AgreementStats, agreement_by_code
from narratives.errors import AgreementError
from narratives.review.adjudication import adjudications
from narratives.review.state import coding_state, latest_by_reviewer
from narratives.store.codebooks import current_codes
from narratives.store.segments import load_segments
from narratives.store.suggestions import coder_counts

if TYPE_CHECKING:
    import pandas as pd

MACHINE = "machine"
Pair = tuple[int, str]


@dataclass
class CoderLabels:
    """What one coder did: the segments they saw, the codes they applied, their memos."""

    name: str
    kind: str  # "reviewer" or "machine"
    seen: set[int] = field(default_factory=set)
    applied: set[Pair] = field(default_factory=set)
    memos: dict[Pair, str] = field(default_factory=dict)


def reviewers_of(connection: Connection, codebook: str) -> list[str]:
    """Everyone with a live review of ``codebook``, by name."""
    return sorted({user for by in latest_by_reviewer(connection, codebook).values() for user in by})


def available_coders(connection: Connection, codebook: str) -> list[str]:
    """Every reviewer (by name), then ``machine`` and each suggestion coder, when there are any."""
    machines = sorted(coder_counts(connection, codebook))
    return reviewers_of(connection, codebook) + ([MACHINE, *machines] if machines else [])


def coder_labels(connection: Connection, codebook: str, names: Sequence[str]) -> dict[str, CoderLabels]:
    """Each named coder's labels; :class:`AgreementError` naming the coders there are otherwise."""
    known = available_coders(connection, codebook)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise AgreementError(
            f"no coder called {', '.join(map(repr, unknown))} in codebook '{codebook}'.",
            fix=f"use some of: {', '.join(known) or '(nobody has coded yet)'}.",
        )
    found: dict[str, CoderLabels] = {}
    reviewers = [name for name in names if name not in coder_counts(connection, codebook) and name != MACHINE]
    if reviewers:
        found.update(_reviewer_labels(connection, codebook, reviewers))
    for name in names:
        if name not in found:
            found[name] = _machine_labels(connection, codebook, name)
    return {name: found[name] for name in names}


def _reviewer_labels(connection: Connection, codebook: str, names: Sequence[str]) -> dict[str, CoderLabels]:
    found = {name: CoderLabels(name, "reviewer") for name in names}
    for (segment_id, code_id), by_user in latest_by_reviewer(connection, codebook).items():
        for user, review in by_user.items():
            if user in found:
                found[user].seen.add(segment_id)
                if review.applies:
                    found[user].applied.add((segment_id, code_id))
                if review.memo:
                    found[user].memos[(segment_id, code_id)] = review.memo
    return found


def _machine_labels(connection: Connection, codebook: str, name: str) -> CoderLabels:
    state = coding_state(connection, codebook, coder=None if name == MACHINE else name, all_scores=True)
    labels = CoderLabels(name, "machine")
    for pair, pair_state in state.pairs.items():
        if pair_state.score is not None:
            labels.seen.add(pair[0])
            if pair_state.machine_applies:
                labels.applied.add(pair)
    return labels


# -------------------------------------------------------------------------------------- report


@dataclass(frozen=True)
class CodeAgreement:
    """Agreement on one code over the common segments, with how often each coder applied it."""

    code_id: str
    applied: dict[str, int]
    stats: AgreementStats

    @property
    def used(self) -> bool:
        return any(self.applied.values())


@dataclass
class AgreementReport:
    """Agreement between ``coders`` per code and overall, on ``n_units`` segments all of them saw."""

    codebook: str
    coders: list[str]
    coder_kinds: dict[str, str]
    n_units: int
    per_code: list[CodeAgreement]
    overall: AgreementStats | None
    n_boot: int
    seed: int
    units: list[int] = field(default_factory=list)  # the common segment ids

    @property
    def statistics(self) -> list[str]:
        return ["percent", "kappa", "alpha", "ac1"] if len(self.coders) == 2 else ["percent", "alpha", "ac1"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "measure": "segment level: each (segment, code) a yes/no decision",
            "codebook": self.codebook,
            "coders": [{"name": c, "kind": self.coder_kinds[c]} for c in self.coders],
            "n_units": self.n_units,
            "statistics": self.statistics,
            "bootstrap": {"replicates": self.n_boot, "seed": self.seed, "interval": 0.95},
            "overall": self.overall.as_dict() if self.overall else None,
            "per_code": [
                {"code_id": c.code_id, "applied": c.applied, **c.stats.as_dict()} for c in self.per_code
            ],
        }

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per code and one for ``overall``: for a table or CSV."""
        found = [_row(c.code_id, c.stats, c.applied) for c in self.per_code]
        if self.overall is not None:
            found.append(_row("overall", self.overall, {}))
        return found

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rows())


def _row(code_id: str, stats: AgreementStats, applied: dict[str, int]) -> dict[str, Any]:
    row: dict[str, Any] = {"code": code_id, "n_units": stats.n_units}
    row.update({f"applied_{coder}": count for coder, count in applied.items()})
    for name in ("percent", "kappa", "alpha", "ac1"):
        estimate = getattr(stats, name)
        if estimate is not None:
            row.update({name: estimate.value, f"{name}_low": estimate.low, f"{name}_high": estimate.high})
    return row


def _scope_codes(connection: Connection, codebook: str, codes: Sequence[str] | None) -> list[str]:
    known = [code.id for code in current_codes(connection, codebook)]
    if not codes:
        return known
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise AgreementError(
            f"codebook '{codebook}' has no live code {', '.join(map(repr, unknown))}.",
            fix="check the code ids (narratives codebook show lists them).",
        )
    return list(codes)


def common_segments(labels: dict[str, CoderLabels]) -> list[int]:
    """Segments every coder saw, in id order."""
    sets = [coder.seen for coder in labels.values()]
    return sorted(set.intersection(*sets)) if sets else []


def coder_agreement(
    connection: Connection,
    codebook: str,
    coders: Sequence[str] | None = None,
    *,
    codes: Sequence[str] | None = None,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = 0,
) -> AgreementReport:
    """Agreement between ``coders`` (default: every reviewer) per code and overall."""
    names = list(coders) if coders else reviewers_of(connection, codebook)
    if len(set(names)) < 2:
        raise AgreementError(
            f"agreement needs two coders or more; codebook '{codebook}' gives {names or 'none'}.",
            fix="name them with --coders (a reviewer, 'machine' or a suggestion coder such as 'ensemble').",
        )
    labels = coder_labels(connection, codebook, names)
    units = common_segments(labels)
    if not units:
        raise AgreementError(
            f"no segment was seen by every one of {', '.join(names)}.",
            fix="double-code some segments (each coder reviews the same ones), or compare other coders.",
        )
    code_ids = _scope_codes(connection, codebook, codes)
    ratings = {code: _ratings(labels, names, units, code) for code in code_ids}
    used = {code: r for code, r in ratings.items() if r.any()}
    unused = {code: r for code, r in ratings.items() if code not in used}
    per_code_stats, overall = agreement_by_code(used, n_boot=n_boot, seed=seed)
    per_code_stats.update(agreement_by_code(unused, n_boot=n_boot, seed=seed)[0])
    per_code = [
        CodeAgreement(
            code, {n: int(ratings[code][i].sum()) for i, n in enumerate(names)}, per_code_stats[code]
        )
        for code in code_ids
    ]
    kinds = {name: labels[name].kind for name in names}
    return AgreementReport(codebook, names, kinds, len(units), per_code, overall, n_boot, seed, units)


def _ratings(
    labels: dict[str, CoderLabels], names: Sequence[str], units: Sequence[int], code: str
) -> np.ndarray:
    return np.array([[(u, code) in labels[n].applied for u in units] for n in names], dtype=float)


# ------------------------------------------------------------------------------- disagreements


@dataclass(frozen=True)
class Disagreement:
    """One (segment, code) the coders decided differently, with what each said and any adjudication."""

    segment_id: int
    document_id: int
    text: str
    code_id: str
    applies: dict[str, bool]
    memos: dict[str, str]
    adjudication: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "segment_id": self.segment_id,
            "document_id": self.document_id,
            "text": self.text,
            "code_id": self.code_id,
            "applies": self.applies,
            "memos": self.memos,
            "adjudication": self.adjudication,
        }


def disagreements(
    connection: Connection,
    codebook: str,
    coders: Sequence[str],
    *,
    codes: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[Disagreement]:
    """Every (segment, code) on the common segments where the coders differ, by segment then code."""
    names = list(coders)
    labels = coder_labels(connection, codebook, names)
    units, code_ids = common_segments(labels), set(_scope_codes(connection, codebook, codes))
    settled = adjudications(connection, codebook)
    differing: list[Pair] = []
    for segment_id in units:
        for code in sorted(code_ids):
            if len({(segment_id, code) in labels[n].applied for n in names}) > 1:
                differing.append((segment_id, code))
    differing = differing[:limit] if limit is not None else differing
    texts = {int(s.id or 0): s for s in load_segments(connection, ids=sorted({p[0] for p in differing}))}
    return [
        Disagreement(
            segment_id,
            texts[segment_id].document_id,
            texts[segment_id].text,
            code,
            {n: (segment_id, code) in labels[n].applied for n in names},
            {n: labels[n].memos[(segment_id, code)] for n in names if (segment_id, code) in labels[n].memos},
            settled.get((segment_id, code)),
        )
        for segment_id, code in differing
        if segment_id in texts
    ]
