"""The default size limit: 50 MB for files read whole, more for .csv/.tsv, which are streamed; a
limit the user sets applies to every file."""

from __future__ import annotations

from pathlib import Path

from narratives.ingest.checks import DEFAULT_MAX_BYTES
from narratives.ingest.readers import DEFAULT_MAX_STREAMED_BYTES, ReadOptions, read_files

ROW_TEXT = "The council said we had to wait for the assessment. " * 17_000  # ~900 KB per answer


def table_over_the_default_limit(path: Path) -> Path:
    rows = DEFAULT_MAX_BYTES // len(ROW_TEXT) + 3
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id,answer\n")
        for row in range(rows):
            handle.write(f"R{row},{ROW_TEXT}\n")
    assert path.stat().st_size > DEFAULT_MAX_BYTES
    return path


def test_a_streamed_table_over_50_mb_goes_in_without_a_limit_given(tmp_path: Path) -> None:
    table = table_over_the_default_limit(tmp_path / "big answers.csv")
    options = ReadOptions.from_settings(id_column="id", text_columns=["answer"])
    batch = read_files([table], options)
    assert not batch.failures
    assert len(batch.documents) == DEFAULT_MAX_BYTES // len(ROW_TEXT) + 3
    assert batch.documents[0].text.strip() == ROW_TEXT.strip()


def test_a_limit_the_user_gives_applies_to_tables_too(tmp_path: Path) -> None:
    table = table_over_the_default_limit(tmp_path / "big.csv")
    options = ReadOptions.from_settings(id_column="id", text_columns=["answer"], max_mb=10)
    batch = read_files([table], options)
    assert not batch.documents
    assert len(batch.failures) == 1 and "--max-mb" in batch.failures[0].message


def test_a_text_file_keeps_the_50_mb_default(tmp_path: Path) -> None:
    options = ReadOptions()
    assert options.limit_for(tmp_path / "notes.txt") == DEFAULT_MAX_BYTES
    assert options.limit_for(tmp_path / "Answers.TSV") == DEFAULT_MAX_STREAMED_BYTES
    assert ReadOptions(max_bytes=1024).limit_for(tmp_path / "a.csv") == 1024
