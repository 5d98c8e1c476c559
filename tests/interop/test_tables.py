"""Coded segments as CSV and XLSX, and the code-by-document matrix."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from narratives.interop.tables import (
    code_document_matrix,
    coded_table,
    excel_safe_text,
    export_csv,
    export_xlsx,
)
from narratives.review.record import record_review
from narratives.schema import Decision, Document, Review, Segment, SegmentUnit, SourceKind
from narratives.store.documents import save_document
from narratives.store.segments import load_segments, save_segments
from tests.builders.study import CODEBOOK, REVIEWER, Study


def test_one_row_per_segment_code_with_context(study: Study) -> None:
    with study.project.connect() as connection:
        table = coded_table(connection, CODEBOOK)
    assert len(table) == 12
    row = table[table["code_id"] == "waiting"].iloc[0]
    assert row["document"] == "Interview P1 wave 1"
    assert (row["participant"], row["wave"], row["need_group"], row["council"]) == (
        "P1",
        1,
        "learning_disability",
        "North",
    )
    assert (row["source"], row["reviewer"], row["code"], row["parent"]) == (
        "reviewed",
        REVIEWER,
        "Waiting for help",
        "access",
    )
    assert table.loc[table["code_id"] == "paperwork", "text"].item() == "explains the paperwork"


def test_matrix_counts_segments_per_document(study: Study) -> None:
    with study.project.connect() as connection:
        matrix = code_document_matrix(connection, CODEBOOK).set_index("document")
    assert matrix.loc["Interview P1 wave 1", ["Continuity of care", "Waiting for help"]].tolist() == [1, 1]
    assert matrix.loc["Waiting lists", ["Waiting for help", "Choice and control"]].tolist() == [1, 1]
    # the parent counts its sub-codes' segments: waiting (4) and paperwork (1), none of them shared
    assert matrix["Access to support (incl. sub-codes)"].sum() == 5
    assert matrix.loc["Waiting lists", "Access to support (incl. sub-codes)"] == 1
    codes = [c for c in matrix.columns if c not in {"document_id", "kind", "participant", "wave"}]
    assert codes.index("Access to support (incl. sub-codes)") < codes.index("Waiting for help")
    assert len(matrix) == 8  # every document, coded or not


def test_csv_files_open_in_excel_and_keep_non_ascii(study: Study, tmp_path: Path) -> None:
    with study.project.connect() as connection:
        coded_path, matrix_path = export_csv(connection, CODEBOOK, tmp_path / "out" / "coded.csv")
    assert coded_path.read_bytes().startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(coded_path, encoding="utf-8-sig")
    assert "Now I know my carer Zoë and she comes every single morning." in set(frame["text"])
    assert "Getting the ramp fitted took a whole year of waiting 🙂." in set(frame["text"])
    assert matrix_path.name == "coded_by_document.csv" and len(pd.read_csv(matrix_path)) == 8


def test_xlsx_has_three_sheets_and_text_never_becomes_a_formula(study: Study, tmp_path: Path) -> None:
    text = '=HYPERLINK("http://example.org","click") said the form'
    with study.project.begin() as connection:
        saved = save_document(
            connection, Document(kind=SourceKind.survey, title="=1+1", text=text, participant="R9")
        )
        save_segments(
            connection,
            [
                Segment(
                    document_id=saved.document_id,
                    unit=SegmentUnit.sentence,
                    index=0,
                    start=0,
                    end=len(text),
                    text=text,
                )
            ],
            "test",
        )
        segment = load_segments(connection, document_id=saved.document_id)[0]
        record_review(
            connection,
            Review(
                segment_id=segment.id,
                code_id="paperwork",
                decision=Decision.add,
                user=REVIEWER,
                codebook=CODEBOOK,
            ),
        )
        path = export_xlsx(connection, CODEBOOK, tmp_path / "coded.xlsx")
        csv_path, _ = export_csv(connection, CODEBOOK, tmp_path / "coded.csv")
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["coded segments", "code by document", "codebook"]
    sheet = workbook["coded segments"]
    header = [c.value for c in sheet[1]]
    cells = [row[header.index("text")] for row in sheet.iter_rows(min_row=2)]
    formula_like = [c for c in cells if c.value == text]
    assert formula_like and all(c.data_type == "s" for c in formula_like)
    assert sheet.max_row == 14
    assert "'" + text in set(pd.read_csv(csv_path, encoding="utf-8-sig")["text"])


@pytest.mark.parametrize(
    ("value", "safe"), [("=1+1", "'=1+1"), ("-2", "'-2"), ("@x", "'@x"), ("fine", "fine"), (-2, -2)]
)
def test_excel_safe_text(value: object, safe: object) -> None:
    assert excel_safe_text(value) == safe
