"""Review queue: one suggestion at a time, in context; accept, reject, change or add a code.

Keyboard: a = accept, r = reject, n = next (ignored while typing in a field).
"""

from __future__ import annotations

import html

import streamlit as st
from sqlalchemy import Connection

from narratives.review.queue import BANDS, QueueFilters, QueueItem, review_queue
from narratives.review.record import record_review
from narratives.schema import Code, Decision, Document, Review, Segment
from narratives.store.codebooks import current_codes
from narratives.store.documents import load_document
from narratives.store.project import Project
from narratives.store.segments import load_segments, neighbours
from narratives.store.status import project_status
from narratives.ui import common
from narratives.ui.highlight import evidence_html
from narratives.ui.keyboard import enable_shortcuts

ACCEPT, REJECT, NEXT = "Accept (a)", "Reject (r)", "Next (n)"
SKIPPED_KEY = "review_skipped"  # suggestion ids passed over with Next
SINCE_RETRAIN_KEY = "review_since_retrain"


@st.cache_data(show_spinner=False)
def queue_of(
    path: str, version: str, codebook: str, selection: tuple, user: str, limit: int
) -> list[QueueItem]:
    codes, kinds, waves, band, reviewed_by = selection
    filters = QueueFilters(
        code_ids=list(codes) or None,
        kinds=list(kinds) or None,
        waves=list(waves) or None,
        band=band,
        reviewed_by=reviewed_by,
    )
    return review_queue(common.project_by_path(path), codebook, limit=limit, filters=filters, user=user)


@st.cache_data(show_spinner=False)
def codes_of(path: str, version: str, codebook: str) -> list[Code]:
    with common.project_by_path(path).connect() as connection:
        return current_codes(connection, codebook)


@st.cache_data(show_spinner=False)
def document_of(path: str, document_id: int) -> tuple[Document, list[Segment]]:
    with common.project_by_path(path).connect() as connection:
        return load_document(connection, document_id), load_segments(connection, document_id=document_id)


@st.cache_data(show_spinner=False)
def suggestion_count(path: str, version: str) -> int:
    with common.project_by_path(path).connect() as connection:
        return project_status(connection).suggestions


def render() -> None:
    common.require_researcher()
    project = common.require_project()
    codebook = common.require_codebook(project)
    st.title("Review queue")
    common.show_flash()
    user = common.acting_user()
    if user is None:
        common.need_user_notice()
        return
    path, version = str(project.path), common.data_version(project)
    if suggestion_count(path, version) == 0:
        st.info(
            "Nothing is coded yet, so there is nothing to review. Code the project with:\n\n"
            f"```\nnarratives code {project.path} --codebook YOUR-CODEBOOK.yaml\n```"
        )
        return
    codes = codes_of(path, version, codebook)
    selection = _filters(codes)
    skipped = st.session_state.setdefault(SKIPPED_KEY, [])
    queue = [
        i for i in queue_of(path, version, codebook, selection, user, 50) if i.suggestion_id not in skipped
    ]
    _retrain(project, codebook, user)
    if not queue:
        st.success("Nothing left to review with these filters.")
        if skipped and st.button("Show skipped items again", key="review_unskip"):
            st.session_state[SKIPPED_KEY] = []
            st.rerun()
        return
    item = queue[0]
    st.caption(f"{len(queue)} item(s) waiting with these filters.")
    _context(path, item)
    _suggestion(item)
    _actions(project, codebook, user, item, codes)
    enable_shortcuts({"a": ACCEPT, "r": REJECT, "n": NEXT})


def _filters(codes: list[Code]) -> tuple:
    with st.expander("Filters", expanded=False):
        columns = st.columns(5)
        names = {c.id: c.name for c in codes}
        chosen = columns[0].multiselect(
            "Code", list(names), format_func=names.__getitem__, key="review_filter_codes"
        )
        kinds = columns[1].multiselect(
            "Source kind", ["survey", "interview", "blog"], key="review_filter_kinds"
        )
        waves = columns[2].multiselect("Wave", [1, 2, 3, 4, 5], key="review_filter_waves")
        band = columns[3].selectbox(
            "Confidence",
            [None, *BANDS],
            format_func=lambda b: "any" if b is None else b,
            key="review_filter_band",
        )
        other = columns[4].text_input(
            "Second coding: reviewed by",
            key="review_filter_reviewer",
            help="Only items this reviewer decided.",
        )
    return (tuple(chosen), tuple(kinds), tuple(waves), band, other.strip() or None)


def _context(path: str, item: QueueItem) -> None:
    document, all_segments = document_of(path, item.document_id)
    before, after = neighbours(all_segments, item.segment_id)
    wave = f" · wave {item.wave}" if item.wave is not None else ""
    st.header(item.document_title)
    st.caption(
        f"{item.document_kind}{wave}"
        + (f" · participant {document.participant}" if document.participant else "")
    )
    if before is not None:
        _neighbour(before, "Before")
    speaker = f"<strong>{html.escape(item.speaker)}:</strong> " if item.speaker else ""
    st.markdown(
        f'<div class="review-segment" style="font-size:1.15rem;padding:0.6em;border-left:4px solid #1f77b4;'
        f'background:#f4f8fc">{speaker}{evidence_html(item.text, item.evidence_start, item.evidence_end)}</div>',
        unsafe_allow_html=True,
    )
    if after is not None:
        _neighbour(after, "After")
    attributes = [*document.attributes, *document.participant_attributes]
    if attributes:
        st.caption(" · ".join(f"{a.key}: {a.value}" for a in attributes))


def _neighbour(segment: Segment, label: str) -> None:
    speaker = f"{segment.speaker}: " if segment.speaker else ""
    st.caption(f"{label}: {speaker}{segment.text}")


def _suggestion(item: QueueItem) -> None:
    st.markdown(f"**Suggested code:** {item.code_name} (`{item.code_id}`)")
    st.progress(
        min(max(item.score, 0.0), 1.0), text=f"Confidence {item.score:.2f} (threshold {item.threshold:.2f})"
    )
    if item.evidence and item.evidence_start is None:
        st.caption(f"Evidence: {item.evidence}")
    elif item.evidence:
        st.caption(f"Matched phrase: “{item.evidence}” ({item.coder})")
    if item.reasons:
        st.caption("Why this item: " + ", ".join(item.reasons))


def _review(
    codebook: str, user: str, item: QueueItem, decision: Decision, memo: str, code_id: str | None = None
) -> Review:
    return Review(
        segment_id=item.segment_id,
        code_id=code_id or item.code_id,
        codebook=codebook,
        decision=decision,
        user=user,
        suggestion_id=item.suggestion_id if code_id is None else None,
        memo=memo.strip() or None,
    )


def _actions(project: Project, codebook: str, user: str, item: QueueItem, codes: list[Code]) -> None:
    memo = st.text_area("Memo (optional)", key=f"review_memo_{item.suggestion_id}", height=80)
    columns = st.columns(3)
    if columns[0].button(ACCEPT, key="review_accept", type="primary"):
        _decide(
            project, [_review(codebook, user, item, Decision.accept, memo)], f"Accepted {item.code_name}."
        )
    if columns[1].button(REJECT, key="review_reject"):
        _decide(
            project, [_review(codebook, user, item, Decision.reject, memo)], f"Rejected {item.code_name}."
        )
    if columns[2].button(NEXT, key="review_next"):
        st.session_state[SKIPPED_KEY] = [*st.session_state.get(SKIPPED_KEY, []), item.suggestion_id]
        st.rerun()
    others = [c for c in codes if c.id != item.code_id]
    names = {c.id: c.name for c in others}
    left, right = st.columns(2)
    with left:
        target = st.selectbox(
            "Change to another code", list(names), format_func=names.__getitem__, key="review_change_code"
        )
        if st.button("Change code", key="review_change") and target:
            reviews = [
                _review(codebook, user, item, Decision.reject, memo),
                _review(codebook, user, item, Decision.add, memo, code_id=target),
            ]
            _decide(project, reviews, f"Changed {item.code_name} to {names[target]}.")
    with right:
        extra = st.selectbox("Add a code", list(names), format_func=names.__getitem__, key="review_add_code")
        if st.button("Add code", key="review_add") and extra:
            _decide(
                project,
                [_review(codebook, user, item, Decision.add, memo, code_id=extra)],
                f"Added {names[extra]}.",
            )


def _decide(project: Project, reviews: list[Review], done: str) -> None:
    def write(connection: Connection) -> list[int]:
        return [record_review(connection, review, source="ui") for review in reviews]

    if common.write(project, write, done) is not None:
        st.session_state[SINCE_RETRAIN_KEY] = st.session_state.get(SINCE_RETRAIN_KEY, 0) + 1
        st.rerun()


def _retrain(project: Project, codebook: str, user: str) -> None:
    with st.sidebar:
        batch = st.number_input("Retrain after this many reviews", 1, 1000, 20, key="review_batch_size")
        automatic = st.checkbox("Retrain automatically", key="review_auto_retrain")
        done = st.session_state.get(SINCE_RETRAIN_KEY, 0)
        st.caption(f"{done} review(s) since the last retraining.")
        due = done >= batch
        clicked = st.button("Retrain", key="review_retrain", disabled=not due and not automatic)
    if clicked or (automatic and due):
        with st.spinner("Retraining the learned coder and recoding…"):
            result = common.retrain(project, codebook, user)
        if result is not None:
            st.session_state[SINCE_RETRAIN_KEY] = 0  # the new run changes the data version: caches follow
            st.session_state["flash"] = f"Retrained: {result.suggestions_written} suggestions written."
            st.rerun()


if __name__ == "__main__":
    render()
