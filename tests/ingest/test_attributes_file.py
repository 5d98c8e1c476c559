from __future__ import annotations

from pathlib import Path

import pytest

from narratives.errors import IngestError
from narratives.ingest.attributes_file import read_attributes_file
from narratives.schema import Document, SourceKind


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "attributes.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_match_documents_by_file_name(tmp_path: Path) -> None:
    lookup = read_attributes_file(
        write(
            tmp_path,
            (
                "file,participant,wave,date,age_band,carer\n"
                "interviews/p03_wave1.txt,P03,1,2023-03-01,65-74,yes\n"
                "p04.vtt,P04,2,,18-24,no\n"
                "p05,P05,2,,18-24,no\n"
            ),
        )
    )
    document = Document(kind=SourceKind.interview, title="t", text="x", path="/data/p03_wave1.txt")
    updated = lookup.apply(document)
    assert (updated.participant, updated.wave, updated.date) == ("P03", 1, "2023-03-01")
    assert {a.key: a.value for a in updated.participant_attributes} == {"age_band": "65-74", "carer": True}
    assert lookup.find("elsewhere/P04.vtt").participant == "P04"
    assert lookup.find("x/p05.srt#post-1").participant == "P05"


def test_options_already_set_on_a_document_win(tmp_path: Path) -> None:
    lookup = read_attributes_file(write(tmp_path, "file,participant,wave\na.txt,P01,1\n"))
    document = Document(kind=SourceKind.interview, title="t", text="x", path="a.txt", wave=3)
    assert lookup.apply(document).wave == 3


def test_rows_match_by_participant_without_a_file_column(tmp_path: Path) -> None:
    lookup = read_attributes_file(write(tmp_path, "participant,need_group,age\nR0012,dementia,81\n"))
    answer = Document(kind=SourceKind.survey, title="t", text="x", participant="R0012", path="s.csv#row=2")
    assert {a.key: a.value for a in lookup.apply(answer).participant_attributes} == {
        "need_group": "dementia",
        "age": 81,
    }


def test_file_row_gives_only_person_attributes_to_that_persons_other_documents(tmp_path: Path) -> None:
    lookup = read_attributes_file(write(tmp_path, "file,participant,wave,sex\np03.txt,P03,1,F\n"))
    other = Document(kind=SourceKind.survey, title="t", text="x", participant="P03", path="s.csv#row=2")
    updated = lookup.apply(other)
    assert updated.wave is None and updated.participant_attributes[0].value == "F"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("file,wave\na.txt,one\n", "row 2: wave 'one'"),
        ("file,participant\na.txt,P1\nA.TXT,P2\n", "row 3: file 'A.TXT' is already described on row 2"),
        ("file,participant\n,\n", None),
        ("file,participant,x\n,,1\n", "row 2: neither a file nor a participant"),
        ("name,age\nP1,3\n", "needs a 'file' or 'participant' column"),
    ],
)
def test_bad_rows_are_errors_naming_the_row(tmp_path: Path, text: str, expected: str | None) -> None:
    path = write(tmp_path, text)
    if expected is None:
        read_attributes_file(path)  # an all-blank row is ignored
        return
    with pytest.raises(IngestError, match=r"attributes\.csv") as info:
        read_attributes_file(path)
    assert expected in str(info.value)
