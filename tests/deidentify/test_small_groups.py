"""Small-group warnings: a quote whose speaker is one of fewer than 5 people in a group is flagged,
by the library, in the report (HTML, Markdown, CLI), in the quotes command and on the panel page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from narratives.analysis.small_groups import segment_small_groups, small_group_warnings
from narratives.cli import app
from narratives.interop.report import build_report, render_html, render_markdown
from narratives.review.record import record_review
from narratives.schema import (
    Attribute,
    Code,
    Codebook,
    Decision,
    Document,
    Review,
    Segment,
    SegmentUnit,
    SourceKind,
)
from narratives.store.codebooks import store_codebook
from narratives.store.documents import save_document
from narratives.store.project import Project, init_project
from narratives.store.segments import save_segments

CODEBOOK = "care"
APP = Path(__file__).resolve().parents[2] / "app.py"
# P1-P3 deafblind (3 people), P4-P8 physical (5 people); everyone in Northbridge; P1 alone in wave 2
PEOPLE = {f"P{i}": "deafblind" if i <= 3 else "physical" for i in range(1, 9)}
SAYINGS = [
    "my support worker comes on Mondays and we plan the week together over tea",
    "the council cut my hours last spring without asking what I needed first",
    "getting a direct payment meant I could finally choose who helps me shower",
    "nobody explained the assessment letter so my daughter had to ring them twice",
    "the day centre closing left me alone at home most afternoons now",
    "a new carer arrives every week and each one needs the routine explained again",
    "my personal budget pays for swimming which keeps my back from seizing up",
    "the review meeting felt like a test I could fail rather than a conversation",
    "since the second interview things settled and the same two people visit me",
]


@dataclass
class Study:
    project: Project
    documents: dict[tuple[str, int], int]  # (participant, wave) -> document id
    segments: dict[tuple[str, int], int]


def _add(connection, participant: str, wave: int, day: str, study: Study) -> None:
    text = f"{participant} says {day}."
    saved = save_document(
        connection,
        Document(
            kind=SourceKind.interview,
            title=f"{participant} wave {wave}",
            text=text,
            participant=participant,
            wave=wave,
            path=f"{participant}-{wave}.txt",
            participant_attributes=[
                Attribute.of("need_group", PEOPLE[participant]),
                Attribute.of("council", "Northbridge"),
            ],
        ),
    )
    segment = Segment(
        document_id=saved.document_id, unit=SegmentUnit.sentence, index=0, start=0, end=len(text), text=text
    )
    save_segments(connection, [segment], pipeline="test")
    study.documents[(participant, wave)] = saved.document_id


@pytest.fixture
def study(tmp_path: Path) -> Iterator[Study]:
    from narratives.store.segments import load_segments

    project = init_project(tmp_path / "groups")
    built = Study(project, {}, {})
    with project.begin() as connection:
        store_codebook(
            connection, Codebook(name=CODEBOOK, codes=[Code(id="support", name="Support")]), "setup"
        )
        for i, participant in enumerate(PEOPLE):
            _add(connection, participant, 1, SAYINGS[i], built)
        _add(connection, "P1", 2, SAYINGS[8], built)
        by_document = {s.document_id: s.id for s in load_segments(connection)}
        for where, document_id in built.documents.items():
            built.segments[where] = int(by_document[document_id] or 0)
            record_review(
                connection,
                Review(
                    segment_id=built.segments[where],
                    code_id="support",
                    decision=Decision.add,
                    user="ana",
                    codebook=CODEBOOK,
                ),
            )
    yield built
    project.close()


def _groups(found, document_id: int) -> set[tuple[tuple[str, str], ...]]:
    return {(g.attributes, g.size) for g in found.get(document_id, [])}


def test_speakers_in_groups_under_five_people_are_flagged(study: Study) -> None:
    ids = study.documents
    with study.project.connect() as connection:
        found = small_group_warnings(
            connection, list(ids.values()), ["need_group", "council", "age"], shown=("kind", "wave")
        )
    assert ids[("P4", 1)] not in found  # physical (5), Northbridge (8), interview (8), wave 1 (8)
    # three deafblind people, though four documents: people are counted, not documents
    assert _groups(found, ids[("P2", 1)]) == {((("need_group", "deafblind"),), 3)}
    assert _groups(found, ids[("P1", 2)]) == {
        ((("need_group", "deafblind"),), 3),
        ((("wave", "2"),), 1),
        ((("kind", "interview"), ("wave", "2")), 1),
    }
    message = found[ids[("P2", 1)]][0].message
    assert message == "the speaker is one of 3 people with need_group = deafblind: a quote may identify them."


def test_the_threshold_is_a_setting_and_unused_attributes_are_not_checked(study: Study) -> None:
    with study.project.connect() as connection:
        assert (
            small_group_warnings(connection, [study.documents[("P2", 1)]], ["need_group"], min_size=3) == {}
        )
        assert small_group_warnings(connection, [study.documents[("P2", 1)]], ["council"]) == {}
        by_segment = segment_small_groups(connection, [study.segments[("P3", 1)], study.segments[("P5", 1)]])
    assert list(by_segment) == [study.segments[("P3", 1)]]


def test_the_report_warns_beside_each_quote_from_a_small_group(study: Study) -> None:
    with study.project.connect() as connection:
        report = build_report(connection, CODEBOOK, quotes=9, deidentify=False)
    (theme,) = report.themes
    deafblind = {study.segments[(p, 1)] for p in ("P1", "P2", "P3")} | {study.segments[("P1", 2)]}
    assert theme.quotes and set(theme.small_groups) == {q.segment_id for q in theme.quotes} & deafblind
    assert any(q.segment_id not in deafblind for q in theme.quotes)
    flagged = sum(len(groups) for _, _, groups in report.small_group_quotes())
    page = render_html(report)
    assert page.count("⚠ Small group:") == flagged
    assert f"⚠ {len(theme.small_groups)} quotes come from people in a group of fewer than 5" in page
    assert render_markdown(report).count("**⚠ Small group:**") == flagged


def test_the_report_and_quotes_commands_print_the_warnings(study: Study, tmp_path: Path) -> None:
    runner = CliRunner()
    path = str(study.project.path)
    result = runner.invoke(app, ["report", path, "--out", str(tmp_path / "r.md"), "--keep-identifiers"])
    assert result.exit_code == 0, result.output
    assert "Small group" in result.output and "need_group = deafblind" in result.output
    result = runner.invoke(app, ["quotes", path, "--code", "support", "--n", "9"])
    assert result.exit_code == 0, result.output
    blocks = [b for b in result.output.split("\n\n") if "“" in b]
    assert blocks and all(
        ("Small group" in b) == any(f"{p} says" in b for p in ("P1", "P2", "P3")) for b in blocks
    )


def test_the_panel_page_warns_next_to_the_chosen_quote(monkeypatch, study: Study) -> None:
    monkeypatch.setenv("NARRATIVES_PROJECT", str(study.project.path))
    monkeypatch.setenv("NARRATIVES_USER", "ana")
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    at.switch_page("narratives/ui/pages/panel.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="panel_quote_code").set_value("support").run()
    picker = at.selectbox(key="panel_quote_segment")
    for where in (("P5", 1), ("P2", 1)):
        picker.set_value(study.segments[where]).run()
        assert not at.exception
        warnings = [str(w.value) for w in at.warning]
        small = [w for w in warnings if "need_group = deafblind" in w]
        assert bool(small) == (where == ("P2", 1)), warnings
