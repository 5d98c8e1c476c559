"""The Analysis page's derived tables, cached per project state (``st.cache_data`` keyed on the
project path and :func:`~narratives.ui.common.data_version`, so any write invalidates them).

Each function opens a connection, calls the library and returns plain tables or values; nothing
is computed here that the library does not compute for the CLI and the reports too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from narratives.ui import common

if TYPE_CHECKING:
    from narratives.analysis.cooccurrence import Level
    from narratives.analysis.crosstab import UnitOfCount
    from narratives.analysis.machine_agreement import MachineAgreement


@st.cache_data(show_spinner=False)
def attributes_of(path: str, version: str) -> list[str]:
    """What the heatmap can group by: source kind, wave, question and every attribute key."""
    from narratives.analysis.coded import document_table
    from narratives.analysis.crosstab import grouping_attributes

    with common.project_by_path(path).connect() as connection:
        return grouping_attributes(document_table(connection))


@st.cache_data(show_spinner="Counting themes by group…")
def heatmap_frame(
    path: str, version: str, codebook: str, attribute: str, unit: UnitOfCount, machine: bool
) -> pd.DataFrame:
    """:func:`themes_by_attribute` counted by ``unit``, with the people behind each cell (no tests:
    the page shows no p-values, and scipy is not loaded for them)."""
    from narratives.analysis.charts import with_people
    from narratives.analysis.crosstab import themes_by_attribute

    with common.project_by_path(path).connect() as connection:
        people = themes_by_attribute(
            connection, codebook, attribute, include_machine=machine, with_tests=False
        )
        if unit == "participants":
            return people
        frame = themes_by_attribute(
            connection, codebook, attribute, unit_of_count=unit, include_machine=machine, with_tests=False
        )
    return with_people(frame, people)


@dataclass(frozen=True)
class Waves:
    counts: pd.DataFrame
    trajectories: pd.DataFrame
    changes: pd.DataFrame
    patterns: pd.DataFrame


@st.cache_data(show_spinner="Following themes across waves…")
def waves_of(path: str, version: str, codebook: str, machine: bool) -> Waves | None:
    """Themes by wave and each participant's trajectory; None when no document has a wave."""
    from narratives.analysis.crosstab import themes_by_wave

    with common.project_by_path(path).connect() as connection:
        tables = themes_by_wave(connection, codebook, include_machine=machine)
    if tables.counts.empty:
        return None
    return Waves(tables.counts, tables.trajectories, tables.changes, pattern_table(tables.trajectories))


def pattern_table(trajectories: pd.DataFrame) -> pd.DataFrame:
    """Per theme, how many participants' mentions of it run each way (every wave, appears, ...)."""
    if trajectories.empty:
        return pd.DataFrame(columns=["Theme"])
    table = pd.crosstab(trajectories["code_name"], trajectories["pattern"])
    order = [p for p in ("every wave", "appears", "disappears", "intermittent", "one wave") if p in table]
    names = list(dict.fromkeys(trajectories["code_name"]))
    return table.reindex(index=names, columns=order).rename_axis(index="Theme", columns=None).reset_index()


@st.cache_data(show_spinner="Pairing codes…")
def cooccurrence_of(path: str, version: str, codebook: str, level: Level, machine: bool) -> pd.DataFrame:
    from narratives.analysis.cooccurrence import code_cooccurrence

    with common.project_by_path(path).connect() as connection:
        return code_cooccurrence(connection, codebook, level=level, include_machine=machine)


@st.cache_data(show_spinner="Counting themes by sentiment…")
def sentiment_of(path: str, version: str, codebook: str, machine: bool) -> pd.DataFrame:
    from narratives.analysis.sentiment import themes_by_sentiment

    with common.project_by_path(path).connect() as connection:
        return themes_by_sentiment(connection, codebook, include_machine=machine)


@st.cache_data(show_spinner=False)
def themes_of(path: str, version: str, codebook: str) -> dict[str, str]:
    """Active code id -> name, in the codebook's tree order."""
    from narratives.analysis.coded import code_hierarchy

    with common.project_by_path(path).connect() as connection:
        hierarchy = code_hierarchy(connection, codebook)
    return {code.id: code.name or code.id for code in hierarchy.codes}


@dataclass(frozen=True)
class ShownQuote:
    text: str  # de-identified
    attribution: str
    groups: dict[str, str]
    source: str
    warnings: tuple[str, ...]


@st.cache_data(show_spinner="Choosing and de-identifying quotes…")
def quotes_of(
    path: str, version: str, codebook: str, code_id: str, n: int, balance_by: tuple[str, ...], machine: bool
) -> list[ShownQuote]:
    """Balanced quotes for one theme, de-identified with the project's settings, each with the
    groups it comes from and any small group its speaker is in."""
    from narratives.analysis.quotes import exemplar_quotes
    from narratives.analysis.small_groups import small_group_warnings
    from narratives.deidentify.project import settings_from_connection, texts_redactor

    project = common.project_by_path(path)
    with project.connect() as connection:
        chosen = exemplar_quotes(
            connection, codebook, code_id, n=n, balance_by=balance_by, include_machine=machine
        )
        redact_all = texts_redactor(connection, settings_from_connection(connection, folder=project.path))
        texts = redact_all([q.text for q in chosen])
        small = small_group_warnings(connection, chosen, balance_by, shown=("kind", "wave"))
    return [
        ShownQuote(
            text=text,
            attribution=quote.attribution,
            groups={k: str(quote.attributes[k]) for k in balance_by if k in quote.attributes},
            source=quote.source,
            warnings=tuple(g.message for g in small.get(quote.document_id, [])),
        )
        for quote, text in zip(chosen, texts, strict=True)
    ]


@st.cache_data(show_spinner="Comparing the machine with reviewers (retraining on each fold)…")
def machine_agreement_of(
    path: str, version: str, codebook: str, target: float
) -> tuple[MachineAgreement | None, str]:
    """The machine/reviewer agreement figures on out-of-fold predictions, or why there are none
    (kept in the cache too, so a project with too few reviews is not retried on every rerun)."""
    from narratives.analysis.machine_agreement import machine_agreement
    from narratives.errors import NarrativesError
    from narratives.store.coding_runs import last_model

    project = common.project_by_path(path)
    with project.connect() as connection:
        model = last_model(connection, codebook)
    try:
        return machine_agreement(project, codebook, embedder=common.embedder(model), target=target), ""
    except NarrativesError as error:
        return None, str(error)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")
