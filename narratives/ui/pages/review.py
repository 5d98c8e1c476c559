"""Review queue: one suggestion at a time, in context; accept, reject, change or add a code.

Keyboard: a = accept, r = reject, n = next (ignored while typing in a field).

The item and its actions are an ``st.fragment``: a review redraws only the item, never the
filters or the sidebar. The queue is fetched once per data version and kept in ``session_state``;
a decision drops the item locally and counts it off the queue's size (a count query, not the page
it fetched). Retraining runs in the background (:mod:`narratives.ui.background`); a status area
in the sidebar polls it, and when it ends the page reruns and the queue follows the new run.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import streamlit as st
from sqlalchemy import Connection

from narratives.review.queue import BANDS, QueueFilters, QueueItem, queue_size, review_queue
from narratives.review.record import record_review
from narratives.schema import Code, Decision, Document, Review, Segment
from narratives.store.codebooks import current_codes
from narratives.store.documents import load_document
from narratives.store.project import Project
from narratives.store.segments import load_segments, neighbours
from narratives.store.status import project_status
from narratives.ui import background, common, fine_tune_view
from narratives.ui.highlight import evidence_html
from narratives.ui.keyboard import enable_shortcuts

ACCEPT, REJECT, NEXT = "Accept (a)", "Reject (r)", "Next (n)"
SKIPPED_KEY = "review_skipped"  # suggestion ids passed over with Next
SINCE_RETRAIN_KEY = "review_since_retrain"
QUEUE_KEY = "review_queue_batch"
DONE_KEY = "review_last_done"  # the last decision's confirmation, shown in the fragment
SEEN_JOB_KEY = "review_seen_job"  # the background job whose end this session has shown
CHANGE_KEY, ADD_KEY = "review_change_code", "review_add_code"
SENTIMENT_CHANGED_KEY = "review_sentiment_changed"  # radio key -> the sentiment just recorded
STARTED_JOB_KEY = "review_started_job"  # a job started from the fragment: rerun the page once
BATCH = 50
REFILL_BELOW = 5
POLL_SECONDS = 1.0


@dataclass
class QueueBatch:
    """A page of the queue for one (project, codebook, filters, user), as of one data version."""

    key: tuple
    version: str
    items: list[QueueItem]
    total: int  # the whole queue's size, counted
    full: bool  # the fetch filled its limit: there may be more to fetch
    decided: set[int] = field(default_factory=set)


def _filters_of(selection: tuple) -> QueueFilters:
    codes, kinds, waves, band, reviewed_by = selection
    return QueueFilters(
        code_ids=list(codes) or None,
        kinds=list(kinds) or None,
        waves=list(waves) or None,
        band=band,
        reviewed_by=reviewed_by,
    )


def queue_batch(project: Project, codebook: str, selection: tuple, user: str, version: str) -> QueueBatch:
    """The session's batch, fetched again only when the data changed under it (another writer, a
    new coding run), the filters changed, or it runs short."""
    key = (str(project.path), codebook, selection, user)
    batch: QueueBatch | None = st.session_state.get(QUEUE_KEY)
    skipped = set(st.session_state.get(SKIPPED_KEY, []))
    if batch is not None and batch.key == key and batch.version == version:
        left = [i for i in batch.items if i.suggestion_id not in skipped]
        if len(left) >= REFILL_BELOW or not batch.full:
            return batch
    filters = _filters_of(selection)
    limit = BATCH + len(skipped)
    items = review_queue(project, codebook, limit=limit, filters=filters, user=user)
    total = queue_size(project, codebook, filters=filters, user=user)
    batch = QueueBatch(key, version, items, total, full=len(items) >= limit)
    st.session_state[QUEUE_KEY] = batch
    return batch


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
    _retrain(project, codebook, user)
    review_item(project, codebook, user, selection, codes)
    enable_shortcuts({"a": ACCEPT, "r": REJECT, "n": NEXT})


@st.fragment
def review_item(project: Project, codebook: str, user: str, selection: tuple, codes: list[Code]) -> None:
    """The item, its suggestion and the actions: what one review redraws."""
    if st.session_state.pop(STARTED_JOB_KEY, False):
        st.rerun()  # a retrain started from here: the whole page, once, so its status area polls
    batch = queue_batch(project, codebook, selection, user, common.data_version(project))
    skipped = st.session_state.setdefault(SKIPPED_KEY, [])
    queue = [i for i in batch.items if i.suggestion_id not in skipped]
    done = st.session_state.pop(DONE_KEY, None)
    if done:
        st.success(done, icon=":material/check_circle:")
    since = st.session_state.get(SINCE_RETRAIN_KEY, 0)
    if not queue:
        st.success("Nothing left to review with these filters.")
        if skipped:
            st.button("Show skipped items again", key="review_unskip", on_click=_unskip)
        return
    item = queue[0]
    passed = sum(1 for i in batch.items if i.suggestion_id in skipped)
    note = f" ({passed} passed over)" if passed else ""
    st.caption(
        f"{batch.total - passed} item(s) waiting with these filters{note} · "
        f"{since} review(s) since the last retraining."
    )
    _context(str(project.path), item)
    _suggestion(item)
    _readiness(project, codebook, item)
    _sentiment(project, item, user)
    _actions(project, codebook, user, item, codes)


def _unskip() -> None:
    st.session_state[SKIPPED_KEY] = []


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
    if item.applies_from is not None:
        label = f"Confidence {item.confidence:.2f} (this text's best code: applies from {item.confidence_needed:.2f})"
    else:
        label = f"Confidence {item.confidence:.2f} (threshold {item.confidence_needed:.2f})"
    st.progress(min(max(item.confidence, 0.0), 1.0), text=label)
    if item.evidence and item.evidence_start is None:
        st.caption(f"Evidence: {item.evidence}")
    elif item.evidence and item.coder_reason:
        st.caption(f"Quoted by the LLM coder: “{item.evidence}”")
    elif item.evidence:
        # a matched phrase, or in a long segment the passage that decides (marked in the text above)
        st.caption(f"Evidence, marked in the text: “{item.evidence}” ({item.coder})")
    if item.coder_reason:
        st.caption(f"The LLM coder's reason: {item.coder_reason}")
    if item.reasons:
        st.caption("Why this item: " + ", ".join(item.reasons))


def _readiness(project: Project, codebook: str, item: QueueItem) -> None:
    """Whether the machine can be trusted with this code yet (out of fold; computed on request)."""
    from narratives.ui.machine_agreement_view import code_readiness

    code_readiness(str(project.path), common.data_version(project), codebook, item.code_id)


def _sentiment(project: Project, item: QueueItem, user: str) -> None:
    """The segment's sentiment, and a correction a reviewer can make (the next `narratives sentiment`
    learns from it)."""
    from narratives.coding.sentiment import LABELS
    from narratives.store.sentiments import current_sentiments

    with project.connect() as connection:
        found = current_sentiments(connection, [item.segment_id]).get(item.segment_id)
    if found is None:
        st.caption(f"Sentiment: not scored yet (`narratives sentiment {project.path}`).")
        return
    how = "corrected by a reviewer" if found.source == "reviewer" else f"machine, {found.confidence or 0:.2f}"
    key = f"review_sentiment_{item.segment_id}"
    if st.session_state.get(key) not in (None, found.label) and key not in st.session_state.get(
        SENTIMENT_CHANGED_KEY, {}
    ):
        del st.session_state[key]  # re-scored since it was drawn: show the label as it is now
    st.radio(
        f"Sentiment ({how})",
        LABELS,
        index=LABELS.index(found.label),
        horizontal=True,
        key=key,
        on_change=_correct_sentiment,
        args=(project, item.segment_id, key, user),
        help="Change it if the machine got it wrong: the next sentiment run learns from it.",
    )
    done = st.session_state.get(SENTIMENT_CHANGED_KEY, {}).pop(key, None)
    if done:
        st.success(f"Sentiment set to {done}.", icon=":material/check_circle:")


def _correct_sentiment(project: Project, segment_id: int, key: str, user: str) -> None:
    """A reviewer chose another sentiment: record the correction (only on their change, never on a redraw)."""
    from narratives.store.sentiments import record_sentiment_review

    choice = st.session_state[key]

    def write(connection: Connection) -> int:
        return record_sentiment_review(connection, segment_id, choice, user)

    if common.write(project, write) is not None:
        st.session_state.setdefault(SENTIMENT_CHANGED_KEY, {})[key] = choice


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
    memo_key = f"review_memo_{item.suggestion_id}"
    st.text_area("Memo (optional)", key=memo_key, height=80)
    all_names = {c.id: c.name for c in codes}
    args = (project, codebook, user, item, memo_key, all_names)
    columns = st.columns(3)
    columns[0].button(
        ACCEPT,
        key="review_accept",
        type="primary",
        on_click=_decide,
        args=args,
        kwargs={"decision": Decision.accept},
    )
    columns[1].button(
        REJECT, key="review_reject", on_click=_decide, args=args, kwargs={"decision": Decision.reject}
    )
    columns[2].button(NEXT, key="review_next", on_click=_skip, args=(item.suggestion_id,))
    names = {c.id: c.name for c in codes if c.id != item.code_id}
    left, right = st.columns(2)
    with left:
        st.selectbox(
            "Change to another code", list(names), format_func=names.__getitem__, key="review_change_code"
        )
        st.button(
            "Change code", key="review_change", on_click=_decide, args=args, kwargs={"other": CHANGE_KEY}
        )
    with right:
        st.selectbox("Add a code", list(names), format_func=names.__getitem__, key="review_add_code")
        st.button("Add code", key="review_add", on_click=_decide, args=args, kwargs={"other": ADD_KEY})


def _skip(suggestion_id: int) -> None:
    st.session_state[SKIPPED_KEY] = [*st.session_state.get(SKIPPED_KEY, []), suggestion_id]


def _decide(
    project: Project,
    codebook: str,
    user: str,
    item: QueueItem,
    memo_key: str,
    names: dict[str, str],
    decision: Decision | None = None,
    other: str | None = None,
) -> None:
    """A button's callback: record the reviews in one transaction, then drop the item locally."""
    memo = st.session_state.get(memo_key, "")
    target = st.session_state.get(other) if other else None
    if decision is not None:
        reviews = [_review(codebook, user, item, decision, memo)]
        done = f"{'Accepted' if decision is Decision.accept else 'Rejected'} {item.code_name}."
    elif target is None:
        return
    elif other == CHANGE_KEY:
        reviews = [
            _review(codebook, user, item, Decision.reject, memo),
            _review(codebook, user, item, Decision.add, memo, code_id=target),
        ]
        done = f"Changed {item.code_name} to {names.get(target, target)}."
    else:
        reviews = [_review(codebook, user, item, Decision.add, memo, code_id=target)]
        done = f"Added {names.get(target, target)}."

    def write(connection: Connection) -> list[int]:
        return [record_review(connection, review, source="ui") for review in reviews]

    if common.write(project, write) is None:
        return
    st.session_state[DONE_KEY] = done
    st.session_state[SINCE_RETRAIN_KEY] = st.session_state.get(SINCE_RETRAIN_KEY, 0) + 1
    batch: QueueBatch | None = st.session_state.get(QUEUE_KEY)
    if batch is not None:
        if any(r.suggestion_id == item.suggestion_id for r in reviews):  # the pair is decided
            batch.items = [i for i in batch.items if i.suggestion_id != item.suggestion_id]
            batch.total = max(batch.total - 1, 0)
        batch.version = common.data_version(project)  # our own write: the batch stays good
    _retrain_if_due(project, codebook, user)


def _retrain_if_due(project: Project, codebook: str, user: str) -> None:
    if not st.session_state.get("review_auto_retrain"):
        return
    due = st.session_state.get(SINCE_RETRAIN_KEY, 0) >= st.session_state.get("review_batch_size", 20)
    if due and _start_retrain(project, codebook, user):
        st.session_state[STARTED_JOB_KEY] = True


def _start_retrain(project: Project, codebook: str, user: str) -> bool:
    """Start retraining in the background (one per project); True when this call started it."""
    from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

    context = get_script_run_ctx()
    job, started = background.start_job(
        str(project.path),
        "retrain",
        user,
        lambda: common.retrain(project, codebook, user),
        describe=lambda result: f"Retrained: {result.suggestions_written} suggestions written.",
        prepare_thread=lambda thread: add_script_run_ctx(thread, context),
    )
    if started:
        st.session_state[SINCE_RETRAIN_KEY] = 0
        job.wait(0.3)  # a job with nothing to do reports at once, without a poll
    return started


def _retrain(project: Project, codebook: str, user: str) -> None:
    with st.sidebar:
        st.number_input("Retrain after this many reviews", 1, 1000, 20, key="review_batch_size")
        st.checkbox("Retrain automatically", key="review_auto_retrain")
        job = background.job_of(str(project.path))
        running = job is not None and job.running
        if st.button("Retrain", key="review_retrain", disabled=running):
            _start_retrain(project, codebook, user)
        fine_tune_view.render(project, codebook, user, running)
        _llm_settings(project)
        st.fragment(run_every=POLL_SECONDS if background_running(project) else None)(_job_status)(project)


def _llm_settings(project: Project) -> None:
    """The project's LLM coder (its own OpenAI-compatible server), used by every retraining and
    `narratives code`: set, change or switch off; another machine only when explicitly allowed."""
    from narratives.coding.llm.settings import LLMSettings, check_server, project_llm, set_project_llm
    from narratives.errors import NarrativesError

    current = project_llm(project)
    with st.expander("LLM coder" + (f": {current.model}" if current else ": off")):
        url = st.text_input(
            "Server (API base)", current.url if current else "http://127.0.0.1:11434/v1", key="llm_url"
        )
        model = st.text_input("Model", current.model if current else "", key="llm_model")
        remote = st.checkbox(
            "Allow another machine (the segments' text is sent there)",
            current.allow_remote if current else False,
            key="llm_allow_remote",
        )
        left, right = st.columns(2)
        if left.button("Save", key="llm_save", disabled=not model.strip()):
            try:
                settings = LLMSettings(url=url.strip(), model=model.strip(), allow_remote=remote)
                warning = check_server(settings)
                set_project_llm(project, settings)
            except (NarrativesError, ValueError) as error:
                st.error(str(error))
            else:
                if warning:
                    st.warning(warning)
                st.success(f"Retraining and coding now ask {settings.model} too.")
        if current is not None and right.button("Turn off", key="llm_off"):
            set_project_llm(project, None)
            st.success("The LLM coder is off.")


def background_running(project: Project) -> bool:
    job = background.job_of(str(project.path))
    return job is not None and job.running


def _job_status(project: Project) -> None:
    """The background job's progress while it runs; when it ends, its outcome and (once) a rerun
    of the whole page, so the queue and its confidences follow the new run."""
    job = background.job_of(str(project.path))
    if job is None:
        return
    if job.running:
        stage = f"{job.stage} {job.done:,}/{job.total:,}" if job.total else job.stage
        doing = "Fine-tuning" if job.kind == "fine-tune" else "Retraining"
        st.progress(job.fraction or 0.0, text=f"{doing} in the background ({job.user}): {stage}")
        return
    if job.state == background.DONE:
        st.success(job.message)
    else:
        st.error(f"{'Fine-tuning' if job.kind == 'fine-tune' else 'Retraining'} failed: {job.message}")
    if st.session_state.get(SEEN_JOB_KEY) != job.id:
        st.session_state[SEEN_JOB_KEY] = job.id
        st.rerun()


if __name__ == "__main__":
    render()
