"""Document view: the full text with coloured code highlights; code or uncode a span by hand."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Connection

from narratives.analysis.overview import coding_unit
from narratives.errors import ReviewError
from narratives.review.marks import Mark, document_marks
from narratives.review.record import hand_coding, range_targets, record_hand_coding
from narratives.schema import Code, Decision, Document, Segment
from narratives.store.codebooks import current_codes
from narratives.store.documents import document_choices, load_document
from narratives.store.project import Project
from narratives.store.segments import load_segments
from narratives.ui import common
from narratives.ui.highlight import code_colours, highlight_html, legend_html


@st.cache_data(show_spinner=False)
def choices_of(path: str, version: str) -> list[tuple[int, str, str]]:
    with common.project_by_path(path).connect() as connection:
        return document_choices(connection)


@st.cache_data(show_spinner=False)
def document_of(path: str, document_id: int) -> tuple[Document, list[Segment]]:
    with common.project_by_path(path).connect() as connection:
        return load_document(connection, document_id), load_segments(connection, document_id=document_id)


@st.cache_data(show_spinner=False)
def unit_of(path: str, version: str, codebook: str) -> str | None:
    with common.project_by_path(path).connect() as connection:
        return coding_unit(connection, codebook)


@st.cache_data(show_spinner=False)
def marks_of(path: str, version: str, codebook: str, document_id: int) -> tuple[list[Mark], list[Code]]:
    with common.project_by_path(path).connect() as connection:
        return document_marks(connection, codebook, document_id), current_codes(connection, codebook)


def render() -> None:
    common.require_researcher()
    project = common.require_project()
    st.title("Documents")
    common.show_flash()
    path, version = str(project.path), common.data_version(project)
    choices = choices_of(path, version)
    if not choices:
        st.info(
            f"The project has no documents yet. Add some with:\n\n```\nnarratives ingest {path} FILES --kind blog\n```"
        )
        return
    codebook = common.require_codebook(project)
    labels = {doc_id: f"{title} ({kind})" for doc_id, title, kind in choices}
    document_id = st.selectbox(
        "Document", list(labels), format_func=labels.__getitem__, key="documents_document"
    )
    document, segments = document_of(path, document_id)
    marks, codes = marks_of(path, version, codebook, document_id)
    _about(document)
    show_rejected = st.checkbox("Show rejected suggestions (struck through)", key="documents_show_rejected")
    shown = [m for m in marks if show_rejected or m.status != "rejected"]
    colours, names = code_colours(codes), {c.id: c.name for c in codes}
    used = [c for c in codes if any(m.code_id == c.id for m in shown)]
    st.markdown(legend_html(used, colours), unsafe_allow_html=True)
    st.markdown(highlight_html(document.text, shown, colours, names, document.turns), unsafe_allow_html=True)
    if not marks:
        st.caption(f"No codes on this document yet (narratives code {path} --codebook FILE).")
    _sentiments(project, segments)
    _hand_coding(project, codebook, document, segments, codes)


def _sentiments(project: Project, segments: list[Segment]) -> None:
    """How many of the document's segments are positive, mixed or negative, and each one's."""
    from narratives.coding.sentiment import LABELS
    from narratives.store.sentiments import current_sentiments

    with project.connect() as connection:
        found = current_sentiments(connection, [int(s.id or 0) for s in segments])
    scored = [s for s in segments if int(s.id or 0) in found]
    if not scored:
        return
    counts = {label: sum(1 for s in scored if found[int(s.id or 0)].label == label) for label in LABELS}
    summary = ", ".join(f"{counts[label]} {label}" for label in LABELS)
    st.caption(f"Sentiment of its {len(scored)} scored segment(s): {summary}.")
    with st.expander("Sentiment by segment"):
        st.dataframe(
            [
                {
                    "segment": s.text if len(s.text) <= 120 else s.text[:119] + "…",
                    "sentiment": found[int(s.id or 0)].label,
                    "by": "reviewer" if found[int(s.id or 0)].source == "reviewer" else "machine",
                }
                for s in scored
            ],
            hide_index=True,
            width="stretch",
        )


def _about(document: Document) -> None:
    facts = [document.kind.value]
    if document.participant:
        facts.append(f"participant {document.participant}")
    if document.wave is not None:
        facts.append(f"wave {document.wave}")
    if document.date:
        facts.append(document.date)
    st.caption(" · ".join(facts))
    attributes = [*document.attributes, *document.participant_attributes]
    if attributes:
        with st.expander("Attributes"):
            st.table({a.key: str(a.value) for a in attributes})


def _unit(project: Project, codebook: str, segments: list[Segment]) -> str | None:
    """The unit a hand-coding action codes: the project's coding unit, or one the researcher picks."""
    units = sorted({s.unit.value for s in segments})
    if not units:
        return None
    preferred = unit_of(str(project.path), common.data_version(project), codebook)
    index = units.index(preferred) if preferred in units else 0
    if len(units) == 1:
        st.caption(f"Codes {units[0]} segments.")
        return units[0]
    return str(
        st.radio(
            "Code in unit",
            units,
            index=index,
            horizontal=True,
            key="documents_unit",
            help="One action codes segments of one unit; the project is coded in "
            f"{preferred or 'no unit yet'}.",
        )
    )


def _hand_coding(
    project: Project, codebook: str, document: Document, segments: list[Segment], codes: list[Code]
) -> None:
    st.header("Code by hand")
    user = common.acting_user()
    if user is None:
        common.need_user_notice()
        return
    names = {c.id: c.name for c in codes}
    unit = _unit(project, codebook, segments)
    if unit is None:
        st.caption("This document has no segments to code.")
        return
    mode = st.radio("Select", ["Segments", "Character range"], horizontal=True, key="documents_mode")
    targets: list[tuple[Segment, int | None, int | None]] = []
    if mode == "Segments":
        by_id = {int(s.id or 0): s for s in segments if s.unit.value == unit}
        chosen = st.multiselect(
            "Segments",
            list(by_id),
            format_func=lambda i: (
                f"{by_id[i].speaker or ''}{': ' if by_id[i].speaker else ''}{by_id[i].text[:90]}"
            ),
            key="documents_segments",
        )
        targets = [(by_id[i], None, None) for i in chosen if i in by_id]
    else:
        columns = st.columns(2)
        start = int(
            columns[0].number_input("From character", 0, len(document.text), 0, key="documents_start")
        )
        end = int(columns[1].number_input("To character", 0, len(document.text), 0, key="documents_end"))
        if end > start:
            st.caption(f"Selected: “{document.text[start:end]}”")
        try:
            targets = list(range_targets(segments, start, end, unit, document.turns))
        except ReviewError as error:
            st.error(str(error))
        if end > start and targets:
            st.caption(f"Codes {len(targets)} {unit} segment(s), as one action.")
    code_id = st.selectbox("Code", list(names), format_func=names.__getitem__, key="documents_code")
    left, right = st.columns(2)
    add = left.button("Code selection", key="documents_code_button", disabled=not targets)
    remove = right.button("Uncode selection", key="documents_uncode_button", disabled=not targets)
    if (add or remove) and code_id:
        decision = Decision.add if add else Decision.remove
        reviews = hand_coding(targets, codebook=codebook, code_id=code_id, decision=decision, user=user)

        def write(connection: Connection) -> list[int]:
            return record_hand_coding(connection, reviews)

        verb = "Coded" if add else "Uncoded"
        done = f"{verb} {len(reviews)} {unit} segment(s) as {names[code_id]}, as one action."
        if common.write(project, write, done) is not None:
            st.rerun()


if __name__ == "__main__":
    render()
