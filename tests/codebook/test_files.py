"""Codebook loading, validation (every problem kind, with its line), dumping, hierarchy and CLI."""

from __future__ import annotations

import re
import string
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from narratives.cli import app
from narratives.codebook.files import (
    ancestors,
    children,
    code_tree,
    codebook_version_hash,
    descendants,
    dump_codebook_yaml,
    leaf_codes,
    load_codebook,
    save_codebook,
)
from narratives.codebook.validate import CodebookProblems, validate_codebook
from narratives.errors import CodebookError
from narratives.schema import Code, Codebook

CODEBOOKS = Path(__file__).resolve().parents[2] / "models" / "codebooks"
SHIPPED = sorted(CODEBOOKS.glob("*.yaml"))
HAND_WRITTEN = ["social-care-lived-experience.yaml", "making-it-real.yaml"]

VALID = """\
name: demo
version: "1.0"
codes:
  - id: access
    name: Access
    definition: Getting help at all.
  - id: gatekeeping
    name: Gatekeeping
    parent: access
    definition: Having to ask permission.
    examples:
      - "I had to ask the social worker for everything."
    phrases: [ask permission]
    colour: "#aabbcc"
"""


def problems_of(text: str, source: str = "x.yaml") -> list:
    with pytest.raises(CodebookProblems) as caught:
        validate_codebook(textwrap.dedent(text), source)
    return caught.value.problems


def test_valid_codebook_loads(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(VALID, encoding="utf-8")
    codebook = load_codebook(path)
    assert [code.id for code in codebook.codes] == ["access", "gatekeeping"]
    assert codebook.code("gatekeeping").parent == "access"
    assert codebook.version == "1.0"


CASES = [
    # (id, yaml, problem code, line, words the message must hold)
    ("no-definition", "name: d\nversion: '1'\ncodes:\n  - id: a\n    name: A\n", "E401", 4, "no definition"),
    ("empty-definition", "name: d\nversion: '1'\ncodes:\n  - id: a\n    name: A\n    definition: '  '\n",
     "E401", 6, "code 'a' has no definition"),
    ("yaml-syntax", "name: d\nversion: '1'\ncodes:\n  - id: a\n    name: [A\n", "E402", 6, "cannot be read"),
    ("no-name", "version: '1'\ncodes:\n  - {id: a, name: A, definition: d}\n", "E403", 1, "has no name"),
    ("no-version", "name: d\ncodes:\n  - {id: a, name: A, definition: d}\n", "E403", 1, "has no version"),
    ("codes-not-list", "name: d\nversion: '1'\ncodes: lots\n", "E404", 3, "not a list"),
    ("no-codes", "name: d\nversion: '1'\n", "E404", 1, "has no codes"),
    ("not-a-mapping", "- just\n- a list\n", "E404", 1, "not a mapping"),
    ("code-not-mapping", "name: d\nversion: '1'\ncodes:\n  - just text\n", "E404", 4, "code #1"),
    ("no-id", "name: d\nversion: '1'\ncodes:\n  - name: A\n    definition: d\n", "E405", 4, "has no id"),
    ("no-code-name", "name: d\nversion: '1'\ncodes:\n  - id: a\n    definition: d\n", "E407", 4,
     "code 'a' has no name"),
    ("unknown-parent", "name: d\nversion: '1'\ncodes:\n  - {id: access, name: A, definition: d}\n"
     "  - id: b\n    name: B\n    parent: acess\n    definition: d\n", "E408", 7, "did you mean 'access'"),
    ("bad-pattern", "name: d\nversion: '1'\ncodes:\n  - id: a\n    name: A\n    definition: d\n"
     "    patterns:\n      - ok\n      - '(unclosed'\n", "E410", 9, "missing )"),
    ("unknown-field", "name: d\nversion: '1'\ncodes:\n  - id: a\n    name: A\n    definition: d\n"
     "    exmples: [x]\n", "E411", 7, "did you mean 'examples'"),
    ("unknown-top-field", "name: d\ntitel: T\nversion: '1'\ncodes:\n  - {id: a, name: A, definition: d}\n",
     "E411", 2, "did you mean 'title'"),
    ("examples-not-list", "name: d\nversion: '1'\ncodes:\n  - id: a\n    name: A\n    definition: d\n"
     "    examples: just one\n", "E412", 7, "'examples' is not a list"),
    ("example-not-text", "name: d\nversion: '1'\ncodes:\n  - id: a\n    name: A\n    definition: d\n"
     "    examples:\n      - fine\n      - 12\n", "E412", 9, "examples entry 2 is int"),
    ("example-with-colon", "name: d\nversion: '1'\ncodes:\n  - id: a\n    name: A\n    definition: d\n"
     "    examples:\n      - She said: no\n", "E412", 8, "is dict"),
    ("version-float", "name: d\nversion: 1.0\ncodes:\n  - {id: a, name: A, definition: d}\n", "E412", 2,
     "version 1.0"),
    ("bad-colour", "name: d\nversion: '1'\ncodes:\n  - id: a\n    name: A\n    definition: d\n"
     "    colour: blue-ish\n", "E413", 7, "not a hex colour"),
    ("unquoted-colour", "name: d\nversion: '1'\ncodes:\n  - id: a\n    name: A\n    definition: d\n"
     "    colour: #aabbcc\n", "E413", 7, "colour None"),
    ("duplicate-field", "name: d\nversion: '1'\ncodes:\n  - id: a\n    name: A\n    definition: d\n"
     "    name: B\n", "E415", 7, "given twice"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "code", "line", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_problem_kind_names_code_line_and_fix(text: str, code: str, line: int, words: str) -> None:
    problems = problems_of(text)
    matching = [p for p in problems if p.code == code]
    assert matching, problems
    problem = matching[0]
    assert problem.where.startswith(f"x.yaml line {line}")
    assert words in problem.message + problem.fix
    assert problem.fix


def test_yaml_syntax_error_gives_column() -> None:
    [problem] = problems_of("name: d\nversion: '1'\ncodes:\n  - id: a\n    name: [A\n")
    assert re.fullmatch(r"x\.yaml line \d+ column \d+", problem.where)


def test_duplicate_id_names_both_lines() -> None:
    text = "name: d\nversion: '1'\ncodes:\n  - {id: a, name: A, definition: d}\n  - {id: a, name: B, definition: d}\n"
    [problem] = problems_of(text)
    assert problem.code == "E406"
    assert problem.where == "x.yaml line 5"
    assert "first at x.yaml line 4" in problem.message


def test_parent_cycle_lists_the_cycle() -> None:
    text = """\
    name: d
    version: '1'
    codes:
      - {id: a, name: A, parent: c, definition: d}
      - {id: b, name: B, parent: a, definition: d}
      - {id: c, name: C, parent: b, definition: d}
      - {id: e, name: E, parent: e, definition: d}
    """
    problems = problems_of(text)
    assert [p.code for p in problems] == ["E409", "E409"]
    assert "a -> c -> b -> a" in problems[0].message
    assert problems[0].where == "x.yaml line 4"
    assert "e -> e" in problems[1].message


def test_all_problems_are_collected_in_one_error_sorted_by_line() -> None:
    text = "name: d\nversion: '1'\ncodes:\n  - id: a\n    name: A\n  - id: a\n    definition: d\n    colour: red\n"
    with pytest.raises(CodebookError) as caught:
        validate_codebook(text, "x.yaml")
    codes = [p.code for p in caught.value.problems]
    assert sorted(codes) == ["E401", "E406", "E407", "E413"]
    lines = [int(re.search(r"line (\d+)", p.where).group(1)) for p in caught.value.problems]
    assert lines == sorted(lines)
    assert str(caught.value).startswith("E400: x.yaml: 4 problems in this codebook:")


def test_single_problem_reads_like_spacy_errors() -> None:
    with pytest.raises(CodebookError) as caught:
        validate_codebook("name: d\nversion: '1'\ncodes:\n  - id: gatekeeping\n    name: G\n", "cb.yaml")
    assert str(caught.value) == (
        "E401: cb.yaml line 4: code 'gatekeeping' has no definition. Fix: add a 'definition:' line."
    )
    assert caught.value.code == "E401"


def test_missing_file_is_a_codebook_error(tmp_path: Path) -> None:
    with pytest.raises(CodebookError, match="E414"):
        load_codebook(tmp_path / "nope.yaml")


def test_plain_data_is_validated_without_lines() -> None:
    codebook = validate_codebook(
        {"name": "d", "version": 2, "codes": [{"id": "a", "name": "A", "definition": "x"}]}
    )
    assert codebook.version == "2"
    with pytest.raises(CodebookProblems, match="src code #1"):
        validate_codebook({"name": "d", "version": "1", "codes": [{"id": "a", "name": "A"}]}, "src")


# ------------------------------------------------------------------------------- shipped codebooks


def test_the_three_codebooks_ship() -> None:
    names = {path.name for path in SHIPPED}
    assert {"social-care-lived-experience.yaml", "making-it-real.yaml", "nhs-fft.yaml"} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_codebooks_validate_and_round_trip(path: Path) -> None:
    codebook = load_codebook(path)
    assert all(code.definition.strip() for code in codebook.codes)
    assert validate_codebook(dump_codebook_yaml(codebook)) == codebook


@pytest.mark.parametrize("name", HAND_WRITTEN)
def test_hand_written_codebooks_meet_the_minimums(name: str) -> None:
    codebook = load_codebook(CODEBOOKS / name)
    colours = [code.colour for code in codebook.codes]
    assert all(colours) and len(set(colours)) == len(colours)
    for code in leaf_codes(codebook):
        assert len(code.examples) >= 5, code.id
        assert len(code.near_misses) >= 2, code.id
        assert len(code.phrases) >= 4, code.id
        assert len(code.inclusion) >= 2 and len(code.exclusion) >= 1, code.id
        assert code.plain_name, code.id
        assert not set(code.examples) & set(code.near_misses), code.id


def test_social_care_codebook_has_themes_and_enough_codes() -> None:
    codebook = load_codebook(CODEBOOKS / "social-care-lived-experience.yaml")
    assert len(codebook.codes) >= 18 and len(leaf_codes(codebook)) >= 15
    themes = children(codebook, None)
    assert 3 <= len(themes) <= 6 and all(children(codebook, theme.id) for theme in themes)
    for needed in ("gatekeeping", "advocacy-gaps", "time-and-task", "exclusionary-commissioning",
                   "crisis-not-prevention", "process-burden", "unequal-access", "choice-and-control",
                   "person-centred-relationships", "workforce-pressure", "funding-and-charging",
                   "carer-strain", "information-and-advice", "peer-support-and-user-led", "risk-aversion",
                   "co-production-and-being-heard"):  # fmt: skip
        assert codebook.code(needed).parent is not None


def test_making_it_real_has_the_six_themes() -> None:
    codebook = load_codebook(CODEBOOKS / "making-it-real.yaml")
    assert [code.name for code in codebook.codes] == [
        "Wellbeing and independence",
        "Information and advice",
        "Active and supportive communities",
        "Flexible and integrated care and support",
        "When things need to change",
        "Workforce",
    ]
    for code in codebook.codes:
        assert len(code.examples) >= 5, code.id
        assert all(re.search(r"\b(I|my|me)\b", example, re.IGNORECASE) for example in code.examples), code.id


def test_nhs_codebook_carries_its_licence() -> None:
    codebook = load_codebook(CODEBOOKS / "nhs-fft.yaml")
    assert codebook.licence and "MIT License" in codebook.licence and "NHS England" in codebook.licence
    assert "pxtextmining" in codebook.description
    assert len(leaf_codes(codebook)) == 32
    assert (CODEBOOKS / "NHS-FFT-LICENSE").read_text(encoding="utf-8").strip() == codebook.licence


# ---------------------------------------------------------------------------------- round trip

ID = st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True)
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
SOLID = TEXT.filter(lambda text: text.strip() != "")
TEXTS = st.lists(TEXT, max_size=4)
COLOUR = st.text(string.hexdigits, min_size=6, max_size=6).map(lambda digits: "#" + digits)


@st.composite
def codebooks(draw: st.DrawFn) -> Codebook:
    ids = draw(st.lists(ID, min_size=1, max_size=6, unique=True))
    codes = []
    for index, code_id in enumerate(ids):
        parent = draw(st.none() | st.sampled_from(ids[:index])) if index else None
        codes.append(
            Code(
                id=code_id,
                name=draw(SOLID),
                parent=parent,
                definition=draw(SOLID),
                inclusion=draw(TEXTS),
                exclusion=draw(TEXTS),
                examples=draw(TEXTS),
                near_misses=draw(TEXTS),
                phrases=draw(TEXTS),
                patterns=draw(st.lists(TEXT.map(re.escape), max_size=2)),
                colour=draw(st.none() | COLOUR),
                plain_name=draw(st.none() | TEXT),
                retired=draw(st.booleans()),
            )
        )
    return Codebook(name=draw(SOLID), version=draw(SOLID), title=draw(st.none() | TEXT),
                    description=draw(TEXT), licence=draw(st.none() | TEXT), codes=codes)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(codebooks())
def test_yaml_round_trip_keeps_every_field(codebook: Codebook) -> None:
    assert validate_codebook(dump_codebook_yaml(codebook)) == codebook


def test_dump_is_block_style_and_keeps_unicode(tmp_path: Path) -> None:
    codebook = Codebook(name="d", version="1", codes=[
        Code(id="café", name="Café culture – ‘sociable’", definition="Line one\nline two\n",
             examples=["Ça va — très bien", "😀 fine"])])  # fmt: skip
    text = dump_codebook_yaml(codebook)
    assert "Café culture – ‘sociable’" in text and "😀 fine" in text
    assert "definition: |" in text and "  - id: café" in text and "{" not in text
    path = save_codebook(codebook, tmp_path / "sub" / "c.yaml")
    assert load_codebook(path) == codebook


def test_version_hash_is_short_stable_and_content_sensitive() -> None:
    codebook = validate_codebook(VALID)
    assert codebook_version_hash(codebook) == codebook_version_hash(validate_codebook(VALID))
    assert re.fullmatch(r"[0-9a-f]{12}", codebook_version_hash(codebook))
    changed = codebook.model_copy(deep=True)
    changed.codes[1].examples.append("another")
    assert codebook_version_hash(changed) != codebook_version_hash(codebook)


# ----------------------------------------------------------------------------------- hierarchy


def tree_codebook() -> Codebook:
    def code(code_id: str, parent: str | None = None) -> Code:
        return Code(id=code_id, name=code_id.upper(), parent=parent, definition="d")

    return Codebook(
        name="t", codes=[code("a"), code("a1", "a"), code("a1x", "a1"), code("a2", "a"), code("b")]
    )


def test_children_ancestors_and_descendants() -> None:
    codebook = tree_codebook()
    assert [c.id for c in children(codebook, None)] == ["a", "b"]
    assert [c.id for c in children(codebook, "a")] == ["a1", "a2"]
    assert [c.id for c in ancestors(codebook, "a1x")] == ["a1", "a"]
    assert ancestors(codebook, "b") == []
    assert [c.id for c in descendants(codebook, "a")] == ["a1", "a1x", "a2"]
    assert [c.id for c in leaf_codes(codebook)] == ["a1x", "a2", "b"]
    with pytest.raises(KeyError):
        children(codebook, "zzz")


def test_code_tree_nests_in_file_order() -> None:
    tree = code_tree(tree_codebook())
    assert [(node.code.id, [child.code.id for child in node.children]) for node in tree] == [
        ("a", ["a1", "a2"]),
        ("b", []),
    ]
    assert [grandchild.code.id for grandchild in tree[0].children[0].children] == ["a1x"]


# ----------------------------------------------------------------------------------------- CLI

runner = CliRunner()


@pytest.mark.parametrize("command", ["validate", "show", "import", "export"])
def test_every_codebook_command_has_help_with_an_example(command: str) -> None:
    result = runner.invoke(app, ["codebook", command, "--help"])
    assert result.exit_code == 0
    assert "Example: narratives codebook" in result.output


def test_cli_validate_reports_ok_and_problems(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(VALID, encoding="utf-8")
    result = runner.invoke(app, ["codebook", "validate", str(good)])
    assert result.exit_code == 0 and "OK" in result.output and "2 codes" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(VALID.replace("    definition: Getting help at all.\n", ""), encoding="utf-8")
    result = runner.invoke(app, ["codebook", "validate", str(good), str(bad)])
    assert result.exit_code == 1
    assert "E401" in result.output and "line 4" in result.output and "Traceback" not in result.output


def test_cli_show_prints_the_tree() -> None:
    result = runner.invoke(app, ["codebook", "show", str(CODEBOOKS / "social-care-lived-experience.yaml")])
    assert result.exit_code == 0, result.output
    assert "Gatekeeping and the professional gift" in result.output and "examples" in result.output


def test_cli_export_writes_csv_and_yaml(tmp_path: Path) -> None:
    source = CODEBOOKS / "making-it-real.yaml"
    for name in ("mir.csv", "mir.yaml"):
        result = runner.invoke(app, ["codebook", "export", str(source), "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    assert (tmp_path / "mir.csv").read_text(encoding="utf-8").startswith("id,name,parent,definition")
    assert load_codebook(tmp_path / "mir.yaml") == load_codebook(source)


def test_cli_library_errors_are_one_clean_message(tmp_path: Path) -> None:
    result = runner.invoke(app, ["codebook", "show", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 1
    assert "E414" in result.output and "Traceback" not in result.output
