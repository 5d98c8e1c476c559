"""REFI-QDA export: valid against Project.xsd, stable GUIDs, and export -> import round trips."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from narratives.interop.refi_qda import NS, SCHEMA_PATH, export_codebook_qdc, export_qdpx, schema_errors
from narratives.interop.refi_qda_import import import_qdpx_codebook, import_qdpx_codings
from narratives.review.record import record_review
from narratives.schema import Code, Codebook, Decision, Document, Review, Segment, SegmentUnit, SourceKind
from narratives.store.codebooks import store_codebook
from narratives.store.documents import save_document
from narratives.store.project import init_project
from narratives.store.segments import load_segments, save_segments
from tests.builders.study import CODEBOOK, CODES, DOCUMENTS, Study

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "refi_qda"


def _qde(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read("project.qde")


def test_export_is_valid_against_the_schema(study: Study, tmp_path: Path) -> None:
    summary = export_qdpx(
        study.project, CODEBOOK, tmp_path / "study.qdpx", user="Researcher", include_machine=True
    )
    xml = _qde(summary.path)
    assert schema_errors(xml) == []
    schema = etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))
    assert schema.validate(etree.fromstring(xml))
    assert (summary.codes, summary.sources, summary.selections, summary.codings) == (5, 8, 12, 12)
    assert (summary.cases, summary.notes) == (5, 1)


def test_reviewed_only_by_default(study: Study, tmp_path: Path) -> None:
    summary = export_qdpx(study.project, CODEBOOK, tmp_path / "study.qdpx", user="Researcher")
    assert summary.codings == 2  # the accepted wait and the hand-coded paperwork
    sources = {s.name: s for s in import_qdpx_codings(summary.path)}
    assert [(x.text, x.codes) for x in sources["Survey answer R2"].selections] == [
        ("explains the paperwork", ["Paperwork"])
    ]


def test_codebook_hierarchy_descriptions_and_colours(study: Study, tmp_path: Path) -> None:
    path = export_qdpx(study.project, CODEBOOK, tmp_path / "study.qdpx", user="R").path
    imported = import_qdpx_codebook(path)
    by_name = {c.name: c for c in imported.codes}
    assert set(by_name) == {c.name for c in CODES}
    assert by_name["Waiting for help"].parent == by_name["Access to support"].id
    assert by_name["Paperwork"].definition == "Forms & <admin>."
    assert by_name["Continuity of care"].colour == "#1f77b4"


def test_cases_variables_notes_and_users(study: Study, tmp_path: Path) -> None:
    root = etree.fromstring(
        _qde(export_qdpx(study.project, CODEBOOK, tmp_path / "s.qdpx", user="R", include_machine=True).path)
    )
    ns = {"q": NS}
    assert [c.get("name") for c in root.findall("q:Cases/q:Case", ns)] == ["P1", "P2", "P3", "R1", "R2"]
    p1 = root.find("q:Cases/q:Case[@name='P1']", ns)
    assert len(p1.findall("q:SourceRef", ns)) == 2
    assert sorted(v.get("name") for v in root.findall("q:Variables/q:Variable", ns)) == [
        "council",
        "need_group",
        "question",
        "source kind",
        "wave",
    ]
    note = root.find("q:Notes/q:Note", ns)
    assert note.findtext("q:PlainTextContent", namespaces=ns) == "Eight months — “far too long”."
    # QualCoder's importer needs a note's creationDateTime; the memo is referenced from its coding
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", note.get("creationDateTime"))
    users = {u.get("guid"): u.get("name") for u in root.findall("q:Users/q:User", ns)}
    assert users[note.get("creatingUser")] == "Aisha"
    refs = root.findall(".//q:PlainTextSelection/q:Coding/q:NoteRef", ns)
    assert [r.get("targetGUID") for r in refs] == [note.get("guid")]
    selection = refs[0].getparent().getparent()
    # ... and kept in the selection's Description, where QualCoder reads a coding's memo
    assert selection.findtext("q:Description", namespaces=ns) == "Eight months — “far too long”."
    assert users[selection.get("creatingUser")] == "Aisha"
    assert set(users.values()) == {"R", "Aisha", "narratives (machine)"}


def test_re_export_is_byte_identical(study: Study, tmp_path: Path) -> None:
    first = export_qdpx(study.project, CODEBOOK, tmp_path / "a.qdpx", user="R", include_machine=True).path
    second = export_qdpx(study.project, CODEBOOK, tmp_path / "b.qdpx", user="R", include_machine=True).path
    assert first.read_bytes() == second.read_bytes()


def test_coded_spans_round_trip_with_non_ascii(study: Study, tmp_path: Path) -> None:
    path = export_qdpx(study.project, CODEBOOK, tmp_path / "s.qdpx", user="R", include_machine=True).path
    sources = {s.name: s for s in import_qdpx_codings(path)}
    originals = {d.title: d.text for d in DOCUMENTS}
    for name, source in sources.items():
        assert source.text == originals[name]
    emoji = sources["Interview P2 wave 2"].selections[1]
    assert emoji.text == "Getting the ramp fitted took a whole year of waiting 🙂."
    assert emoji.end == originals["Interview P2 wave 2"].index("🙂") + 2  # code points, not UTF-16 units


def test_codebook_qdc_round_trip_and_structure(tmp_path: Path) -> None:
    codebook = Codebook(name="study", codes=CODES)
    path = export_codebook_qdc(codebook, tmp_path / "study.qdc")
    root = etree.parse(str(path)).getroot()
    assert root.tag == "{urn:QDA-XML:codebook:1.0}CodeBook"
    # the Code elements follow the project schema's CodeType: check them inside a minimal project
    project = etree.fromstring(f'<Project xmlns="{NS}" name="x"><CodeBook/></Project>'.encode())
    codes = etree.fromstring(
        etree.tostring(root.find("{*}Codes")).replace(b"urn:QDA-XML:codebook:1.0", NS.encode())
    )
    project[0].append(codes)
    assert schema_errors(etree.tostring(project)) == []
    imported = import_qdpx_codebook(path)
    assert [(c.name, c.definition, c.colour) for c in imported.codes] == [
        (c.name, c.definition, c.colour) for c in (CODES[0], CODES[1], CODES[2], CODES[4], CODES[3])
    ]


names = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20
).filter(lambda s: s.strip() != "")
texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00\r"),
    min_size=1,
    max_size=120,
).filter(lambda s: all(c in "\t\n" or ord(c) >= 32 for c in s))


@st.composite
def coded_texts(draw: st.DrawFn) -> tuple[str, list[tuple[int, int]], list[str]]:
    text = draw(texts)
    spans = draw(
        st.lists(
            st.tuples(st.integers(0, len(text) - 1), st.integers(1, len(text))).map(
                lambda p: (min(p), max(p) if max(p) > min(p) else min(p) + 1)
            ),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    code_names = draw(st.lists(names, min_size=1, max_size=4, unique_by=lambda s: s.strip().lower()))
    return text, spans, code_names


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=coded_texts())
def test_export_then_import_gives_the_same_codes_and_spans(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[str, list[tuple[int, int]], list[str]]
) -> None:
    text, spans, code_names = case
    folder = tmp_path_factory.mktemp("roundtrip")
    project = init_project(folder / "p")
    codes = [Code(id=f"c{i}", name=name, definition=f"about {name}") for i, name in enumerate(code_names)]
    with project.begin() as connection:
        store_codebook(connection, Codebook(name="rt", codes=codes), "u")
        document_id = save_document(
            connection, Document(kind=SourceKind.blog, title="doc", text=text)
        ).document_id
        save_segments(
            connection,
            [
                Segment(
                    document_id=document_id,
                    unit=SegmentUnit.sentence,
                    index=i,
                    start=s,
                    end=e,
                    text=text[s:e],
                )
                for i, (s, e) in enumerate(spans)
            ],
            "test",
        )
        for i, segment in enumerate(load_segments(connection)):
            record_review(
                connection,
                Review(
                    segment_id=segment.id,
                    code_id=codes[i % len(codes)].id,
                    decision=Decision.add,
                    user="u",
                    codebook="rt",
                ),
                source="hand",
            )
    summary = export_qdpx(project, "rt", folder / "rt.qdpx", user="u")
    project.close()
    assert schema_errors(_qde(summary.path)) == []
    imported = import_qdpx_codebook(summary.path)
    assert [(c.name, c.definition) for c in imported.codes] == [(c.name, c.definition) for c in codes]
    (source,) = import_qdpx_codings(summary.path)
    assert source.text == text
    found = sorted((s.start, s.end, s.text, tuple(s.codes)) for s in source.selections)
    expected = sorted((s, e, text[s:e], (codes[i % len(codes)].name,)) for i, (s, e) in enumerate(spans))
    assert found == expected


def _counts(path: Path) -> tuple[int, int]:
    """Codes and codings in a .qdpx, counted from its XML."""
    root = etree.fromstring(_qde(path))
    return len(root.findall(".//{*}Code")), len(root.findall(".//{*}PlainTextSelection/{*}Coding"))


def test_imports_an_atlas_ti_codebook() -> None:
    path = FIXTURES / "atlasti-23-codebook-only.qdpx"
    codebook = import_qdpx_codebook(path)
    assert len(codebook.codes) == _counts(path)[0] == 3
    assert codebook.codes[0].name == "Commits"
    assert [c.parent for c in codebook.codes[1:]] == [codebook.codes[0].id] * 2
    assert import_qdpx_codings(path) == []


def test_imports_codings_written_by_qc() -> None:
    path = FIXTURES / "qc-1.3.2-coded-text.qdpx"
    codes, codings = _counts(path)
    codebook = import_qdpx_codebook(path)
    assert len(codebook.codes) == codes == 262
    assert len({c.id for c in codebook.codes}) == len(codebook.codes)  # duplicate names get distinct ids
    sources = import_qdpx_codings(path)
    assert all(s.text for s in sources)
    assert sorted(s.name for s in sources) == ["admin-1.txt", "board_2017.txt"]  # no name: the file name
    selections = [sel for s in sources for sel in s.selections]
    assert sum(len(sel.codes) for sel in selections) == codings == 205
    assert selections and all(
        0 <= sel.start < sel.end <= len(s.text or "") for s in sources for sel in s.selections
    )
    assert all(sel.codes for sel in selections)
