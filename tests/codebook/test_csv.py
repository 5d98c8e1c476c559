"""Codebooks as spreadsheet CSVs: the standard layout both ways, and the NHS framework layout."""

from __future__ import annotations

import re
import string
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from narratives.cli import app
from narratives.codebook.csv import (
    codebook_from_nhs_csv,
    dump_codebook_csv,
    join_cell,
    load_codebook_csv,
    parse_quoted_examples,
    save_codebook_csv,
    slugify,
    split_cell,
)
from narratives.codebook.files import leaf_codes, load_codebook
from narratives.codebook.validate import CodebookProblems
from narratives.errors import CodebookError
from narratives.schema import Code, Codebook

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NHS_CSV = FIXTURES / "nhs_fft_codebook_v7.csv"
NHS_LABELS = FIXTURES / "nhs_fft_labels_v7.txt"
SHIPPED_NHS = Path(__file__).resolve().parents[2] / "models" / "codebooks" / "nhs-fft.yaml"

HEADER = (
    "id,name,parent,definition,inclusion,exclusion,examples,near_misses,phrases,patterns,colour,plain_name\n"
)
GOOD_ROWS = (
    "access,Access,,Getting help at all.,,,,,,,,\n"
    "gatekeeping,Gatekeeping,access,Having to ask permission.,asks | fights,neutral rules,"
    '"I had to beg.\nThey decided for me.",The gate was shut.,ask permission | cap in hand,'
    '"gate ?keep(er|ing)\n",#aabbcc,Asking permission\n'
)


def write(tmp_path: Path, text: str, name: str = "codes.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding, newline="")
    return path


# ---------------------------------------------------------------------------------------- cells


@pytest.mark.parametrize(
    ("cell", "items"),
    [
        ("a | b|c", ["a", "b", "c"]),
        ("one\ntwo | still two\n", ["one", "two | still two"]),
        ("x\r\ny", ["x", "y"]),
        ("  ", []),
        ("", []),
        ("solo|", ["solo"]),
    ],
)
def test_split_cell_accepts_pipes_and_line_breaks(cell: str, items: list[str]) -> None:
    assert split_cell(cell) == items


def test_join_cell_uses_lines_when_an_entry_holds_a_pipe() -> None:
    assert join_cell(["a", "b"]) == "a | b"
    assert split_cell(join_cell(["x|y"])) == ["x|y"]
    assert split_cell(join_cell(["p", "q|r"])) == ["p", "q|r"]


# ------------------------------------------------------------------------------- standard import


def test_import_reads_lists_from_pipes_and_line_breaks(tmp_path: Path) -> None:
    codebook = load_codebook_csv(write(tmp_path, HEADER + GOOD_ROWS), "demo", "2.0")
    assert (codebook.name, codebook.version) == ("demo", "2.0")
    code = codebook.code("gatekeeping")
    assert code.parent == "access"
    assert code.inclusion == ["asks", "fights"]
    assert code.examples == ["I had to beg.", "They decided for me."]
    assert code.patterns == ["gate ?keep(er|ing)"]
    assert code.colour == "#aabbcc" and code.plain_name == "Asking permission"
    assert codebook.code("access").colour is None and codebook.code("access").examples == []


def test_import_accepts_a_byte_order_mark_and_unicode(tmp_path: Path) -> None:
    text = "id,name,definition\ncafé,Café – ‘talk’,Über alles 😀\n"
    codebook = load_codebook_csv(write(tmp_path, text, encoding="utf-8-sig"), "d", "1")
    assert codebook.code("café").name == "Café – ‘talk’"


ROW_CASES = [
    ("no-definition", "a,A,,,,,,,,,,\n", "E401", "row 2, column 'definition'"),
    ("duplicate-id", "a,A,,d,,,,,,,,\nb,B,,d,,,,,,,,\na,C,,d,,,,,,,,\n", "E406", "row 4, column 'id'"),
    ("unknown-parent", "a,A,,d,,,,,,,,\nb,B,aa,d,,,,,,,,\n", "E408", "row 3, column 'parent'"),
    ("bad-pattern", "a,A,,d,,,,,,[oops,,\n", "E410", "row 2, column 'patterns'"),
    ("bad-colour", "a,A,,d,,,,,,,red,\n", "E413", "row 2, column 'colour'"),
    ("no-id", ",A,,d,,,,,,,,\n", "E405", "row 2"),
    ("no-name", "a,,,d,,,,,,,,\n", "E407", "row 2, column 'name'"),
    ("cycle", "a,A,b,d,,,,,,,,\nb,B,a,d,,,,,,,,\n", "E409", "row 2, column 'parent'"),
]


@pytest.mark.parametrize(("rows", "code", "where"), [c[1:] for c in ROW_CASES], ids=[c[0] for c in ROW_CASES])
def test_import_problems_name_the_row(tmp_path: Path, rows: str, code: str, where: str) -> None:
    path = write(tmp_path, HEADER + rows)
    with pytest.raises(CodebookProblems) as caught:
        load_codebook_csv(path, "d", "1")
    matching = [p for p in caught.value.problems if p.code == code]
    assert matching and matching[0].where == f"{path} {where}"


def test_import_header_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "id,nmae,definiton,colour\na,A,d,#fff\n")
    with pytest.raises(CodebookProblems) as caught:
        load_codebook_csv(path, "d", "1")
    text = str(caught.value)
    assert "E416" in text and "'name', 'definition'" in text
    assert "did you mean 'name'" in text and "did you mean 'definition'" in text and "row 1" in text


def test_import_needs_a_name_and_version(tmp_path: Path) -> None:
    with pytest.raises(CodebookError, match="E403"):
        load_codebook_csv(write(tmp_path, HEADER + GOOD_ROWS), "", "1")


def test_import_of_a_missing_file_is_a_codebook_error(tmp_path: Path) -> None:
    with pytest.raises(CodebookError, match="E414"):
        load_codebook_csv(tmp_path / "nope.csv", "d", "1")


# ----------------------------------------------------------------------------- export and round trip


def test_export_has_the_spreadsheet_columns(tmp_path: Path) -> None:
    codebook = load_codebook_csv(write(tmp_path, HEADER + GOOD_ROWS), "demo", "1")
    text = dump_codebook_csv(codebook)
    assert text.startswith(HEADER)
    assert "ask permission | cap in hand" in text


def test_export_refuses_entries_with_line_breaks() -> None:
    codebook = Codebook(name="d", codes=[Code(id="a", name="A", definition="d", examples=["two\nlines"])])
    with pytest.raises(CodebookError, match="E417"):
        dump_codebook_csv(codebook)


CELL_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\r\n"), max_size=30).map(
    str.strip
)
ENTRY = CELL_TEXT.filter(bool)
ENTRIES = st.lists(ENTRY.filter(lambda text: "|" not in text), max_size=4) | st.lists(ENTRY, max_size=3)
COLOUR = st.text(string.hexdigits, min_size=6, max_size=6).map(lambda digits: "#" + digits)


@st.composite
def csv_codebooks(draw: st.DrawFn) -> Codebook:
    ids = draw(
        st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), min_size=1, max_size=5, unique=True)
    )
    codes = [
        Code(id=code_id, name=draw(ENTRY), definition=draw(ENTRY),
             parent=draw(st.none() | st.sampled_from(ids[:index])) if index else None,
             inclusion=draw(ENTRIES), exclusion=draw(ENTRIES), examples=draw(ENTRIES),
             near_misses=draw(ENTRIES), phrases=draw(ENTRIES), patterns=draw(st.sampled_from([[], ["a|b"]])),
             colour=draw(st.none() | COLOUR), plain_name=draw(st.none() | ENTRY), retired=draw(st.booleans()))
        for index, code_id in enumerate(ids)
    ]  # fmt: skip
    return Codebook(name="generated", version="1", codes=codes)


@settings(max_examples=100, deadline=None)
@given(csv_codebooks())
def test_csv_round_trip(codebook: Codebook) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = save_codebook_csv(codebook, Path(folder) / "c.csv")
        assert load_codebook_csv(path, "generated", "1") == codebook


# ------------------------------------------------------------------------------------ NHS layout


def nhs_labels() -> list[str]:
    lines = NHS_LABELS.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def test_nhs_import_makes_32_codes_under_their_categories() -> None:
    codebook = codebook_from_nhs_csv(NHS_CSV, "nhs-fft", "7", leave_out=["Not assigned"])
    leaves = leaf_codes(codebook)
    assert len(leaves) == 32
    themes = [code for code in codebook.codes if code.parent is None]
    assert len(themes) == 10 and all(theme.definition.startswith("Theme grouping") for theme in themes)
    assert all(code.parent is not None and code.definition for code in leaves)
    assert codebook.code("transport-to-from-services").name == "Transport to/ from services"
    assert codebook.code("general").name == "General"


def test_nhs_import_keeps_everything_unless_told() -> None:
    codebook = codebook_from_nhs_csv(NHS_CSV, "nhs-fft", "7")
    assert len(leaf_codes(codebook)) == 33 and codebook.code("not-assigned").examples == []


def test_every_nhs_label_matches_exactly_one_code_name() -> None:
    codebook = codebook_from_nhs_csv(NHS_CSV, "nhs-fft", "7", leave_out=["Not assigned"])
    names = [code.name for code in leaf_codes(codebook)]
    labels = nhs_labels()
    assert len(labels) >= 25
    for label in labels:
        assert names.count(label) == 1, label


def test_nhs_examples_are_parsed_from_the_quoted_lists() -> None:
    codebook = codebook_from_nhs_csv(NHS_CSV, "nhs-fft", "7")
    every = [example for code in codebook.codes for example in code.examples]
    assert codebook.code("positive-experience-and-gratitude").examples[:2] == ["All good", "Perfect."]
    assert codebook.code("labelling-not-possible").examples == ["Did not answer", "Feedback given"]
    assert "Just to encourage 'knocking' before entering a room." in every
    assert not any(re.match(r"(Positi?ve|Negative|Mixed)\s*[:/]|['‘]", example) for example in every)
    assert not any(example.endswith(("'", "’")) for example in every)
    assert sum(len(code.examples) for code in codebook.codes) > 500


def test_shipped_nhs_codebook_matches_a_fresh_import() -> None:
    shipped = load_codebook(SHIPPED_NHS)
    fresh = codebook_from_nhs_csv(NHS_CSV, "nhs-fft", "7", leave_out=["Not assigned"])
    assert shipped.codes == fresh.codes
    assert shipped.licence == (FIXTURES / "NHS-FFT-LICENSE").read_text(encoding="utf-8").strip()


@pytest.mark.parametrize(
    ("cell", "examples"),
    [
        (
            "Positive: 'Good.', 'Kind staff' Negative/ wishlist: 'More staff'",
            ["Good.", "Kind staff", "More staff"],
        ),
        ("‘All good’, ‘Perfect.’, 'mixed quotes'", ["All good", "Perfect.", "mixed quotes"]),
        ("Funding please', 'More money'", ["Funding please", "More money"]),
        ("Mixed or neutral: 'Fair.' Mixed/ neutral: 'OK.'. 'Fine'", ["Fair.", "OK.", "Fine"]),
        ("Positive:'It didn't hurt'", ["It didn't hurt"]),
        ("", []),
    ],
)
def test_parse_quoted_examples(cell: str, examples: list[str]) -> None:
    assert parse_quoted_examples(cell) == examples


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Staff manner & personal attributes", "staff-manner-and-personal-attributes"),
        ("Transport to/ from services", "transport-to-from-services"),
        ("Café – Über", "cafe-uber"),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


def test_nhs_import_names_missing_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "category,sub_category,description\nA,B,C\n")
    with pytest.raises(CodebookProblems, match="E416") as caught:
        codebook_from_nhs_csv(path, "n", "1")
    assert "did you mean 'subcategory'" in str(caught.value)


# ------------------------------------------------------------------------------------------- CLI

runner = CliRunner()


def test_cli_import_standard_csv(tmp_path: Path) -> None:
    source, out = write(tmp_path, HEADER + GOOD_ROWS), tmp_path / "out" / "demo.yaml"
    args = ["codebook", "import", str(source), "--out", str(out), "--name", "demo", "--version", "1.0"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert load_codebook(out) == load_codebook_csv(source, "demo", "1.0")


def test_cli_import_nhs_csv(tmp_path: Path) -> None:
    out = tmp_path / "nhs.yaml"
    args = ["codebook", "import", str(NHS_CSV), "--out", str(out), "--name", "nhs-fft", "--version", "7",
            "--format", "nhs", "--leave-out", "Not assigned"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "32 leaf" in result.output
    assert len(leaf_codes(load_codebook(out))) == 32


def test_cli_import_errors_name_the_row(tmp_path: Path) -> None:
    source = write(tmp_path, HEADER + "a,A,,,,,,,,,,\n")
    args = [
        "codebook",
        "import",
        str(source),
        "--out",
        str(tmp_path / "x.yaml"),
        "--name",
        "d",
        "--version",
        "1",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "E401" in result.output and "row 2" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x.yaml").exists()
