"""An unclosed quote names what it swallowed: the lines after it, or none on the last row."""

from __future__ import annotations

from pathlib import Path

import pytest

from narratives.errors import IngestError
from narratives.ingest.survey import read_table


def refusal(tmp_path: Path, body: str) -> str:
    path = tmp_path / "answers.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(IngestError) as refused:
        read_table(path)
    return refused.value.message


@pytest.mark.parametrize("ending", ["\n", ""])
def test_an_unclosed_quote_on_the_last_row_swallows_no_rows(tmp_path: Path, ending: str) -> None:
    message = refusal(tmp_path, f'id,answer\nR1,Fine\nR2,"Never closed{ending}')
    assert message.startswith("row 3 (the record starting on line 3)")
    assert "no other row is read into it" in message
    assert "after it" not in message


def test_an_unclosed_quote_earlier_names_the_lines_it_swallows(tmp_path: Path) -> None:
    message = refusal(tmp_path, 'id,answer\nR1,"Never closed\nR2,Lost\nR3,Also lost\n')
    assert message.startswith("row 2 (the record starting on line 2)")
    assert "so lines 3 to 4 after it would be read into that one cell" in message


def test_a_quote_closed_on_the_next_line_names_that_line(tmp_path: Path) -> None:
    message = refusal(tmp_path, 'id,answer\nR1,"Never\nR2,Lost" here\nR3,Fine\n')
    assert "before line 3, so line 3 after it would be read into that one cell" in message
