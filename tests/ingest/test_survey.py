from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from narratives.errors import SurveyColumnError
from narratives.ingest.survey import infer_column_type, is_blankish, read_survey
from narratives.schema import Document, SourceKind


def attrs(document: Document) -> dict[str, tuple[object, str]]:
    return {a.key: (a.value, a.value_type) for a in document.attributes}


def test_cp1252_csv_reads_pounds_and_curly_quotes(fixtures: Path) -> None:
    path = fixtures / "survey_cp1252.csv"
    result = read_survey(path, "id", ["q1_experience", "q2_change"])
    assert result.encoding == "cp1252"
    first = result.documents[0]
    assert first.text == "The care cost £25 an hour – “far too much” for what we got"
    assert first.title == "R0001 – q1_experience"
    assert (first.kind, first.participant, first.question) == (SourceKind.survey, "R0001", "q1_experience")
    assert first.path == f"{path}#row=2"
    assert attrs(first) == {"carer": (True, "bool"), "age": (67, "int"), "council": ("Leeds", "str")}


def test_blank_answers_skipped_and_blankish_kept_and_flagged(fixtures: Path) -> None:
    result = read_survey(fixtures / "survey_cp1252.csv", "id", ["q1_experience", "q2_change"])
    assert [(d.participant, d.question) for d in result.documents] == [
        ("R0001", "q1_experience"),
        ("R0001", "q2_change"),
        ("R0002", "q1_experience"),
    ]
    assert result.skipped_blank == 3
    na_answer = result.documents[1]
    assert na_answer.text == "N/A"
    assert attrs(na_answer)["answer_is_blankish"] == (True, "bool")
    assert "answer_is_blankish" not in attrs(result.documents[0])


def test_utf8_bom_csv_and_default_attribute_columns(fixtures: Path) -> None:
    result = read_survey(fixtures / "survey_utf8_bom.csv", "respondent", ["answer"])
    assert result.encoding == "utf-8-sig"
    assert [d.participant for d in result.documents] == ["A1", "A2"]
    assert result.documents[0].text == "Good support, “mostly”"
    assert attrs(result.documents[0]) == {"carer": (True, "bool")}
    assert attrs(result.documents[1])["answer_is_blankish"] == (True, "bool")


def test_missing_column_names_file_column_and_what_is_there(fixtures: Path) -> None:
    with pytest.raises(SurveyColumnError) as info:
        read_survey(fixtures / "survey_cp1252.csv", "id", ["q1_experiences", "q3"])
    message = str(info.value)
    assert "survey_cp1252.csv" in message
    assert "'q1_experiences'" in message and "'q3'" in message
    assert "'q1_experience'" in message and "'council'" in message  # the columns that are there
    assert "did you mean 'q1_experience'" in message


def test_missing_id_and_attribute_columns_are_errors(fixtures: Path) -> None:
    with pytest.raises(SurveyColumnError, match="'respondent_id'"):
        read_survey(fixtures / "survey_cp1252.csv", "respondent_id", ["q1_experience"])
    with pytest.raises(SurveyColumnError, match="'gender'"):
        read_survey(fixtures / "survey_cp1252.csv", "id", ["q1_experience"], ["gender"])


def test_column_names_match_ignoring_case_and_spaces(fixtures: Path) -> None:
    result = read_survey(fixtures / "survey_cp1252.csv", "ID", ["Q1_Experience "], [])
    assert len(result.documents) == 2
    assert result.documents[0].question == "q1_experience"


def test_row_failures_are_collected_and_other_rows_go_through(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_text(
        "id,answer,area\n"
        "R1,First answer,North\n"
        ",No id here,South\n"
        "R1,Duplicate id,East\n"
        ",,\n"
        "R2,Too,many,cells\n"
        "R3,Third answer,West\n",
        encoding="utf-8",
    )
    result = read_survey(path, "id", ["answer"])
    assert [d.participant for d in result.documents] == ["R1", "R3"]
    assert [d.path for d in result.documents] == [f"{path}#row=2", f"{path}#row=7"]
    failures = {f.row: f.message for f in result.failures}
    assert sorted(failures) == [3, 4, 6]
    assert "no respondent id" in failures[3]
    assert "'R1' is already used on row 2" in failures[4]
    assert "4 cells" in failures[6]
    assert result.skipped_empty_rows == 1


def test_multiline_answers_and_semicolon_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text('id;answer\nR1;"Line one\nLine two; still answer"\n', encoding="utf-8")
    result = read_survey(path, "id", ["answer"])
    assert result.documents[0].text == "Line one\nLine two; still answer"


def test_xlsx_survey_with_typed_attributes(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["respondent", "q1", "carer", "age", "score", "area"])
    sheet.append(["R0012", "I felt listened to.", "Yes", 81, 3.5, "Kent"])
    sheet.append(["R0013", "Nobody called back – ever.", "No", 70, 2, None])
    sheet.append([None, "Orphan answer", "No", 50, 1, "Kent"])
    path = tmp_path / "survey.xlsx"
    book.save(path)
    result = read_survey(path, "respondent", ["q1"])
    assert [d.title for d in result.documents] == ["R0012 – q1", "R0013 – q1"]
    assert attrs(result.documents[1]) == {
        "carer": (False, "bool"),
        "age": (70, "int"),
        "score": (2.0, "float"),
        "area": (None, "str"),
    }
    assert result.documents[0].path == f"{path}#row=2"
    assert [(f.row, "no respondent id" in f.message) for f in result.failures] == [(4, True)]
    assert result.encoding is None


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["yes", "No", "", "Y"], "bool"),
        (["1", "23", " 4 "], "int"),
        (["01", "02"], "str"),
        (["1.5", "2"], "float"),
        (["Leeds", "3"], "str"),
        (["", ""], "str"),
    ],
)
def test_column_types_are_inferred(values: list[str], expected: str) -> None:
    assert infer_column_type(values) == expected


@pytest.mark.parametrize("answer", ["N/A", "n/a", "-", "--", "Nothing to add.", "none", "  .  ", "?"])
def test_blankish_answers(answer: str) -> None:
    assert is_blankish(answer)


@pytest.mark.parametrize("answer", ["No support at all", "Nothing was done for months", "OK"])
def test_real_answers_are_not_blankish(answer: str) -> None:
    assert not is_blankish(answer)
