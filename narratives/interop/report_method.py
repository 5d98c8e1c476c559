"""The report's method summary and its limitations paragraph, drawn from the project's data.

:func:`method_summary` says which models and versions coded the text (from the coding runs'
provenance), which codebook version, how many segments carry a theme and how many of those a person
reviewed, by how many reviewers, and the agreement figures with their intervals where they can be
computed. :func:`limitations` turns what the data lacks into sentences: small groups whose counts
are suppressed, codes too few reviews make reliable, the share of coded segments nobody reviewed,
participants missing from waves, attributes not recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from narratives.analysis.crosstab import MIN_GROUP, NOT_RECORDED
from narratives.review.state import latest_by_reviewer, reviewed_counts
from narratives.schema import Codebook
from narratives.store.codebooks import codebook_content_hash
from narratives.store.coding_runs import coding_runs_of

RELIABLE_REVIEWS = 30  # reviewed segments a code needs before its figures are called reliable


@dataclass
class AgreementFigure:
    """One agreement figure: who against whom, on how many items, the statistic and its interval."""

    coders: str
    statistic: str
    value: float
    items: int
    low: float | None = None
    high: float | None = None
    code: str = "all codes"


@dataclass
class MethodSummary:
    codebook: str
    codebook_version: str
    codebook_hash: str
    models: list[str]  # embedding model names
    coders: list[str]  # "ensemble 2 (similarity 1, learned 1)"
    coding_runs: int
    unit: str | None
    coded_segments: int  # distinct segments carrying any theme
    reviewed_segments: int  # distinct segments a person reviewed for this codebook
    reviewers: int
    reviews_by_code: dict[str, int] = field(default_factory=dict)
    agreement: list[AgreementFigure] = field(default_factory=list)
    agreement_note: str = ""
    include_machine: bool = True

    @property
    def unreliable_codes(self) -> list[str]:
        """Codes with fewer than :data:`RELIABLE_REVIEWS` reviewed segments (names or ids)."""
        return [code for code, n in self.reviews_by_code.items() if n < RELIABLE_REVIEWS]


def method_summary(
    connection: Connection, book: Codebook, coded: pd.DataFrame, *, include_machine: bool = True
) -> MethodSummary:
    """Every figure of the method section (see the module docstring); ``coded`` is the report's
    :func:`narratives.analysis.coded.coded_segments` rows (the codes applied, not their parents)."""
    runs = [r for r in coding_runs_of(connection, book.name) if r.finished is not None]
    latest = runs[-1] if runs else None
    votes = latest_by_reviewer(connection, book.name)
    counts = reviewed_counts(connection, book.name)
    agreement, note = agreement_figures(connection, book.name)
    return MethodSummary(
        codebook=book.title or book.name,
        codebook_version=book.version,
        codebook_hash=codebook_content_hash(book),
        models=sorted({r.model for r in runs if r.model}),
        coders=[] if latest is None else coder_names(latest.config),
        coding_runs=len(runs),
        unit=None if latest is None else latest.unit,
        coded_segments=int(coded["segment_id"].nunique()),
        reviewed_segments=len({segment for segment, _ in votes}),
        reviewers=len({user for by_user in votes.values() for user in by_user}),
        reviews_by_code={c.name: counts.get(c.id, 0) for c in book.active_codes},
        agreement=agreement,
        agreement_note=note,
        include_machine=include_machine,
    )


def coder_names(config: dict[str, Any]) -> list[str]:
    """The coders a run's config names, with their versions: the ensemble and what it combines."""
    found = [
        f"{c.get('coder')} {c.get('version', '')}".strip()
        for c in config.get("coders", [])
        if isinstance(c, dict) and c.get("coder")
    ]
    ensemble = config.get("ensemble")
    if isinstance(ensemble, dict):
        weights = ensemble.get("weights") or {}
        mix = ", ".join(f"{name} {weight:g}" for name, weight in weights.items())
        found.append(f"ensemble {ensemble.get('version', '')} ({mix})".replace(" ()", ""))
    return found


STATISTIC_NAMES = {
    "percent": "percent agreement",
    "kappa": "Cohen's kappa",
    "alpha": "Krippendorff's alpha",
    "ac1": "Gwet's AC1",
}


def agreement_figures(connection: Connection, codebook: str) -> tuple[list[AgreementFigure], str]:
    """The machine against each reviewer and each pair of reviewers, over the segments both saw:
    percent agreement, Cohen's kappa, Krippendorff's alpha and Gwet's AC1 with bootstrap 95%
    intervals (:func:`narratives.analysis.agreement.coder_agreement`), with a note on their scope."""
    from narratives.analysis.agreement import MACHINE, coder_agreement, reviewers_of
    from narratives.analysis.agreement_stats import DEFAULT_BOOTSTRAP
    from narratives.errors import AgreementError

    reviewers = reviewers_of(connection, codebook)
    figures: list[AgreementFigure] = []
    for pair in [(MACHINE, r) for r in reviewers] + list(combinations(reviewers, 2)):
        try:
            report = coder_agreement(connection, codebook, list(pair), n_boot=DEFAULT_BOOTSTRAP, seed=0)
        except AgreementError:  # no segment both saw
            continue
        if report.overall is None:
            continue
        who = f"{pair[0]} vs {pair[1]}"
        for name, label in STATISTIC_NAMES.items():
            found = getattr(report.overall, name)
            if found is not None:
                figures.append(
                    AgreementFigure(who, label, found.value, report.overall.n_units, found.low, found.high)
                )
    note = (
        "Over the (segment, code) decisions both sides made on the segments both saw, with bootstrap "
        f"95% intervals ({DEFAULT_BOOTSTRAP} replicates of segments, seed 0). The machine's figures are "
        "on reviewed segments it was trained on, so they overstate how it does on new text; "
        "`narratives agreement PROJECT --machine` gives it out of fold."
    )
    return figures, note if figures else "No segment has been reviewed yet, so no agreement can be given."


def limitations(
    method: MethodSummary,
    tables: dict[str, pd.DataFrame],
    waves: pd.DataFrame | None,
    docs: pd.DataFrame,
    coded: pd.DataFrame,
) -> list[str]:
    """Sentences on what the figures cannot say, each drawn from this project's data."""
    found = [
        _unreviewed(method, coded),
        _small_groups(tables),
        _unreliable(method),
        _not_recorded(tables),
        _waves(docs, waves),
    ]
    return [sentence for sentence in found if sentence]


def _unreviewed(method: MethodSummary, coded: pd.DataFrame) -> str:
    if coded.empty:
        return "No segment carries a theme yet, so the report has no findings."
    machine_only = coded.groupby("segment_id")["source"].apply(lambda s: bool((s == "machine").all()))
    share = float(machine_only.mean())
    if not method.include_machine:
        return "Only reviewed codings are counted; machine suggestions nobody reviewed are left out."
    return (
        f"{int(machine_only.sum())} of {len(machine_only)} segments that carry a theme ({share:.0%}) were "
        "coded by the machine only and no person has reviewed them; read their counts as estimates."
    )


def _small_groups(tables: dict[str, pd.DataFrame]) -> str:
    small = set()
    for attribute, table in tables.items():
        rows = table[table["small_group"]].drop_duplicates("group")
        small |= {(attribute, str(g)) for g in rows["group"]}
    if not small:
        return ""
    listed = "; ".join(f"{a} = {g}" for a, g in sorted(small))
    return (
        f"{len(small)} groups have fewer than {MIN_GROUP} people ({listed}): their counts are shown as "
        f"<{MIN_GROUP}, and any count under {MIN_GROUP} is suppressed, so small differences between "
        "groups cannot be read from the tables."
    )


def _unreliable(method: MethodSummary) -> str:
    codes = method.unreliable_codes
    if not codes:
        return ""
    if len(codes) == len(method.reviews_by_code):
        return (
            f"No code has {RELIABLE_REVIEWS} reviewed segments yet, so no code's counts can yet be called "
            "reliable: agreement between the machine and people cannot be estimated for any of them."
        )
    return (
        f"{len(codes)} of {len(method.reviews_by_code)} codes have fewer than {RELIABLE_REVIEWS} reviewed "
        f"segments and are not yet reliable: {', '.join(codes)}."
    )


def _not_recorded(tables: dict[str, pd.DataFrame]) -> str:
    missing = []
    for attribute, table in tables.items():
        rows = table[table["group"] == NOT_RECORDED].drop_duplicates("group")
        if not rows.empty:
            missing.append(f"{attribute} ({int(rows.iloc[0]['group_size'])})")
    if not missing:
        return ""
    return (
        f"Some participants have no value recorded for {', '.join(missing)}; they are counted under "
        f"'{NOT_RECORDED}' and left out of the tests."
    )


def _waves(docs: pd.DataFrame, waves: pd.DataFrame | None) -> str:
    if waves is None:
        return "No document has a wave, so the report cannot say how themes change over time."
    with_wave = docs[docs["wave"].notna() & docs["participant"].notna()]
    all_waves = set(with_wave["wave"].dropna().astype(int))
    taking_part = with_wave.groupby("participant")["wave"].agg(lambda w: set(w.dropna().astype(int)))
    missing = int((taking_part.apply(len) < len(all_waves)).sum())
    no_wave = int(docs["wave"].isna().sum())
    parts = []
    if missing:
        parts.append(
            f"{missing} of {len(taking_part)} participants did not take part in every wave "
            f"({len(all_waves)} waves), so wave shares are of different people"
        )
    if no_wave:
        parts.append(f"{no_wave} documents have no wave and are left out of the wave tables")
    return "; ".join(parts) + "." if parts else ""
