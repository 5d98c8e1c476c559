"""narratives import: a REFI-QDA project into a project, tolerant of other programs, safe, idempotent."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from narratives.errors import RefiImportError, StoreError
from narratives.interop.refi_qda import export_qdpx
from narratives.interop.refi_qda_import import import_refi
from narratives.review.state import live_reviews
from narratives.schema import Code, Codebook
from narratives.store.codebooks import current_codes, store_codebook
from narratives.store.documents import attribute_rows, document_texts
from narratives.store.project import Project, init_project
from narratives.store.segments import load_segments
from narratives.store.tables import documents, reviews
from tests.builders.study import CODEBOOK, Study

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "refi_qda"
U1, U2 = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
C1, C2 = "aaaaaaaa-0000-0000-0000-000000000001", "aaaaaaaa-0000-0000-0000-000000000002"
S1, N1 = "bbbbbbbb-0000-0000-0000-000000000001", "cccccccc-0000-0000-0000-000000000001"
TEXT = "Café first line.\r\nThe carer 🙂 came late again."


def _qde(sources: str, extra: str = "", dtd: str = "") -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>{dtd}
<Project xmlns="urn:QDA-XML:project:1.0" name="Other study" creatingUserGUID="{U1}">
  <Users><User guid="{U1}" name="Jo"/><User guid="{{{U2.upper()}}}" name="Sam"/></Users>
  <CodeBook><Codes>
    <Code guid="{C1}" name="Care" isCodable="true" color="#ff0000"><Description>About care</Description>
      <Code guid="{C2}" name="Lateness" isCodable="true"/></Code>
  </Codes></CodeBook>
  <Variables><Variable guid="dddddddd-0000-0000-0000-000000000001" name="age" typeOfVariable="Integer"/></Variables>
  <Cases><Case guid="eeeeeeee-0000-0000-0000-000000000001" name="P7">
    <VariableValue><VariableRef targetGUID="dddddddd-0000-0000-0000-000000000001"/><IntegerValue>81</IntegerValue></VariableValue>
    <SourceRef targetGUID="{S1}"/></Case></Cases>
  <Sources>{sources}</Sources>
  <Notes><Note guid="{N1}" name="memo" creatingUser="{U2}" creationDateTime="2024-03-01T10:00:00Z">
    <PlainTextContent>Late three times</PlainTextContent></Note></Notes>
  {extra}
</Project>"""


SELECTIONS = f"""
    <PlainTextSelection guid="f0000000-0000-0000-0000-000000000001" startPosition="18" endPosition="45.0">
      <Coding guid="f1000000-0000-0000-0000-000000000001" creatingUser="{U1}"><CodeRef targetGUID="{C2}"/></Coding>
      <Coding guid="f1000000-0000-0000-0000-000000000002" creatingUser="{U2}" creationDateTime="2024-03-01T09:00:00Z">
        <CodeRef targetGUID="{C2}"/><NoteRef targetGUID="{N1}"/></Coding>
    </PlainTextSelection>
    <PlainTextSelection guid="f0000000-0000-0000-0000-000000000002" startPosition="0" endPosition="16">
      <Description>QualCoder memo</Description>
      <Coding guid="f1000000-0000-0000-0000-000000000003" creatingUser="{U1}"><CodeRef targetGUID="{C1}"/></Coding>
    </PlainTextSelection>
    <PlainTextSelection guid="f0000000-0000-0000-0000-000000000003" startPosition="40" endPosition="400">
      <Coding guid="f1000000-0000-0000-0000-000000000004" creatingUser="{U1}"><CodeRef targetGUID="{C1}"/></Coding>
    </PlainTextSelection>"""


def _qdpx(path: Path, qde: str, files: dict[str, bytes] | None = None, qde_name: str = "project.qde") -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(qde_name, qde.encode("utf-8"))
        for name, data in (files or {}).items():
            archive.writestr(name, data)
    return path


def _source(path: str = "interview.txt") -> str:
    return f'<TextSource guid="{S1}" name="Interview P7" plainTextPath="{path}">{SELECTIONS}</TextSource>'


@pytest.fixture
def project(tmp_path: Path) -> Project:
    made = init_project(tmp_path / "p")
    yield made
    made.close()


def _count(project: Project, table) -> int:
    with project.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar() or 0)


def test_import_stores_documents_codes_participants_codings_and_memos(
    project: Project, tmp_path: Path
) -> None:
    extra = '<Sets><Set guid="99999999-0000-0000-0000-000000000001" name="Key codes"/></Sets>'
    files = {"Sources/interview.txt": TEXT.encode("utf-8")}  # capital S, and "320.0"-style positions
    pdf = '<PDFSource guid="99999999-0000-0000-0000-000000000002" name="scan.pdf" path="internal://x.pdf"/>'
    path = _qdpx(tmp_path / "other.qdpx", _qde(_source() + pdf, extra), files, "export/project.qde")
    summary = import_refi(project, path, user="importer")
    assert (summary.codebook, summary.codes_added, summary.documents_added) == ("other_study", 2, 1)
    assert (summary.codings_added, summary.memos, summary.participants) == (3, 2, 1)
    assert any("PDF source 'scan.pdf'" in line for line in summary.not_taken)
    assert any("set 'Key codes'" in line for line in summary.not_taken)
    assert any("positions 40-400 are not inside the text" in line for line in summary.problems)
    with project.connect() as connection:
        (doc,) = document_texts(connection)
        assert doc.text == TEXT and doc.title == "Interview P7"
        codes = {c.id: c for c in current_codes(connection, "other_study")}
        assert codes["lateness"].parent == "care" and codes["care"].colour == "#ff0000"
        assert codes["care"].definition == "About care"
        spans = {(s.start, s.end): s for s in load_segments(connection, document_id=doc.id)}
        assert set(spans) == {(0, 16), (18, 45)} and spans[(18, 45)].text == TEXT[18:45]
        found = {(r.user, r.code_id, r.segment_id, r.memo) for r in live_reviews(connection, "other_study")}
        late = spans[(18, 45)].id
        assert found == {
            ("Jo", "lateness", late, None),
            ("Sam", "lateness", late, "Late three times"),
            ("Jo", "care", spans[(0, 16)].id, "QualCoder memo"),
        }
        attributes = {(r.key, r.value) for r in attribute_rows(connection, current_only=True)}
        assert ("age", "81") in attributes


def test_importing_twice_adds_nothing_twice(project: Project, tmp_path: Path) -> None:
    path = _qdpx(tmp_path / "o.qdpx", _qde(_source()), {"sources/interview.txt": TEXT.encode()})
    import_refi(project, path, user="importer")
    counts = (_count(project, documents), _count(project, reviews))
    again = import_refi(project, path, user="importer")
    assert (again.documents_added, again.codings_added, again.codes_added, again.segments_added) == (
        0,
        0,
        0,
        0,
    )
    assert again.codings_known == 3
    assert (_count(project, documents), _count(project, reviews)) == counts


def test_a_cp1252_source_is_decoded_and_reported(project: Project, tmp_path: Path) -> None:
    files = {"sources/interview.txt": TEXT.replace("🙂", ":)").encode("cp1252")}
    summary = import_refi(project, _qdpx(tmp_path / "o.qdpx", _qde(_source()), files), user="i")
    assert any("not UTF-8; read as cp1252" in line for line in summary.problems)
    with project.connect() as connection:
        assert document_texts(connection)[0].text.startswith("Café first line.")


def test_a_missing_source_text_is_listed_not_dropped(project: Project, tmp_path: Path) -> None:
    summary = import_refi(project, _qdpx(tmp_path / "o.qdpx", _qde(_source("gone.txt"))), user="i")
    assert summary.documents_added == 0
    assert any(
        "'Interview P7': its text (gone.txt) is not in the archive" in line for line in summary.not_taken
    )


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("../evil.txt", b"x", "points outside the archive"),
        ("/etc/evil.txt", b"x", "points outside the archive"),
        ("sources/bomb.txt", b"\0" * (12 * 1024 * 1024), "zip bomb"),
    ],
)
def test_hostile_archives_are_refused(
    project: Project, tmp_path: Path, name: str, content: bytes, words: str
) -> None:
    path = tmp_path / "hostile.qdpx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", _qde(_source()))
        archive.writestr(name, content)
    with pytest.raises(RefiImportError, match=words) as raised:
        import_refi(project, path, user="i")
    assert raised.value.code == "E1160"
    assert _count(project, documents) == 0


def test_a_dtd_is_refused(project: Project, tmp_path: Path) -> None:
    dtd = '<!DOCTYPE Project [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    path = _qdpx(tmp_path / "o.qdpx", _qde(_source(), dtd=dtd), {"sources/interview.txt": TEXT.encode()})
    with pytest.raises(RefiImportError, match="declares a DTD"):
        import_refi(project, path, user="i")


def test_not_a_refi_file_says_so(project: Project, tmp_path: Path) -> None:
    path = tmp_path / "notes.qdpx"
    path.write_text("just words", encoding="utf-8")
    with pytest.raises(RefiImportError, match="not readable XML"):
        import_refi(project, path, user="i")


def test_a_refused_write_leaves_nothing_half_written(project: Project, tmp_path: Path) -> None:
    with project.begin() as connection:  # the database refuses reviews: documents and codes go first
        connection.execute(
            text(
                "CREATE TRIGGER no_reviews BEFORE INSERT ON reviews BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        )
    path = _qdpx(tmp_path / "o.qdpx", _qde(_source()), {"sources/interview.txt": TEXT.encode()})
    with pytest.raises(StoreError, match="nothing of it was stored"):
        import_refi(project, path, user="i")
    assert _count(project, documents) == 0
    with project.connect() as connection:
        assert current_codes(connection, "other_study") == []


def test_codes_already_in_the_codebook_are_reused(project: Project, tmp_path: Path) -> None:
    with project.begin() as connection:
        store_codebook(
            connection, Codebook(name="mine", codes=[Code(id="c1", name="care", definition="d")]), "u"
        )
    path = _qdpx(tmp_path / "o.qdpx", _qde(_source()), {"sources/interview.txt": TEXT.encode()})
    summary = import_refi(project, path, user="i", codebook="mine")
    assert summary.codes_added == 1  # "Care" is c1; "Lateness" is new, under it
    with project.connect() as connection:
        codes = {c.name: c for c in current_codes(connection, "mine")}
        assert codes["Lateness"].parent == "c1" and codes["care"].id == "c1"
        assert {r.code_id for r in live_reviews(connection, "mine")} == {"c1", "lateness"}


def test_our_export_imported_into_its_own_project_adds_nothing(study: Study, tmp_path: Path) -> None:
    exported = export_qdpx(study.project, CODEBOOK, tmp_path / "s.qdpx", user="R")
    with study.project.connect() as connection:
        before = (len(load_segments(connection)), len(live_reviews(connection, CODEBOOK)))
    summary = import_refi(study.project, exported.path, user="i", codebook=CODEBOOK)
    assert (summary.documents_added, summary.segments_added, summary.codes_added) == (0, 0, 0)
    assert (summary.codings_added, summary.codings_known) == (0, exported.codings)
    with study.project.connect() as connection:
        assert (len(load_segments(connection)), len(live_reviews(connection, CODEBOOK))) == before


def test_imports_every_code_and_coding_of_the_qc_sample(project: Project) -> None:
    summary = import_refi(project, FIXTURES / "qc-1.3.2-coded-text.qdpx", user="i")
    assert (summary.codes_added, summary.codings_added, summary.documents_added) == (262, 205, 2)
    assert summary.problems == [] and summary.not_taken == []
    with project.connect() as connection:
        found = live_reviews(connection, "qc_project")
        assert len(found) == 205 and {r.user for r in found} == {"cp"}


def test_imports_the_atlas_ti_codebook(project: Project) -> None:
    summary = import_refi(project, FIXTURES / "atlasti-23-codebook-only.qdpx", user="i")
    assert (summary.codes_added, summary.documents_added) == (3, 0)
    with project.connect() as connection:
        codes = current_codes(connection, "target_atlas_project")
        assert [c.parent for c in codes].count("commits") == 2


def test_two_sources_of_one_name_are_two_documents(project: Project, tmp_path: Path) -> None:
    second = _source().replace(S1, "bbbbbbbb-0000-0000-0000-000000000002").replace("interview.txt", "two.txt")
    files = {"sources/interview.txt": TEXT.encode(), "sources/two.txt": ("Two. " + TEXT).encode()}
    summary = import_refi(project, _qdpx(tmp_path / "o.qdpx", _qde(_source() + second), files), user="i")
    assert summary.documents_added == 2
    with project.connect() as connection:
        assert sorted(d.text for d in document_texts(connection)) == sorted([TEXT, "Two. " + TEXT])
