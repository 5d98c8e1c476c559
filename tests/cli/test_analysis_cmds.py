"""`narratives crosstab` and `narratives waves` print sub-codes under their parent theme, and the
parent's counts are distinct units (never the sum of its sub-codes'), on a small hand-made project:

    access        (level 0)        family   (level 0)
      waiting     (level 1)
      paperwork   (level 1)

    P1 (need A) wave 1  s1 "I waited a year and the paperwork never ends."  waiting, paperwork
                wave 2  s2 "Still waiting now."                             waiting
    P2 (need A) wave 1  s3 "The forms are endless."                         paperwork
    P3 (need B) wave 1  s4 "I waited months." s5 "The forms came twice."    waiting; paperwork
                wave 2  s6 "My family helps."                               family

By hand: access in group A reaches P1 and P2 (2 people, not waiting 1 + paperwork 2 = 3) through
s1, s2, s3 (3 segments, not 2 + 2 = 4); in wave 1 it reaches P1, P2, P3 (3, not 2 + 3 = 5).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from narratives.cli import app
from narratives.schema import Attribute, Code, Codebook, Document, Segment, SegmentUnit, SourceKind
from narratives.store.project import Project, init_project
from tests.builders.project import Cell, ProjectBuilder

BOOK = "care"
CODES = [
    Code(id="access", name="Access", definition="Getting support."),
    Code(id="waiting", name="Waiting", parent="access", definition="Long waits."),
    Code(id="paperwork", name="Paperwork", parent="access", definition="Forms and admin."),
    Code(id="family", name="Family", definition="Families and carers."),
]
S1 = "I waited a year and the paperwork never ends."
S2 = "Still waiting now."
S3 = "The forms are endless."
S4 = "I waited months."
S5 = "The forms came twice."
S6 = "My family helps."
CODED = [(S1, "waiting"), (S1, "paperwork"), (S2, "waiting"), (S3, "paperwork"), (S4, "waiting")]
CODED += [(S5, "paperwork"), (S6, "family")]


def _document(participant: str, wave: int, need: str, *sentences: str) -> Document:
    return Document(
        kind=SourceKind.interview,
        title=f"{participant} wave {wave}",
        text=" ".join(sentences),
        participant=participant,
        wave=wave,
        participant_attributes=[Attribute.of("need_group", need)],
    )


def _sentences(document_id: int, document: Document) -> list[Segment]:
    return [
        Segment(
            document_id=document_id,
            unit=SegmentUnit.sentence,
            index=i,
            start=match.start(),
            end=match.end(),
            text=match.group(),
        )
        for i, match in enumerate(re.finditer(r"\S[^.]*\.", document.text))
    ]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    made = init_project(tmp_path / "project")
    with made.begin() as connection:
        build = ProjectBuilder(connection, codebook=BOOK)
        build.add_documents(
            [
                _document("P1", 1, "A", S1),
                _document("P1", 2, "A", S2),
                _document("P2", 1, "A", S3),
                _document("P3", 1, "B", S4, S5),
                _document("P3", 2, "B", S6),
            ],
            split=_sentences,
        )
        build.store_codebook(Codebook(name=BOOK, codes=CODES))
        ids = build.segment_ids()
        build.coding_run(
            [Cell(ids[text], code, 0.9) for text, code in CODED], config={"settings": {"threshold": 0.5}}
        )
    made.close()
    return made


def rows(output: str, title: str) -> list[list[str]]:
    """The body rows of the rich table titled ``title`` (the header's bars differ): its cells, stripped."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if title in line)
    found = []
    for line in lines[start + 1 :]:
        if line.startswith("└"):
            break
        if line.startswith("│"):
            found.append([cell.strip() for cell in line.strip("│").split("│")])
    return found


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_crosstab_lists_sub_codes_under_their_parent_with_distinct_participants(project: Project) -> None:
    output = run("crosstab", str(project.path), "--by", "need_group")
    table = rows(output, "Themes by need_group (participants)")
    assert [r[0] for r in table] == [
        "Access",
        "Access",
        "↳ Waiting",
        "↳ Waiting",
        "↳ Paperwork",
        "↳ Paperwork",
        "Family",
        "Family",
    ]
    counts = {(theme, level, group): count for theme, level, group, _, count, *_ in table}
    assert counts[("Access", "0", "A")] == "2"  # P1 and P2, not waiting 1 + paperwork 2
    assert counts[("Access", "0", "B")] == "1"  # P3, not 1 + 1
    assert counts[("↳ Waiting", "1", "A")] == "1" and counts[("↳ Paperwork", "1", "A")] == "2"


def test_crosstab_counts_a_segment_with_two_sub_codes_once_for_the_parent(project: Project) -> None:
    output = run("crosstab", str(project.path), "--by", "need_group", "--count", "segments")
    table = rows(output, "Themes by need_group (segments)")
    counts = {(theme, group): count for theme, _, group, _, count, *_ in table}
    assert counts[("Access", "A")] == "3"  # s1, s2, s3, not waiting 2 + paperwork 2
    assert counts[("↳ Waiting", "A")] == "2" and counts[("↳ Paperwork", "A")] == "2"


def test_waves_list_sub_codes_under_their_parent_with_distinct_participants(project: Project) -> None:
    output = run("waves", str(project.path), "--trajectories")
    counts = {(r[0], r[1], r[2]): r[3] for r in rows(output, "Themes by wave (participants)")}
    assert list(dict.fromkeys(theme for theme, _, _ in counts)) == [
        "Access",
        "↳ Waiting",
        "↳ Paperwork",
        "Family",
    ]
    assert counts[("Access", "0", "1")] == "3"  # P1, P2, P3, not waiting 2 + paperwork 3
    assert counts[("↳ Waiting", "1", "1")] == "2" and counts[("↳ Paperwork", "1", "1")] == "3"
    assert counts[("Access", "0", "2")] == "1"  # P1 still waiting; P3 speaks only of family
    changes = {r[0]: r[4:] for r in rows(output, "Between waves (participants in both)")}
    assert changes["Access"] == ["2", "1", "0", "1"]  # P1 and P3 in both: P1 stays, P3 drops it
    trajectories = rows(output, "Trajectories")
    assert ["P1", "Access", "0", "1, 2", "1, 2", "every wave"] in trajectories
    assert ["P1", "↳ Paperwork", "1", "1", "1, 2", "disappears"] in trajectories
