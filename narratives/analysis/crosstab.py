"""Themes by participant or document attribute, and across the waves of a longitudinal study.

Counts come from :func:`~narratives.analysis.coded.carried_codes`, so they agree with every other
figure and export, and a parent theme counts every unit any of its sub-codes (or itself) reaches,
each unit once. Every table has a row per active code in tree order (parents before their
sub-codes) with its ``level`` (0 for a top-level theme), ``parent`` and ``has_subcodes``. Each row shows its group's size, and groups smaller than ``min_group`` are flagged:
three people mentioning something in a group of four is not a finding about that group.

Per code, the groups are compared with a chi-square test of independence when every expected count is
at least 5, else Fisher's exact test (exact for two groups; Monte Carlo with a fixed seed for more).
P-values are adjusted across codes with Benjamini–Hochberg. Units whose attribute is not recorded are
counted in a ``(not recorded)`` group and left out of the test.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from narratives.analysis.coded import (
    HIERARCHY_COLUMNS,
    CodeHierarchy,
    Threshold,
    carried_codes,
    code_hierarchy,
    codebook_name,
    coded_with_documents,
    document_table,
)
from narratives.errors import AnalysisError
from narratives.schema import Codebook
from narratives.store.coding_runs import last_coded_unit
from narratives.store.segments import segment_spans

UnitOfCount = Literal["participants", "segments", "documents"]
NOT_RECORDED = "(not recorded)"
MIN_GROUP = 5
UNIT_KEYS = {"participants": "person", "documents": "document_id", "segments": "segment_id"}
NOT_GROUPABLE = {"document_id", "title", "path", "participant", "person", "date"}
ATTRIBUTE_COLUMNS = [
    *HIERARCHY_COLUMNS,
    "group",
    "group_size",
    "count",
    "share",
    "small_group",
    "test",
    "statistic",
    "p_value",
    "p_adjusted",
]


def grouping_attributes(docs: pd.DataFrame) -> list[str]:
    """What a crosstab can group by: source kind, wave, question and every attribute key."""
    return [c for c in docs.columns if c not in NOT_GROUPABLE]


def _group_label(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return NOT_RECORDED
    return str(value)


def most_common(values: pd.Series) -> str:
    """The most frequent value (as text); ties go to the first in sorted order."""
    counts = values.astype(str).value_counts()
    return str(min(counts.index, key=lambda v: (-counts[v], v)))


def most_common_by(frame: pd.DataFrame, key: str, column: str) -> pd.Series:
    """Per ``key``, :func:`most_common` of its ``column`` values (blanks left out), in one grouped
    pass rather than one call per key."""
    values = frame[[key, column]].dropna(subset=[column])
    tally = values.assign(value=values[column].astype(str)).groupby([key, "value"]).size()
    ranked = tally.rename("n").reset_index().sort_values([key, "n", "value"], ascending=[True, False, True])
    return ranked.drop_duplicates(key).set_index(key)["value"]


def _units(
    connection: Connection,
    codebook: str,
    docs: pd.DataFrame,
    unit_of_count: str,
    attribute: str,
    coded: pd.DataFrame,
) -> pd.DataFrame:
    """Every unit counted (coded or not) with its group: columns ``unit``, ``group``."""
    if unit_of_count == "documents":
        return pd.DataFrame({"unit": docs["document_id"], "group": docs[attribute].map(_group_label)})
    if unit_of_count == "participants":
        first = most_common_by(docs, "person", attribute)
        people = pd.Series(docs["person"].unique())
        return pd.DataFrame({"unit": people, "group": people.map(first).map(_group_label)})
    counted = set(docs["document_id"].tolist())
    spans = segment_spans(connection, unit=last_coded_unit(connection, codebook))
    rows = pd.DataFrame(
        [(segment_id, span.document_id) for segment_id, span in spans.items() if span.document_id in counted],
        columns=["unit", "document_id"],
    )
    extra = coded[~coded["segment_id"].isin(rows["unit"])][["segment_id", "document_id"]]
    rows = pd.concat([rows, extra.rename(columns={"segment_id": "unit"})]).drop_duplicates("unit")
    groups = docs.set_index("document_id")[attribute].map(_group_label)
    return pd.DataFrame({"unit": rows["unit"], "group": rows["document_id"].map(groups)})


def group_test(table: np.ndarray) -> tuple[str, float, float]:
    """(test name, statistic, p-value) for a groups × (with, without) table of counts."""
    from scipy import stats  # here, not at the top: a page that shows no p-values never loads it

    table = table[table.sum(axis=1) > 0]
    if table.shape[0] < 2 or (table.sum(axis=0) == 0).any():
        return "none", float("nan"), float("nan")
    expected = stats.contingency.expected_freq(table)
    if (expected >= 5).all():
        result = stats.chi2_contingency(table)
        return "chi-square", float(result.statistic), float(result.pvalue)
    if table.shape == (2, 2):
        result = stats.fisher_exact(table)
        return "fisher", float(result.statistic), float(result.pvalue)
    method = stats.MonteCarloMethod(n_resamples=9999, rng=np.random.default_rng(0))
    result = stats.fisher_exact(table, method=method)
    return "fisher (monte carlo)", _scalar(result.statistic), _scalar(result.pvalue)


def _scalar(value: object) -> float:
    return float(np.asarray(value, dtype=float).ravel()[0])


def adjust_bh(p_values: Iterable[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values; NaN (no test) stays NaN and is not counted."""
    values = np.asarray(list(p_values), dtype=float)
    adjusted = np.full(values.shape, np.nan)
    tested = ~np.isnan(values)
    if tested.any():
        from scipy import stats

        adjusted[tested] = stats.false_discovery_control(values[tested], method="bh")
    return adjusted.tolist()


def themes_by_attribute(
    connection: Connection,
    codebook: str | Codebook,
    attribute: str,
    *,
    unit_of_count: UnitOfCount = "participants",
    kinds: Iterable[str] | None = None,
    include_machine: bool = True,
    threshold: Threshold = None,
    min_group: int = MIN_GROUP,
    with_tests: bool = True,
) -> pd.DataFrame:
    """One row per (code, group): :data:`ATTRIBUTE_COLUMNS`; the test columns repeat per code.

    ``count`` is how many units of the group carry the code (participants, documents or segments),
    ``share`` is ``count / group_size``. ``kinds`` keeps some source kinds (``["survey"]``).
    ``with_tests=False`` leaves the tests out (``test`` is ``"not run"``, the figures NaN), for
    callers that show only the counts.
    """
    if unit_of_count not in UNIT_KEYS:
        raise AnalysisError(
            f"cannot count by '{unit_of_count}'.", fix="use participants, segments or documents."
        )
    name = codebook_name(codebook)
    docs = document_table(connection, kinds=kinds)
    if attribute not in grouping_attributes(docs):
        known = ", ".join(grouping_attributes(docs)) or "none"
        raise AnalysisError(f"no attribute '{attribute}' in the project.", fix=f"use one of: {known}.")
    coded = coded_with_documents(
        carried_codes(connection, name, include_machine=include_machine, threshold=threshold), docs
    )
    units = _units(connection, name, docs, unit_of_count, attribute, coded)
    sizes = units.groupby("group")["unit"].nunique()
    coded["unit"] = coded[UNIT_KEYS[unit_of_count]]
    with_code = coded.groupby(["code_id"])["unit"].unique()
    group_of = units.drop_duplicates("unit").set_index("unit")["group"]
    rows = []
    hierarchy = code_hierarchy(connection, name)
    for code in hierarchy.codes:
        present = group_of.reindex(with_code.get(code.id, [])).value_counts()
        rows.append(_code_rows(code.id, code.name, sizes, present, min_group, with_tests))
    frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=ATTRIBUTE_COLUMNS)
    return _with_adjusted(with_hierarchy(frame, hierarchy))


def with_hierarchy(frame: pd.DataFrame, hierarchy: CodeHierarchy) -> pd.DataFrame:
    """``frame`` (a ``code_id`` column) with :data:`HIERARCHY_COLUMNS` in front, its rows in tree
    order (a stable sort, so rows of one code keep their order)."""
    codes = hierarchy.frame()
    place = {code_id: i for i, code_id in enumerate(codes["code_id"])}
    rest = [c for c in frame.columns if c not in HIERARCHY_COLUMNS]
    joined = frame[["code_id", *rest]].merge(codes, on="code_id", how="left")
    joined["parent"] = joined["parent"].astype(object).where(joined["parent"].notna(), None)
    position = joined["code_id"].map(place).fillna(len(place))
    joined = joined.iloc[position.to_numpy().argsort(kind="stable")].reset_index(drop=True)
    return joined.reindex(columns=[*HIERARCHY_COLUMNS, *rest])


def _code_rows(
    code_id: str, code_name: str, sizes: pd.Series, present: pd.Series, min_group: int, with_tests: bool
) -> pd.DataFrame:
    groups = sorted(sizes.index, key=lambda g: (g == NOT_RECORDED, g))
    counts = np.array([int(present.get(g, 0)) for g in groups])
    totals = np.array([int(sizes[g]) for g in groups])
    tested = np.array([g != NOT_RECORDED for g in groups])
    table = np.column_stack([counts[tested], totals[tested] - counts[tested]])
    test, statistic, p_value = group_test(table) if with_tests else ("not run", float("nan"), float("nan"))
    return pd.DataFrame(
        {
            "code_id": code_id,
            "code_name": code_name,
            "group": groups,
            "group_size": totals,
            "count": counts,
            "share": np.divide(counts, totals, out=np.zeros(len(totals)), where=totals > 0),
            "small_group": totals < min_group,
            "test": test,
            "statistic": statistic,
            "p_value": p_value,
        }
    )


def _with_adjusted(frame: pd.DataFrame) -> pd.DataFrame:
    per_code = frame.drop_duplicates("code_id")[["code_id", "p_value"]]
    adjusted = dict(zip(per_code["code_id"], adjust_bh(per_code["p_value"]), strict=True))
    frame["p_adjusted"] = frame["code_id"].map(adjusted).astype(float)
    return frame.reindex(columns=ATTRIBUTE_COLUMNS)


@dataclass
class WaveTables:
    """Themes across waves, counted by distinct participants.

    ``counts``: code, wave, participants with the code, participants in the wave, share, small group.
    ``trajectories``: per (participant, code) the waves it was mentioned in, of the waves the
    participant took part in, and a pattern: every wave, appears, disappears, intermittent, one wave.
    ``changes``: per code and consecutive pair of waves, among participants in both: persisted,
    appeared (absent before, present after), disappeared.
    """

    counts: pd.DataFrame
    trajectories: pd.DataFrame
    changes: pd.DataFrame


def themes_by_wave(
    connection: Connection,
    codebook: str | Codebook,
    *,
    kinds: Iterable[str] | None = None,
    include_machine: bool = True,
    threshold: Threshold = None,
    min_group: int = MIN_GROUP,
) -> WaveTables:
    """Counts per wave and each participant's trajectory (documents with a wave and a participant)."""
    name = codebook_name(codebook)
    docs = document_table(connection, kinds=kinds)
    docs = docs[docs["wave"].notna() & docs["participant"].notna()]
    coded = coded_with_documents(
        carried_codes(connection, name, include_machine=include_machine, threshold=threshold), docs
    )
    present = coded[["participant", "code_id", "wave"]].drop_duplicates()
    taking_part = docs.groupby("participant")["wave"].agg(lambda w: sorted({int(x) for x in w}))
    hierarchy = code_hierarchy(connection, name)
    names = {code.id: code.name or code.id for code in hierarchy.codes}
    trajectories = with_hierarchy(_trajectories(present, taking_part, names), hierarchy)
    return WaveTables(
        counts=with_hierarchy(_wave_counts(docs, present, names, min_group), hierarchy),
        trajectories=trajectories.sort_values("participant", kind="stable", ignore_index=True),
        changes=with_hierarchy(_changes(present, taking_part, names), hierarchy),
    )


def _wave_counts(
    docs: pd.DataFrame, present: pd.DataFrame, names: dict[str, str], min_group: int
) -> pd.DataFrame:
    in_wave = docs.groupby("wave")["participant"].nunique()
    found = present.groupby(["code_id", "wave"])["participant"].nunique()
    rows = [
        (code_id, code_name, int(wave), int(found.get((code_id, wave), 0)), int(size))
        for code_id, code_name in names.items()
        for wave, size in in_wave.items()
    ]
    frame = pd.DataFrame(rows, columns=["code_id", "code_name", "wave", "participants", "wave_participants"])
    frame["share"] = frame["participants"] / frame["wave_participants"].where(frame["wave_participants"] > 0)
    frame["small_group"] = frame["wave_participants"] < min_group
    return frame


def wave_pattern(code_waves: list[int], own_waves: list[int]) -> str:
    """How a code runs through one participant's waves."""
    if len(own_waves) < 2:
        return "one wave"
    if code_waves == own_waves:
        return "every wave"
    start, stop = own_waves.index(code_waves[0]), own_waves.index(code_waves[-1])
    contiguous = code_waves == own_waves[start : stop + 1]
    if contiguous and stop == len(own_waves) - 1:
        return "appears"
    if contiguous and start == 0:
        return "disappears"
    return "intermittent"


def _trajectories(present: pd.DataFrame, taking_part: pd.Series, names: dict[str, str]) -> pd.DataFrame:
    rows = []
    for (person, code_id), group in present.groupby(["participant", "code_id"]):
        code_waves = sorted(int(w) for w in group["wave"])
        own = taking_part[person]
        rows.append(
            (
                person,
                code_id,
                names.get(code_id, code_id),
                ", ".join(map(str, code_waves)),
                ", ".join(map(str, own)),
                code_waves[0],
                code_waves[-1],
                wave_pattern(code_waves, own),
            )
        )
    columns = [
        "participant",
        "code_id",
        "code_name",
        "waves",
        "participant_waves",
        "first_wave",
        "last_wave",
        "pattern",
    ]
    return pd.DataFrame(rows, columns=columns).sort_values(["participant", "code_id"], ignore_index=True)


def _changes(present: pd.DataFrame, taking_part: pd.Series, names: dict[str, str]) -> pd.DataFrame:
    waves = sorted({w for own in taking_part for w in own})
    mentioned = {(p, c, int(w)) for p, c, w in present.itertuples(index=False)}
    rows = []
    for before, after in itertools.pairwise(waves):
        both = [p for p, own in taking_part.items() if before in own and after in own]
        for code_id, code_name in names.items():
            was = {p for p in both if (p, code_id, before) in mentioned}
            now = {p for p in both if (p, code_id, after) in mentioned}
            rows.append(
                (code_id, code_name, before, after, len(both), len(was & now), len(now - was), len(was - now))
            )
    columns = [
        "code_id",
        "code_name",
        "from_wave",
        "to_wave",
        "participants_in_both",
        "persisted",
        "appeared",
        "disappeared",
    ]
    return pd.DataFrame(rows, columns=columns)
