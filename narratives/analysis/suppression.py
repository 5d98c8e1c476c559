"""Secondary suppression: a parent theme's cell must not give back a sub-code's suppressed cell.

A parent theme counts the people any of its sub-codes (or itself) reaches, so in one group its count
is at most the sum of its sub-codes' counts. Shown beside them, it bounds a suppressed sub-code
from below: a parent of 10 people, a sub-code of 6 shown and the other ``"<5"`` says the other has
at least 4, so exactly 4. Whenever a shown parent cell, less its shown sub-codes' cells, says more
about its suppressed sub-code cells than that each is at least 1, a second cell is hidden: the
smallest shown sub-code cell under it (a hidden cell has no upper bound, so the parent then bounds
nothing), or, with none, the parent's cell itself. The check runs again until nothing narrows.

It assumes the worst case, that the parent is never applied directly; counts of segments are not
checked (a segment count does not say how many people are behind it).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

HIDDEN_LABEL = "hidden"


def hidden_by_parents(cells: pd.DataFrame, *, group: str, count: str, suppressed: pd.Series) -> pd.Series:
    """True for each cell of ``cells`` (columns ``code_id``, ``parent``, ``group`` and ``count``)
    to hide besides the ``suppressed`` ones, so that no parent's cell bounds them (module docstring)."""
    hidden = pd.Series(False, index=cells.index)
    if "parent" not in cells.columns or cells.empty:
        return hidden
    for _, rows in cells.groupby(group, sort=False):
        parent = {
            str(c): (None if pd.isna(p) else str(p))
            for c, p in zip(rows["code_id"], rows["parent"], strict=True)
        }
        counts = {str(c): int(n) for c, n in zip(rows["code_id"], rows[count].fillna(0), strict=True)}
        primary = {str(c) for c, s in zip(rows["code_id"], suppressed.loc[rows.index], strict=True) if s}
        chosen = hidden_in_group(parent, counts, primary)
        hidden.loc[rows.index[rows["code_id"].astype(str).isin(chosen)]] = True
    return hidden


def hidden_in_group(
    parent: Mapping[str, str | None], counts: Mapping[str, int], primary: set[str]
) -> set[str]:
    """The codes whose cell in one group to hide as well: ``parent`` the nearest active parent of
    each code, ``counts`` the people per code, ``primary`` the codes already suppressed."""
    children: dict[str, list[str]] = {}
    for code, above in parent.items():
        if above is not None and above in parent:
            children.setdefault(above, []).append(code)
    hidden: set[str] = set()
    changed = True
    while changed:
        changed = False
        for code in children:
            if code in primary or code in hidden:
                continue
            shown, bounded, unbounded = _frontier(code, children, primary, hidden)
            left_over = counts[code] - sum(counts[c] for c in shown)
            if bounded and not unbounded and left_over > len(bounded):
                hidden.add(min(shown, key=lambda c: (counts[c], c)) if shown else code)
                changed = True
    return hidden


def _frontier(
    code: str, children: Mapping[str, list[str]], primary: set[str], hidden: set[str]
) -> tuple[list[str], list[str], bool]:
    """Below ``code``: the shown cells its count is compared with, the suppressed cells it would
    bound, and whether a hidden cell without sub-codes (no upper bound) is among them. A hidden
    sub-code with sub-codes of its own is at most their sum: its sub-codes stand in for it."""
    shown: list[str] = []
    bounded: list[str] = []
    unbounded = False
    stack = list(children[code])
    while stack:
        below = stack.pop()
        if below in primary:
            bounded.append(below)
        elif below in hidden and below in children:
            stack.extend(children[below])
        elif below in hidden:
            unbounded = True
        else:
            shown.append(below)
    return shown, bounded, unbounded
