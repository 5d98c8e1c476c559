"""Parent themes count what their sub-codes carry: distinct segments and participants, never a sum.

A hand-made study, on SQLite and PostgreSQL: a three-level codebook

    services            (level 0)
      access            (level 1; also applied directly once)
        waiting         (level 2)
        paperwork       (level 2)
        forms           (level 2, retired: carries nothing)
      staff             (level 1)
    family              (level 0, no sub-codes)

and what each sentence carries now (machine scores at or above 0.5 unless said otherwise):

    P1 wave 1  s1 "I waited a year and filled endless paperwork."  waiting, paperwork  (two sub-codes of access)
               s2 "The staff were kind but I waited again."        staff, waiting; paperwork rejected
    P1 wave 2  s3 "Still waiting now."                             waiting
    P2 wave 1  s4 "Paperwork everywhere I look."                   paperwork
               s5 "My family helps me."                            family
    P3 wave 1  s6 "Access is just hard here."                      access added by hand, and waiting
               s7 "Forms again and again."                         forms (retired) only; waiting at 0.3

So, by hand: waiting s1 s2 s3 s6 (4 segments; P1 P3), paperwork s1 s4 (2; P1 P2), access s1 s2 s3 s4 s6
(5, not 4 + 2 + 1 = 7; P1 P2 P3), staff s2 (1; P1), services s1 s2 s3 s4 s6 (5, not 5 + 1; 3 people),
family s5 (1; P2). Every figure below is one of these.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from narratives.analysis.coded import carried_codes, code_hierarchy, coded_segments, hierarchy_of
from narratives.analysis.crosstab import themes_by_attribute, themes_by_wave
from narratives.analysis.overview import Scope, code_frequency, overview
from narratives.analysis.quotes import exemplar_quotes
from narratives.codebook.edits import retire_code
from narratives.interop.tables import code_document_matrix, codebook_frame, coded_table
from narratives.schema import Attribute, Code, Codebook, Decision, Document, Segment, SegmentUnit, SourceKind
from narratives.store.project import Project, init_project
from tests.builders.project import Cell, ProjectBuilder
from tests.store.conftest import PG_URL, _drop_pg_database, _fresh_pg_database

BOOK = "rollup"

CODES = [
    Code(id="services", name="Services", definition="Support services."),
    Code(id="access", name="Access", parent="services", definition="Getting support."),
    Code(id="waiting", name="Waiting", parent="access", definition="Long waits."),
    Code(id="paperwork", name="Paperwork", parent="access", definition="Forms and admin."),
    Code(id="forms", name="Forms", parent="access", definition="Retired: folded into paperwork."),
    Code(id="staff", name="Staff", parent="services", definition="Care workers."),
    Code(id="family", name="Family", definition="Families and carers."),
]

S1 = "I waited a year and filled endless paperwork."
S2 = "The staff were kind but I waited again."
S3 = "Still waiting now."
S4 = "Paperwork everywhere I look."
S5 = "My family helps me."
S6 = "Access is just hard here."
S7 = "Forms again and again."


def _document(participant: str, wave: int, need: str, *sentences: str) -> Document:
    return Document(
        kind=SourceKind.interview,
        title=f"{participant} wave {wave}",
        text=" ".join(sentences),
        participant=participant,
        wave=wave,
        participant_attributes=[Attribute.of("need_group", need)],
    )


DOCUMENTS = [
    _document("P1", 1, "A", S1, S2),
    _document("P1", 2, "A", S3),
    _document("P2", 1, "B", S4, S5),
    _document("P3", 1, "B", S6, S7),
]

MACHINE = [
    (S1, "waiting", 0.9),
    (S1, "paperwork", 0.8),
    (S2, "staff", 0.7),
    (S2, "waiting", 0.55),
    (S2, "paperwork", 0.8),  # rejected below
    (S3, "waiting", 0.6),
    (S4, "paperwork", 0.9),
    (S5, "family", 0.8),
    (S6, "waiting", 0.75),
    (S7, "forms", 0.9),  # retired below
    (S7, "waiting", 0.3),  # below the threshold
]


def _sentences(document_id: int, document: Document) -> list[Segment]:
    found = []
    for match in re.finditer(r"\S[^.]*\.", document.text):
        found.append(
            Segment(
                document_id=document_id,
                unit=SegmentUnit.sentence,
                index=len(found),
                start=match.start(),
                end=match.end(),
                text=match.group(),
            )
        )
    return found


@dataclass
class Rollup:
    project: Project
    ids: dict[str, int]  # sentence -> segment id

    def texts(self, segment_ids) -> set[str]:
        by_id = {i: text for text, i in self.ids.items()}
        return {by_id[int(i)] for i in segment_ids}


def _build(project: Project) -> Rollup:
    with project.begin() as connection:
        build = ProjectBuilder(connection, codebook=BOOK)
        build.add_documents(DOCUMENTS, split=_sentences)
        build.store_codebook(Codebook(name=BOOK, codes=CODES))
        ids = build.segment_ids()
        run = build.coding_run(
            [Cell(ids[text], code, score) for text, code, score in MACHINE],
            config={"settings": {"threshold": 0.5}},
        )
        rejected = run.suggestion_ids[MACHINE.index((S2, "paperwork", 0.8))]
        build.review(ids[S2], "paperwork", Decision.reject, user="ana", suggestion_id=rejected)
        build.review(ids[S6], "access", Decision.add, user="ana")
        retire_code(connection, BOOK, "forms", "ana")
    return Rollup(project, ids)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def rollup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rollup]:
    """The study above on each database backend."""
    if request.param == "sqlite":
        project = init_project(tmp_path / "project")
        yield _build(project)
        project.close()
        return
    if not PG_URL:
        pytest.skip("PostgreSQL tests skipped: set NARRATIVES_TEST_PG_URL (scripts/test.sh does)")
    url, name = _fresh_pg_database()
    project = init_project(tmp_path / "project", db_url=url)
    yield _build(project)
    project.close()
    _drop_pg_database(name)


SEGMENTS = {
    "services": {S1, S2, S3, S4, S6},
    "access": {S1, S2, S3, S4, S6},
    "waiting": {S1, S2, S3, S6},
    "paperwork": {S1, S4},
    "staff": {S2},
    "family": {S5},
}
PARTICIPANTS = {"services": 3, "access": 3, "waiting": 2, "paperwork": 2, "staff": 1, "family": 1}


def test_carried_codes_count_each_segment_once_per_ancestor(rollup: Rollup) -> None:
    with rollup.project.connect() as connection:
        carried = carried_codes(connection, BOOK)
    assert not carried.duplicated(["segment_id", "code_id"]).any()
    found = {code: rollup.texts(rows["segment_id"]) for code, rows in carried.groupby("code_id")}
    assert found == SEGMENTS  # no "forms": retired, to its parents too (S7 carries nothing)
    rows = carried.set_index(["segment_id", "code_id"])
    two = rows.loc[(rollup.ids[S1], "access")]
    assert (bool(two["direct"]), two["via"]) == (False, "paperwork, waiting")
    assert rows.loc[(rollup.ids[S1], "services"), "via"] == "paperwork, waiting"
    direct = rows.loc[(rollup.ids[S6], "access")]  # added by hand, and reached through waiting
    assert (bool(direct["direct"]), direct["via"], direct["source"]) == (True, "access, waiting", "reviewed")


def test_coded_segments_keep_to_the_codes_applied(rollup: Rollup) -> None:
    """What REFI-QDA and the long CSV export: a parent only where it was applied itself."""
    with rollup.project.connect() as connection:
        applied = coded_segments(connection, BOOK)
    assert set(applied["code_id"]) == {"access", "waiting", "paperwork", "staff", "family"}
    assert rollup.texts(applied.loc[applied["code_id"] == "access", "segment_id"]) == {S6}


def test_overview_frequency_counts_distinct_segments_and_participants(rollup: Rollup) -> None:
    with rollup.project.connect() as connection:
        frequency = code_frequency(connection, Scope(BOOK, unit="sentence"))
        figures = overview(connection, BOOK)
    found = {f.code_id: (f.segments, f.participants) for f in frequency}
    assert found == {code: (len(SEGMENTS[code]), PARTICIPANTS[code]) for code in SEGMENTS}
    # tree order, most first within a level; the level and parent of each
    assert [(f.code_id, f.level, f.parent, f.has_subcodes) for f in frequency] == [
        ("services", 0, None, True),
        ("access", 1, "services", True),
        ("waiting", 2, "access", False),
        ("paperwork", 2, "access", False),
        ("staff", 1, "services", False),
        ("family", 0, None, False),
    ]
    assert figures.coded.coded == 6  # every sentence but S7: parents add no segment of their own


def test_crosstab_counts_distinct_participants_per_group(rollup: Rollup) -> None:
    with rollup.project.connect() as connection:
        people = themes_by_attribute(connection, BOOK, "need_group")
        segments = themes_by_attribute(connection, BOOK, "need_group", unit_of_count="segments")

    def cells(frame, code):
        return {
            r.group: (int(r.count), int(r.group_size)) for r in frame[frame["code_id"] == code].itertuples()
        }

    # group A: P1 (S1 S2 S3); group B: P2 (S4 S5) and P3 (S6 S7)
    assert cells(people, "access") == {"A": (1, 1), "B": (2, 2)}
    assert cells(people, "services") == {"A": (1, 1), "B": (2, 2)}
    assert cells(people, "paperwork") == {"A": (1, 1), "B": (1, 2)}
    assert cells(segments, "access") == {"A": (3, 3), "B": (2, 4)}
    assert cells(segments, "services") == {"A": (3, 3), "B": (2, 4)}  # S1 and S2 once each
    first = people.drop_duplicates("code_id")
    assert first["code_id"].tolist() == ["services", "access", "waiting", "paperwork", "staff", "family"]
    assert first["level"].tolist() == [0, 1, 2, 2, 1, 0]
    assert first["parent"].tolist() == [None, "services", "access", "access", "services", None]


def test_waves_and_trajectories_follow_the_sub_codes(rollup: Rollup) -> None:
    with rollup.project.connect() as connection:
        tables = themes_by_wave(connection, BOOK)
    counts = {(r.code_id, r.wave): (r.participants, r.wave_participants) for r in tables.counts.itertuples()}
    assert counts[("access", 1)] == (3, 3) and counts[("access", 2)] == (1, 1)
    assert counts[("services", 1)] == (3, 3) and counts[("paperwork", 2)] == (0, 1)
    patterns = {(r.participant, r.code_id): r.pattern for r in tables.trajectories.itertuples()}
    assert patterns[("P1", "access")] == "every wave"  # waiting in both waves
    assert patterns[("P1", "paperwork")] == "disappears"
    assert ("P3", "forms") not in patterns and ("P3", "access") in patterns
    changes = tables.changes.set_index("code_id")
    assert changes.loc["access", ["participants_in_both", "persisted"]].tolist() == [1, 1]
    assert tables.counts["level"].max() == 2


def test_quotes_for_a_parent_come_from_its_sub_codes(rollup: Rollup) -> None:
    with rollup.project.connect() as connection:
        quotes = exemplar_quotes(connection, BOOK, "access", n=10, min_words=1, balance_by=["need_group"])
        retired = exemplar_quotes(connection, BOOK, "forms", n=10, min_words=1, balance_by=[])
    assert sorted(q.participant or "" for q in quotes) == ["P1", "P2", "P3"]  # one per person
    assert {q.text for q in quotes} <= SEGMENTS["access"]
    by_person = {q.participant: q for q in quotes}
    assert by_person["P2"].text == S4 and by_person["P2"].via == "paperwork"
    assert retired == []


def test_exports_show_parents_marked_and_counted(rollup: Rollup) -> None:
    with rollup.project.connect() as connection:
        matrix = code_document_matrix(connection, BOOK).set_index("document")
        table = coded_table(connection, BOOK)
        codebook = codebook_frame(connection, BOOK)
    columns = [c for c in matrix.columns if c not in {"document_id", "kind", "participant", "wave"}]
    assert columns == [
        "Services (incl. sub-codes)",
        "Access (incl. sub-codes)",
        "Waiting",
        "Paperwork",
        "Staff",
        "Family",
    ]
    assert matrix.loc["P1 wave 1", columns].tolist() == [2, 2, 2, 1, 1, 0]
    assert matrix.loc["P3 wave 1", columns].tolist() == [1, 1, 1, 0, 0, 0]  # S7's forms: retired
    waiting = table[table["code_id"] == "waiting"].iloc[0]
    assert (waiting["level"], waiting["ancestors"]) == (2, "services > access")
    assert len(table) == 9  # applied pairs only: S1 x2, S2 x2, S3, S4, S5, S6 x2
    assert codebook[["code_id", "level"]].values.tolist() == [
        ["services", 0],
        ["access", 1],
        ["waiting", 2],
        ["paperwork", 2],
        ["staff", 1],
        ["family", 0],
    ]


def test_hierarchy_steps_over_a_retired_code_and_survives_a_cycle() -> None:
    codes = [
        Code(id="top", name="Top", definition="t"),
        Code(id="middle", name="Middle", parent="top", definition="m", retired=True),
        Code(id="leaf", name="Leaf", parent="middle", definition="l"),
        Code(id="x", name="X", parent="y", definition="x"),
        Code(id="y", name="Y", parent="x", definition="y"),
    ]
    hierarchy = hierarchy_of(codes)
    assert [c.id for c in hierarchy.codes] == ["top", "leaf", "x", "y"]
    assert hierarchy.parent["leaf"] == "top" and hierarchy.level("leaf") == 1
    assert hierarchy.ancestors["x"] == ("y",) and hierarchy.ancestors["y"] == ("x",)
    assert hierarchy.has_subcodes("top") and not hierarchy.has_subcodes("leaf")


def test_hierarchy_of_the_store_matches_the_codebook(rollup: Rollup) -> None:
    with rollup.project.connect() as connection:
        hierarchy = code_hierarchy(connection, BOOK)
    assert "forms" not in hierarchy.parent
    assert hierarchy.ancestors["waiting"] == ("access", "services")
