"""Which codes are found together: in the same segment, the same document, or from the same participant.

:func:`code_cooccurrence` counts, for every pair of active codes, the units (segments, documents or
participants) that carry both now, as :func:`~narratives.analysis.coded.carried_codes` says: a
parent theme carries what its sub-codes carry, so two parent themes can be found together. A code
and its own ancestor are not paired (a sub-code always comes with its parent). ``carried=False``
counts only the codes applied themselves (as a QDA program's code co-occurrence table does).

``people`` is how many distinct participants the units with both codes come from (a text without a
participant counts as one person, as in the crosstabs), so a small cell can be suppressed by people;
``jaccard`` is the units with both over the units with either.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Literal

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from narratives.analysis.coded import (
    CodeHierarchy,
    Threshold,
    carried_codes,
    code_hierarchy,
    codebook_name,
    coded_segments,
    coded_with_documents,
    document_table,
)
from narratives.errors import AnalysisError
from narratives.schema import Codebook

Level = Literal["segment", "document", "participant"]
LEVELS: tuple[Level, ...] = ("segment", "document", "participant")
UNIT_OF_LEVEL = {"segment": "segment_id", "document": "document_id", "participant": "person"}
COOCCURRENCE_COLUMNS = [
    "code_a",
    "name_a",
    "code_b",
    "name_b",
    "units_a",
    "units_b",
    "both",
    "people",
    "jaccard",
]


def code_cooccurrence(
    connection: Connection,
    codebook: str | Codebook,
    *,
    level: Level = "segment",
    carried: bool = True,
    include_machine: bool = True,
    threshold: Threshold = None,
    kinds: Iterable[str] | None = None,
) -> pd.DataFrame:
    """One row per pair of active codes (``code_a`` before ``code_b`` in the codebook's tree order),
    pairs found nowhere included: :data:`COOCCURRENCE_COLUMNS` (see the module docstring)."""
    if level not in LEVELS:
        raise AnalysisError(f"cannot pair codes by '{level}'.", fix="use segment, document or participant.")
    name = codebook_name(codebook)
    hierarchy = code_hierarchy(connection, name)
    find = carried_codes if carried else coded_segments
    coded = coded_with_documents(
        find(connection, name, include_machine=include_machine, threshold=threshold),
        document_table(connection, kinds=kinds),
    )
    codes = [code.id for code in hierarchy.codes]
    unit = UNIT_OF_LEVEL[level]
    columns = list(dict.fromkeys([unit, "person", "code_id"]))
    present = coded[coded["code_id"].isin(codes)][columns].drop_duplicates()
    units = pd.Index(present[unit].unique())
    matrix = np.zeros((len(units), len(codes)), dtype=bool)
    matrix[units.get_indexer(present[unit]), pd.Index(codes).get_indexer(present["code_id"])] = True
    rows = _pair_rows(matrix, codes, hierarchy, _people_of(present, unit, units), skip_ancestors=carried)
    return pd.DataFrame(rows, columns=COOCCURRENCE_COLUMNS)


def _pair_rows(
    matrix: np.ndarray,
    codes: list[str],
    hierarchy: CodeHierarchy,
    person_of: np.ndarray,
    *,
    skip_ancestors: bool,
) -> list[tuple[object, ...]]:
    """A :data:`COOCCURRENCE_COLUMNS` row per pair of columns of ``matrix`` (units x codes)."""
    rows: list[tuple[object, ...]] = []
    for i, j in itertools.combinations(range(len(codes)), 2):
        a, b = codes[i], codes[j]
        if skip_ancestors and (a in hierarchy.ancestors.get(b, ()) or b in hierarchy.ancestors.get(a, ())):
            continue
        with_both = matrix[:, i] & matrix[:, j]
        either = int((matrix[:, i] | matrix[:, j]).sum())
        both = int(with_both.sum())
        rows.append(
            (
                a,
                hierarchy.name(a),
                b,
                hierarchy.name(b),
                int(matrix[:, i].sum()),
                int(matrix[:, j].sum()),
                both,
                len(set(person_of[with_both])),
                both / either if either else 0.0,
            )
        )
    return rows


def _people_of(present: pd.DataFrame, unit: str, units: pd.Index) -> np.ndarray:
    """The participant (``person``) of each unit, in the order of ``units``."""
    if unit == "person":
        return units.to_numpy()
    return present.drop_duplicates(unit).set_index(unit)["person"].reindex(units).to_numpy()
