"""REFI-QDA round trip: export -> import into a fresh project -> export gives the same content.

Random small projects are written through the library (documents with non-ASCII text and CRLF line
ends, participants with typed attributes, a nested and coloured codebook, hand-coded spans by
several users, memos). Both exports are read back from their XML and compared as a normalised view
in which GUIDs are replaced by what they point at, so only a change of content can fail.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from narratives.interop.refi_qda import export_qdpx, schema_errors
from narratives.interop.refi_qda_import import import_refi
from narratives.review.record import hand_coding, record_hand_coding
from narratives.schema import Attribute, Code, Codebook, Decision, Document, Segment, SegmentUnit, SourceKind
from narratives.store.codebooks import store_codebook
from narratives.store.documents import save_document
from narratives.store.project import Project, init_project
from narratives.store.segments import load_segments, save_segments

LETTERS = "aéøßçЖж語 🙂—“”'&<>"
USERS = ("Zoë", "Sam", "Ольга")
KEYS = ("âge", "council", "групп", "carer")
words = st.text(st.sampled_from(LETTERS), min_size=1, max_size=12).filter(lambda s: s.strip() != "")
values = st.one_of(
    st.integers(-1000, 10**6),
    st.booleans(),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
    words,
)


@dataclass
class Span:
    document: int
    line: int
    start: int  # within the line
    end: int
    code: int
    user: str
    memo: str | None


@dataclass
class RandomProject:
    documents: list[Document]
    codes: list[Code]
    spans: list[Span]


@st.composite
def documents(draw: st.DrawFn, index: int) -> Document:
    lines = draw(st.lists(words, min_size=1, max_size=3))
    text = f"{index}. " + "\r\n".join(lines) + draw(st.sampled_from(["", "\r\n"]))
    participant = draw(st.sampled_from(["P1", "P2", "Zoë", None]))
    people = draw(st.dictionaries(st.sampled_from(KEYS[:2]), values, max_size=2)) if participant else {}
    own = draw(st.dictionaries(st.sampled_from(KEYS[2:]), values, max_size=2))
    return Document(
        kind=draw(st.sampled_from([SourceKind.interview, SourceKind.blog, SourceKind.survey])),
        title=draw(words),
        text=text,
        participant=participant,
        wave=draw(st.one_of(st.none(), st.integers(1, 3))),
        path=f"doc-{index}.txt",
        attributes=[Attribute.of(k, v) for k, v in own.items()],
        participant_attributes=[Attribute.of(k, v) for k, v in people.items()],
    )


@st.composite
def random_projects(draw: st.DrawFn) -> RandomProject:
    count = draw(st.integers(1, 3))
    docs = [draw(documents(i)) for i in range(count)]
    # a participant's attributes are theirs, whichever document says them: keep the first document's
    first: dict[str | None, list[Attribute]] = {}
    for doc in docs:
        doc.participant_attributes = first.setdefault(doc.participant, doc.participant_attributes)
    names = draw(st.lists(words, min_size=1, max_size=5, unique_by=lambda s: s.strip().casefold()))
    codes: list[Code] = []
    for i, name in enumerate(names):
        parent = draw(st.sampled_from([None, *(c.id for c in codes)]))
        colour = draw(st.one_of(st.none(), st.from_regex(r"\A#[0-9a-f]{6}\Z")))
        definition = draw(st.one_of(st.just(""), words))
        codes.append(Code(id=f"c{i}", name=name, parent=parent, definition=definition, colour=colour))
    spans = [draw(_spans(docs, len(codes))) for _ in range(draw(st.integers(1, 6)))]
    return RandomProject(docs, codes, spans)


@st.composite
def _spans(draw: st.DrawFn, docs: list[Document], code_count: int) -> Span:
    document = draw(st.integers(0, len(docs) - 1))
    lines = docs[document].text.split("\r\n")
    line = draw(st.integers(0, len(lines) - 1).filter(lambda n: lines[n] != ""))
    # often the whole line or its first character, so users and codes meet on one span
    start = draw(st.one_of(st.just(0), st.integers(0, len(lines[line]) - 1)))
    end = draw(
        st.one_of(st.just(len(lines[line])), st.just(start + 1), st.integers(start + 1, len(lines[line])))
    )
    memo = draw(st.one_of(st.none(), words, words.map(lambda w: f"{w}\r\n{w}")))
    return Span(
        document, line, start, end, draw(st.integers(0, code_count - 1)), draw(st.sampled_from(USERS)), memo
    )


def _line_segments(document_id: int, text: str) -> list[Segment]:
    """One segment per non-empty line (CRLF-separated), at exact offsets."""
    found, offset = [], 0
    for line in text.split("\r\n"):
        if line:
            found.append(
                Segment(
                    document_id=document_id,
                    unit=SegmentUnit.sentence,
                    index=len(found),
                    start=offset,
                    end=offset + len(line),
                    text=line,
                )
            )
        offset += len(line) + 2
    return found


def _build(project: Project, made: RandomProject) -> None:
    with project.begin() as connection:
        store_codebook(connection, Codebook(name="rt", codes=made.codes), "setup")
        ids = []
        for document in made.documents:
            ids.append(save_document(connection, document).document_id)
            save_segments(connection, _line_segments(ids[-1], document.text), "test")
        for span in made.spans:
            document_id = ids[span.document]
            segment = [s for s in load_segments(connection, document_id=document_id)][
                sum(1 for line in made.documents[span.document].text.split("\r\n")[: span.line] if line)
            ]
            start, end = segment.start + span.start, segment.start + span.end
            whole = (start, end) == (segment.start, segment.end)
            reviews = hand_coding(
                [(segment, None if whole else start, None if whole else end)],
                codebook="rt",
                code_id=made.codes[span.code].id,
                decision=Decision.add,
                user=span.user,
            )
            record_hand_coding(connection, [r.model_copy(update={"memo": span.memo}) for r in reviews])


def _view(path: Path) -> dict[str, Any]:
    """What a .qdpx says, with every GUID replaced by the content it names."""
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("project.qde")
        texts = {
            n[len("sources/") : -4]: archive.read(n).decode("utf-8")
            for n in archive.namelist()
            if n != "project.qde"
        }
    assert schema_errors(xml) == []
    root = etree.fromstring(xml)
    ns = {"q": root.nsmap[None]}
    users = {u.get("guid"): u.get("name") for u in root.iterfind("q:Users/q:User", ns)}
    code_names = {c.get("guid"): c.get("name") for c in root.iterfind(".//q:Code", ns)}
    codes = sorted(
        (
            c.get("name"),
            code_names.get(c.getparent().get("guid")),
            c.get("color"),
            c.findtext("q:Description", "", ns),
        )
        for c in root.iterfind(".//q:Code", ns)
    )
    variables = {
        v.get("guid"): (v.get("name"), v.get("typeOfVariable")) for v in root.iterfind(".//q:Variable", ns)
    }
    notes = {
        n.get("guid"): (n.findtext("q:PlainTextContent", None, ns), users[n.get("creatingUser")])
        for n in root.iterfind("q:Notes/q:Note", ns)
    }

    def values(element: etree._Element) -> tuple[tuple[Any, ...], ...]:
        return tuple(
            sorted(
                (variables[v[0].get("targetGUID")], etree.QName(v[1]).localname, v[1].text)
                for v in element.iterfind("q:VariableValue", ns)
            )
        )

    source_text = {
        s.get("guid"): texts[s.get("plainTextPath").removeprefix("internal://")[:-4]]
        for s in root.iterfind("q:Sources/q:TextSource", ns)
    }
    sources = sorted(
        (s.get("name"), source_text[s.get("guid")], values(s))
        for s in root.iterfind("q:Sources/q:TextSource", ns)
    )
    codings = []
    for selection in root.iterfind(".//q:PlainTextSelection", ns):
        source = selection.getparent().get("guid")
        start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
        for coding in selection.iterfind("q:Coding", ns):
            memo = [notes[r.get("targetGUID")] for r in coding.iterfind("q:NoteRef", ns)]
            codings.append(
                (
                    source_text[source],
                    start,
                    end,
                    code_names[coding.find("q:CodeRef", ns).get("targetGUID")],
                    users[coding.get("creatingUser")],
                    users[selection.get("creatingUser")],
                    tuple(memo),
                    selection.findtext("q:Description", None, ns),
                )
            )
    cases = sorted(
        (
            c.get("name"),
            values(c),
            tuple(sorted(source_text[r.get("targetGUID")] for r in c.iterfind("q:SourceRef", ns))),
        )
        for c in root.iterfind("q:Cases/q:Case", ns)
    )
    return {
        "codes": codes,
        "variables": sorted(variables.values()),
        "sources": sources,
        "codings": sorted(codings),
        "cases": cases,
        "notes": Counter(notes.values()),
        "users": sorted(users.values()),
    }


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(made=random_projects())
def test_export_import_export_keeps_codes_codings_cases_variables_and_notes(
    tmp_path_factory: pytest.TempPathFactory, made: RandomProject
) -> None:
    folder = tmp_path_factory.mktemp("roundtrip")
    first, second = init_project(folder / "first"), init_project(folder / "second")
    try:
        _build(first, made)
        exported = export_qdpx(first, "rt", folder / "first.qdpx", user="Researcher", project_name="study")
        summary = import_refi(second, exported.path, user="Researcher", codebook="rt")
        assert summary.problems == [] and summary.not_taken == []
        again = export_qdpx(second, "rt", folder / "second.qdpx", user="Researcher", project_name="study")
    finally:
        first.close()
        second.close()
    before, after = _view(exported.path), _view(again.path)
    assert before["codings"], "the built project has codings"
    for part in before:
        assert after[part] == before[part], part
    assert (again.codes, again.sources, again.codings, again.cases, again.notes) == (
        exported.codes,
        exported.sources,
        exported.codings,
        exported.cases,
        exported.notes,
    )


def test_a_memo_stays_with_its_coding_when_another_code_shares_the_span(tmp_path: Path) -> None:
    """The selection's Description repeats its codings' memos; it is no memo of a coding without one."""
    made = RandomProject(
        [Document(kind=SourceKind.interview, title="t", text="Café\r\nlate 🙂", participant="P1")],
        [Code(id="c0", name="Care", definition=""), Code(id="c1", name="Late", definition="", parent="c0")],
        [Span(0, 1, 0, 4, 0, "Zoë", None), Span(0, 1, 0, 4, 1, "Zoë", "twice\r\nlate")],
    )
    first, second = init_project(tmp_path / "first"), init_project(tmp_path / "second")
    try:
        _build(first, made)
        exported = export_qdpx(first, "rt", tmp_path / "first.qdpx", user="R")
        assert import_refi(second, exported.path, user="R", codebook="rt").memos == 1
        again = export_qdpx(second, "rt", tmp_path / "second.qdpx", user="R")
    finally:
        first.close()
        second.close()
    memos = {coding[3]: coding[6] for coding in _view(again.path)["codings"]}
    assert memos == {"Care": (), "Late": (("twice\r\nlate", "Zoë"),)}
    assert _view(again.path) == _view(exported.path)
