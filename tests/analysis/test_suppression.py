"""Secondary suppression: a parent theme's count, less its sub-codes' shown counts, must not narrow
down a suppressed sub-code (by hand, then through the heatmap and wave cells)."""

from __future__ import annotations

import pandas as pd
import pytest

from narratives.analysis import charts
from narratives.analysis.suppression import hidden_in_group

TREE = {"access": None, "waiting": "access", "paperwork": "access", "family": None}


@pytest.mark.parametrize(
    ("counts", "primary", "hidden"),
    [
        # access 10 = waiting 6 + paperwork (<5) at most: paperwork >= 4, so 4: hide waiting too
        ({"access": 10, "waiting": 6, "paperwork": 4, "family": 2}, {"paperwork", "family"}, {"waiting"}),
        # access 7, waiting 6: paperwork >= 1 says nothing new
        ({"access": 7, "waiting": 6, "paperwork": 3, "family": 9}, {"paperwork"}, set()),
        # waiting's 6 people overlap paperwork's: access 6 bounds nothing
        ({"access": 6, "waiting": 6, "paperwork": 2, "family": 9}, {"paperwork"}, set()),
        # both sub-codes suppressed: access 9 says waiting + paperwork >= 9 (each 1-4): hide access
        ({"access": 9, "waiting": 4, "paperwork": 4, "family": 0}, {"waiting", "paperwork"}, {"access"}),
        # nothing suppressed under access
        ({"access": 12, "waiting": 6, "paperwork": 6, "family": 1}, {"family"}, set()),
    ],
)
def test_a_parent_that_would_bound_a_suppressed_sub_code_hides_a_second_cell(counts, primary, hidden) -> None:
    assert hidden_in_group(TREE, counts, primary) == hidden


def test_the_smallest_shown_sub_code_is_hidden_and_a_hidden_parent_counts_as_its_sub_codes() -> None:
    """services > access > (waiting, paperwork), services > staff. access 10 with waiting 6 shown
    bounds paperwork: hide waiting (6, not staff: staff is not under access). services 16 less
    staff 6 then says access >= 10, no news: access is shown."""
    tree = {
        "services": None,
        "access": "services",
        "waiting": "access",
        "paperwork": "access",
        "staff": "services",
    }
    counts = {"services": 16, "access": 10, "waiting": 6, "paperwork": 4, "staff": 6}
    assert hidden_in_group(tree, counts, {"paperwork"}) == {"waiting"}
    # access 8 with both sub-codes suppressed says waiting + paperwork >= 8: hide access; then
    # services 13 less staff 6 says access >= 7, so waiting + paperwork >= 7: hide staff too
    counts = {"services": 13, "access": 8, "waiting": 4, "paperwork": 4, "staff": 6}
    assert hidden_in_group(tree, counts, {"waiting", "paperwork"}) == {"access", "staff"}


def frame(rows: list[tuple[str, str | None, str, int, int]]) -> pd.DataFrame:
    """(code, parent, group, group size, count) rows, as themes_by_attribute gives them."""
    found = pd.DataFrame(rows, columns=["code_id", "parent", "group", "group_size", "count"])
    found["code_name"] = found["code_id"].str.capitalize()
    found["level"] = found["parent"].notna().astype(int)
    return found


ROWS = [
    ("access", None, "North", 20, 10),
    ("access", None, "South", 20, 7),
    ("waiting", "access", "North", 20, 6),
    ("waiting", "access", "South", 20, 6),
    ("paperwork", "access", "North", 20, 4),
    ("paperwork", "access", "South", 20, 1),
]


@pytest.mark.parametrize("percent", ["count", "column", "row"])
def test_heatmap_hides_the_second_cell_in_every_view(percent) -> None:
    cells = charts.heatmap_cells(frame(ROWS), percent=percent)
    label = {(r.code_id, r.group): r.label for r in cells.itertuples()}
    assert label[("waiting", "North")] == "hidden" and label[("paperwork", "North")] == "<5"
    assert label[("waiting", "South")] != "hidden"  # access 7 - waiting 6 = 1: nothing learnt
    hidden = cells[cells["label"].isin(["hidden", "<5"])]
    assert hidden["suppressed"].all() and hidden["count"].isna().all() and hidden["value"].isna().all()
    if percent == "row":  # waiting's total is of its shown cells: South alone
        assert label[("waiting", "South")] == "100%"


def test_segment_counts_are_not_checked_against_parents() -> None:
    segments = frame(ROWS).assign(count=[40, 30, 20, 20, 25, 1])
    cells = charts.heatmap_cells(charts.with_people(segments, frame(ROWS)))
    assert "hidden" not in set(cells["label"])


def test_wave_cells_hide_the_second_cell_too() -> None:
    counts = frame(ROWS).rename(
        columns={"group": "wave", "group_size": "wave_participants", "count": "participants"}
    )
    counts["wave"] = counts["wave"].map({"North": 1, "South": 2})
    cells = charts.wave_cells(counts)
    label = {(r.code_id, r.wave): r.label for r in cells.itertuples()}
    assert label[("waiting", 1)] == "hidden" and label[("paperwork", 1)] == "<5"
    assert label[("waiting", 2)] == "30%"
    assert cells[cells["label"] == "hidden"]["participants"].isna().all()
