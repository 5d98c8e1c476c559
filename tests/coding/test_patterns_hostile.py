"""Codebook patterns that cannot hang a run: Python's meaning, RE2's time, a limit on the rest."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from narratives.cli.app import app
from narratives.codebook.lint import pattern_warnings
from narratives.coding.patterns import PatternIndex, translate
from narratives.coding.phrase import PhraseCoder
from narratives.schema import Code, Codebook

pytestmark = pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")

TEXTS = [
    "Our Personal Budget was cut to £40 a week.",
    "Mum’s carer — Sandra — said we’d wait; café staff were kind.",
    "Cafés closed. The ÉCOLE run, naïve plans, 12 or ١٢ pounds.",
    "She waited\u00a0six months\tfor an assessment\nthen rang again.\n",
    "aaaa aab ab_c foo-bar x{,2} {3} a{b",
    "A personal budget at the cafe; we wait, waited (ab) and personal budgets_ again.",
    "İstanbul: we waited, WAITED and waiting.",
    "",
]
PATTERNS = [
    r"£\d+",
    r"\bpersonal budgets?\b",
    r"\bcaf\w*",
    r"\w+’s",
    r"\d+",
    r"\s+",
    r"\S+\s\S+",
    r"[\w-]+",
    r"[^\w\s]+",
    r"\W",
    r"\D{3}",
    r"wait(?:ed|ing)?",
    r"(?<!a)ab",
    r"(?=wait)\w+",
    r"(\w)\1",
    r"(?P<x>a)(?P=x)",
    r"a{,2}b",
    r"x\{,2\}",
    r"a{b",
    r"\{3}",
    r"again\.?$",
    r"(?m)^\w+",
    r"\Aour",
    r"pounds\.\Z",
    r"(?>a+)b",
    r"a++b",
    r"\u00e9\w*",
    r"[\u00e9e]cole",
    r"[[:alpha:]]+",
    r"a*",
    r"(?s:.)+?d",
    r"na[ï]ve",
    r"\x61+",
    r"[]a]+",
    r"(?i:café)",
    r"\bé\w*",
]


def python_spans(pattern: str, text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(pattern, text, re.IGNORECASE) if m.end() > m.start()]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_patterns_match_exactly_as_python_re_does(pattern: str) -> None:
    index = PatternIndex([("c", pattern)])
    for text in TEXTS:
        assert [(s, e) for _, s, e in index.spans(text)] == python_spans(pattern, text), text
    assert index.problems == []


def test_many_patterns_together_match_as_each_alone() -> None:
    index = PatternIndex([(f"c{k}", pattern) for k, pattern in enumerate(PATTERNS)])
    for text in TEXTS:
        expected = sorted(
            (f"c{k}", s, e) for k, pattern in enumerate(PATTERNS) for s, e in python_spans(pattern, text)
        )
        assert sorted(index.spans(text)) == expected


@pytest.mark.parametrize(
    ("pattern", "exact_in_re2", "ascii_only"),
    [
        (r"(a+)+$", True, False),
        (r"\bword\b", True, True),
        (r"(?=a)b", False, False),
        (r"\w+", True, False),
        (r"(?x) a", False, False),
    ],
)
def test_translation_says_which_patterns_re2_runs_exactly(
    pattern: str, exact_in_re2: bool, ascii_only: bool
) -> None:
    translation = translate(pattern)
    assert (translation.exact is not None) is exact_in_re2 and translation.ascii_only is ascii_only


@pytest.mark.parametrize("pattern", PATTERNS)
def test_every_translation_compiles_in_re2(pattern: str) -> None:
    import re2

    translation = translate(pattern)
    assert translation.loose is not None
    for form in (translation.exact, translation.loose):
        if form is not None:
            re2.compile(form)  # raises if RE2 cannot build it (the coder would fall back silently)


def hostile_codebook() -> Codebook:
    return Codebook(
        name="hostile",
        codes=[
            Code(id="nested", name="Nested", definition="RE2 runs it.", patterns=[r"(a+)+$"]),
            Code(id="overlap", name="Overlap", definition="Only regex can.", patterns=[r"(?=a)(a|aa)+$"]),
            Code(id="money", name="Money", definition="Costs.", patterns=[r"£\d+"], phrases=["budget"]),
        ],
    )


def test_catastrophic_patterns_finish_and_the_slow_one_is_reported_once() -> None:
    coder = PhraseCoder(timeout=0.05).fit(hostile_codebook())
    texts = ["a" * 40 + "b", "a" * 41 + "b", "£40 from the budget", "a" * 5]
    output = coder.predict(texts)
    assert output.code_ids == ["nested", "overlap", "money"]
    assert output.scores[0, 0] == 0 and output.scores[0, 1] == 0  # no match, no hang
    assert output.scores[2, 2] > 0.9 and output.evidence[(2, 2)].text == "£40"
    assert output.scores[3, 0] > 0  # "aaaaa" ends the text: the nested pattern still matches
    [problem] = coder.problems_
    assert problem.code_id == "overlap" and problem.pattern == r"(?=a)(a|aa)+$"
    assert "simplify" in problem.fix and "overlap" in str(problem)
    assert output.scores[3, 1] == 0  # skipped for the rest of the run, though it would match
    coder.predict(["a" * 40 + "b"])
    assert len(coder.problems_) == 1


def test_a_pattern_that_does_not_compile_is_reported_not_raised() -> None:
    book = Codebook(name="b", codes=[Code(id="x", name="X", definition="D.", patterns=["(unclosed", "ok"])])
    coder = PhraseCoder().fit(book)
    assert coder.predict(["it is OK"]).evidence[(0, 0)].text == "OK"
    [problem] = coder.problems_
    assert problem.code_id == "x" and "not a valid regular expression" in problem.reason


@pytest.mark.parametrize(
    "pattern", [r"(a+)+$", r"(a*)*", r"(a|aa)+", r"(.*a){3}", r"(?:\w+\s?)+$", r"(ab|a)+", r"(x+x+)+y"]
)
def test_validate_warns_about_nested_quantifiers(pattern: str) -> None:
    book = Codebook(name="b", codes=[Code(id="risky", name="R", definition="D.", patterns=[pattern])])
    [warning] = pattern_warnings(book, "book.yaml")
    assert warning.code.startswith("W") and "risky" in str(warning) and repr(pattern) in str(warning)


@pytest.mark.parametrize(
    "pattern", [r"£\d+", r"\bpersonal budgets?\b", r"(cat|dog)+", r"(?:ab)+c", r"a{2,3}"]
)
def test_validate_leaves_safe_patterns_alone(pattern: str) -> None:
    book = Codebook(name="b", codes=[Code(id="safe", name="S", definition="D.", patterns=[pattern])])
    assert pattern_warnings(book, "book.yaml") == []


def test_codebook_validate_prints_the_warning_and_still_passes(tmp_path: Path) -> None:
    path = tmp_path / "book.yaml"
    path.write_text(
        "name: b\nversion: '1'\ncodes:\n  - id: risky\n    name: Risky\n    definition: D.\n"
        "    patterns:\n      - '(a+)+$'\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["codebook", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output and "risky" in result.output and "(a+)+$" in result.output


def test_narratives_code_finishes_on_hostile_patterns_and_prints_the_skipped_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import narratives.embed
    from narratives.codebook.files import save_codebook
    from narratives.store.project import init_project
    from tests.builders.themes import FakeEmbedder, add_documents

    monkeypatch.setattr(narratives.embed, "load_embedder", lambda name=None: FakeEmbedder())  # no model
    project = init_project(tmp_path / "project")
    add_documents(project, [["a" * 40 + "b", "It cost £40 from the budget.", "a" * 40 + "b again"]])
    project.close()
    book = save_codebook(hostile_codebook(), tmp_path / "hostile.yaml")
    args = ["code", str(tmp_path / "project"), "--codebook", str(book), "--user", "ana"]
    result = CliRunner().invoke(app, args, terminal_width=300)
    assert result.exit_code == 0, result.output
    assert "3 of 3" in result.output
    assert result.output.count("warning:") == 1
    assert "overlap" in result.output and "(a|aa)+$" in result.output and "simplify" in result.output
