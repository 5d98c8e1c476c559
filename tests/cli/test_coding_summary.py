"""`narratives code`'s summary: a cell listing codes stays short however many codes a run touched."""

from __future__ import annotations

from narratives.cli.app import console
from narratives.cli.coding_cmds import SHOWN_CODES, print_coding_summary, some_codes
from narratives.coding.config import CodingRunResult


def run_result(recoded: list[str], retired: list[str]) -> CodingRunResult:
    return CodingRunResult(
        run_id=3,
        codebook="large",
        codebook_version="2",
        unit="sentence",
        segments_total=40,
        segments_coded=40,
        new_segments=0,
        codes_recoded=recoded,
        codes_unchanged=[],
        codes_retired=retired,
        suggestions_written=12,
        suggestions_superseded=4,
        cache_hits=40,
        cache_misses=0,
        learned="off",
        config_hash="abc",
        seconds=1.5,
    )


def test_many_codes_are_counted_with_the_first_few_named() -> None:
    ids = [f"care.topic{k:05d}" for k in range(10_000)]
    cell = some_codes(ids)
    assert cell.startswith("10,000 codes: care.topic00000, care.topic00001, ")
    assert cell.endswith(f", ... and {10_000 - SHOWN_CODES:,} more")
    assert f"care.topic{SHOWN_CODES - 1:05d}" in cell and f"care.topic{SHOWN_CODES:05d}" not in cell


def test_a_few_codes_are_all_named_and_none_says_none() -> None:
    assert some_codes(["care.access", "care.cost"]) == "care.access, care.cost"
    assert some_codes([f"c{k}" for k in range(SHOWN_CODES)]) == ", ".join(f"c{k}" for k in range(SHOWN_CODES))
    assert some_codes([]) == "none"


def test_the_printed_summary_of_a_run_over_10000_codes_stays_short() -> None:
    recoded = [f"care.topic{k:05d}" for k in range(10_000)]
    retired = [f"old.topic{k:05d}" for k in range(7)]
    with console.capture() as captured:
        print_coding_summary(run_result(recoded, retired))
    output = captured.get()
    assert len(output) < 3000, len(output)  # every id joined would be 170,000 characters
    flat = " ".join(output.split())
    assert "9,995 more" in flat and "and 2 more" in flat
    assert "care.topic09999" not in output
