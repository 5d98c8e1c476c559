"""Search: segments by their words or by their meaning, each in its context, and "code all these".

The query and filters live in the URL (``/search?q=budget&mode=words&kind=survey``), so a reload or
a link a colleague sends shows the same results. Results come from :mod:`narratives.analysis.search`;
coding a selection goes through :func:`narratives.review.bulk.code_segments`, one undoable action.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

import streamlit as st
from sqlalchemy import Connection

from narratives.analysis.coded import document_table
from narratives.analysis.search import (
    SearchFilters,
    SearchHit,
    SearchResult,
    SemanticIndex,
    build_semantic_index,
    codes_by_segment,
    keyword_search,
    search_model,
    search_unit,
    semantic_search,
)
from narratives.errors import NarrativesError
from narratives.review.bulk import code_segments
from narratives.schema import Code
from narratives.store.codebooks import current_codes
from narratives.store.documents import document_choices
from narratives.store.segments import segmented_units
from narratives.ui import common

MODES = {"words": "Words (keyword)", "meaning": "Meaning (similar passages)"}
LIMIT = 20
HIT_STYLE = "<style>.search-context{color:#555}.search-hit mark{background:#ffe08a;color:#000}</style>"


@st.cache_data(show_spinner=False)
def options_of(path: str, version: str, codebook: str) -> tuple[list[str], list[str], list[int], list[Code]]:
    """Units, source kinds, waves and active codes to filter by."""
    with common.project_by_path(path).connect() as connection:
        kinds = sorted({kind for _, _, kind in document_choices(connection)})
        waves = sorted({int(w) for w in document_table(connection)["wave"].dropna()})
        return segmented_units(connection), kinds, waves, current_codes(connection, codebook)


@st.cache_data(show_spinner=False)
def carried_of(path: str, version: str, codebook: str, unit: str) -> dict[int, tuple[str, ...]]:
    """What each segment carries now: one current-state pass per data version."""
    with common.project_by_path(path).connect() as connection:
        return codes_by_segment(connection, codebook, unit)


@st.cache_resource(show_spinner=False, max_entries=4)
def index_of(path: str, version: str, model: str | None, unit: str) -> SemanticIndex:
    """Every segment vector of ``unit``, embedding any not cached yet (stored in the project)."""
    with common.project_by_path(path).begin() as connection:
        return build_semantic_index(connection, common.embedder(model), unit)


def render() -> None:
    common.require_researcher()
    project = common.require_project()
    st.title("Search")
    common.show_flash()
    path, version = str(project.path), common.data_version(project)
    codebook = common.require_codebook(project)
    units, kinds, waves, codes = options_of(path, version, codebook)
    if not units:
        st.info(f"The project has no segments yet. Segment it with:\n\n```\nnarratives segment {path}\n```")
        return
    asked = _form(units, kinds, waves, codes)
    if not asked["q"]:
        st.caption(
            'Words: care home · "care home" · respite OR break · carer -young · assess*. '
            "Meaning: type or paste a passage to find others like it."
        )
        return
    try:
        result = _search(project, path, version, codebook, asked)
    except NarrativesError as error:
        st.error(str(error))
        return
    _results(project, codebook, result, codes)


def _form(units: list[str], kinds: list[str], waves: list[int], codes: list[Code]) -> dict[str, Any]:
    """The search box and filters, filled from the URL; submitting writes them back to the URL."""
    params = st.query_params
    names = {c.id: c.name for c in codes}
    _widgets_follow_the_url(units, kinds, waves, list(names))
    with st.form("search_form"):
        typed = st.text_input("Search for", key="search_q")
        left, middle, right = st.columns(3)
        mode = left.radio(
            "Find by",
            list(MODES),
            format_func=MODES.__getitem__,
            key="search_mode",
        )
        unit = middle.selectbox(
            "Segments",
            ["", *units],
            format_func=lambda u: u or "the unit coded",
            key="search_unit",
        )
        code = right.selectbox(
            "Carrying the code",
            ["", *names],
            format_func=lambda c: names.get(c, "any"),
            key="search_code",
        )
        chosen_kinds = left.multiselect(
            "Source kinds",
            kinds,
            key="search_kinds",
        )
        chosen_waves = middle.multiselect(
            "Waves",
            waves,
            key="search_waves",
        )
        if st.form_submit_button("Search", type="primary"):
            st.query_params.from_dict(
                {
                    "q": typed,
                    "mode": mode,
                    "unit": unit,
                    "code": code,
                    "kind": chosen_kinds,
                    "wave": [str(w) for w in chosen_waves],
                }
            )
    return {
        "q": params.get("q", "").strip(),
        "mode": params.get("mode", "words"),
        "unit": params.get("unit") or None,
        "code": params.get("code") or None,
        "kinds": tuple(k for k in params.get_all("kind") if k in kinds),
        "waves": tuple(w for w in (_int(v) for v in params.get_all("wave")) if w in waves),
    }


def _widgets_follow_the_url(units: list[str], kinds: list[str], waves: list[int], codes: list[str]) -> None:
    """When the URL changed (typed, reloaded, a link), the widgets take its values; they keep their
    own state otherwise, so a half-typed query is not reset by a rerun."""
    params = st.query_params
    url = tuple(sorted((key, tuple(params.get_all(key))) for key in params))
    if st.session_state.get("search_url") == url:
        return
    st.session_state["search_url"] = url
    st.session_state["search_q"] = params.get("q", "")
    st.session_state["search_mode"] = params.get("mode") if params.get("mode") in MODES else "words"
    st.session_state["search_kinds"] = [k for k in params.get_all("kind") if k in kinds]
    st.session_state["search_waves"] = [w for w in (_int(v) for v in params.get_all("wave")) if w in waves]
    st.session_state["search_unit"] = params.get("unit") if params.get("unit") in units else ""
    st.session_state["search_code"] = params.get("code") if params.get("code") in codes else ""


def _int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


def _search(project: Any, path: str, version: str, codebook: str, asked: dict[str, Any]) -> SearchResult:
    filters = SearchFilters(asked["unit"], asked["kinds"], asked["waves"], asked["code"], codebook)
    with project.connect() as connection:
        unit = search_unit(connection, filters.unit, codebook)
        model = search_model(connection, codebook) if asked["mode"] == "meaning" else None
    carried = carried_of(path, version, codebook, unit)
    with project.connect() as connection:
        if asked["mode"] != "meaning":
            return keyword_search(connection, asked["q"], filters, limit=LIMIT, carried=carried)
        with st.spinner("Reading the segments' vectors (the first search embeds any not cached yet)..."):
            index = index_of(path, version, model, unit)
        return semantic_search(
            connection, asked["q"], index, common.embedder(model), filters, limit=LIMIT, carried=carried
        )


def _results(project: Any, codebook: str, result: SearchResult, codes: list[Code]) -> None:
    counted = "compared" if result.mode == "semantic" else "found"
    st.markdown(
        f"**{result.total} {escape(result.unit)} segments {counted}**; showing the best {len(result.hits)}."
    )
    if not result.hits:
        return
    names = {c.id: c.name for c in codes}
    st.markdown(HIT_STYLE, unsafe_allow_html=True)
    chosen = []
    for rank, hit in enumerate(result.hits, 1):
        with st.container(border=True):
            if st.checkbox(f"{rank}\\. {_markdown_safe(_where(hit))}", key=f"search_pick_{hit.segment_id}"):
                chosen.append(hit.segment_id)
            st.markdown(hit_html(hit), unsafe_allow_html=True)
            carried = ", ".join(names.get(c, c) for c in hit.codes) or "no code yet"
            st.caption(
                f"Codes now: {_markdown_safe(carried)} · score {hit.score:.3f} · segment {hit.segment_id}"
            )
    _code_all(project, codebook, chosen, names)


def _where(hit: SearchHit) -> str:
    parts = [hit.document_title, hit.kind]
    if hit.wave is not None:
        parts.append(f"wave {hit.wave}")
    if hit.participant:
        parts.append(hit.participant)
    return " · ".join(parts)


def hit_html(hit: SearchHit) -> str:
    """The segment with its matched words in <mark>, between its context (all text escaped)."""
    pieces, last = [], 0
    for start, end in hit.highlights:
        pieces += [_plain(hit.text[last:start]), f"<mark>{_plain(hit.text[start:end])}</mark>"]
        last = end
    pieces.append(_plain(hit.text[last:]))
    cut = "…" if hit.start > len(hit.before) else ""  # the context does not reach the document's start
    before = f'<span class="search-context">{cut}{_plain(hit.before)}</span>' if hit.before else ""
    after = f'<span class="search-context">{_plain(hit.after)}</span>' if hit.after else ""
    return f'<div class="search-hit">{before}<strong>{"".join(pieces)}</strong>{after}</div>'


def _plain(text: str) -> str:
    """Escaped, with runs of white space as one space: a blank line inside the HTML would end it and
    turn the rest into Markdown."""
    return escape(re.sub(r"\s+", " ", text))


def _markdown_safe(text: str) -> str:
    """A title or name shown as a widget label, its Markdown characters taken literally."""
    return re.sub(r"([\\`*_\[\]{}()#+!|<>~-])", r"\\\1", text)


def _code_all(project: Any, codebook: str, chosen: list[int], names: dict[str, str]) -> None:
    st.header("Code all these")
    user = common.acting_user()
    if user is None:
        common.need_user_notice()
        return
    code_id = st.selectbox("Code", list(names), format_func=names.__getitem__, key="search_apply_code")
    st.caption(f"{len(chosen)} result(s) ticked.")
    if st.button("Code all these", key="search_apply", disabled=not chosen) and code_id:

        def write(connection: Connection) -> Any:
            return code_segments(connection, codebook, code_id, chosen, user)

        done = common.write(project, write)
        if done is not None:
            st.session_state["flash"] = (
                f"Coded {len(done.recorded)} segments with {names[code_id]} "
                f"({len(done.already)} carried it already), as one action."
            )
            st.rerun()


if __name__ == "__main__":
    render()
