"""Discover: candidate themes from the latest discovery run; promote, merge into a code, or dismiss."""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd
import streamlit as st

from narratives.discovery.candidates import current_overlaps
from narratives.discovery.promote import (
    StoredCandidate,
    dismiss_candidate,
    list_candidates,
    merge_candidate,
    promote_candidate,
)
from narratives.errors import NarrativesError
from narratives.schema import Code
from narratives.store.codebooks import current_codes
from narratives.store.project import Project
from narratives.ui import common


@st.cache_data(show_spinner=False)
def candidates_of(path: str, version: str) -> list[StoredCandidate]:
    with common.project_by_path(path).connect() as connection:
        return list_candidates(connection)


@st.cache_data(show_spinner=False)
def run_stats_of(path: str, version: str, run_id: int) -> dict:
    from narratives.store.discovery import discovery_run_stats

    with common.project_by_path(path).connect() as connection:
        return discovery_run_stats(connection, run_id)


@st.cache_data(show_spinner=False)
def codes_of(path: str, version: str, codebook: str) -> list[Code]:
    with common.project_by_path(path).connect() as connection:
        return current_codes(connection, codebook)


@st.cache_data(show_spinner=False)
def overlaps_of(path: str, version: str, codebook: str) -> dict[int, list[dict]]:
    """candidate id -> its overlap with the codes as they stand now (any unit: spans, not ids)."""
    with common.project_by_path(path).connect() as connection:
        names = {c.id: c.name for c in current_codes(connection, codebook)}
        found = list_candidates(connection)
        return current_overlaps(connection, codebook, [(c.id, c.segment_ids) for c in found], names)


DONE = {"promote": "promoted", "merge": "merged", "dismiss": "dismissed"}
PAGE_SIZE = 10  # candidates per page, so a long run never makes a page tens of thousands of pixels


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40] or "theme"


def render() -> None:
    common.require_researcher()
    project = common.require_project()
    st.title("Discover")
    common.show_flash()
    path, version = str(project.path), common.data_version(project)
    found = candidates_of(path, version)
    if not found:
        st.info(
            f"No discovery run yet. Look for candidate themes with:\n\n```\nnarratives discover {path}\n```"
        )
        return
    codebook = common.require_codebook(project)
    codes = codes_of(path, version, codebook)
    user = common.acting_user()
    if user is None:
        common.need_user_notice()
    pending = [c for c in found if c.status is None]
    st.caption(f"{len(found)} candidate(s) from the latest run; {len(pending)} not yet acted on.")
    stats = run_stats_of(path, version, found[0].run_id)
    _run_quality(stats, path)
    overlaps = overlaps_of(path, version, codebook)
    for candidate in _page_of(found):
        _candidate(project, codebook, user, candidate, codes, overlaps.get(candidate.id, []), stats)


def _run_quality(stats: dict, path: str) -> None:
    """How far to trust the run: outliers, redundancy with the codebook, stability across seeds."""
    facts = []
    if "outlier_share" in stats:
        facts.append(f"{stats['outlier_share']:.0%} of the texts in no candidate")
    redundant = stats.get("redundant", {})
    facts.append(f"{len(redundant)} candidate(s) mostly repeating an existing code")
    stable = stats.get("stability")
    if stable:
        facts.append(
            f"{stable['recurring_share']:.0%} recur in every one of {len(stable['seeds'])} re-run(s) with other seeds"
        )
    else:
        facts.append(f"stability not measured (narratives discover {path} --stability 2)")
    st.caption("This run: " + "; ".join(facts) + ".")


def _page_of(found: list[StoredCandidate]) -> list[StoredCandidate]:
    pages = max(1, -(-len(found) // PAGE_SIZE))
    if pages == 1:
        return found
    number = int(st.number_input(f"Page (of {pages}, {PAGE_SIZE} a page)", 1, pages, 1, key="discover_page"))
    return found[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]


def _candidate(
    project: Project,
    codebook: str,
    user: str | None,
    candidate: StoredCandidate,
    codes: list[Code],
    overlap: list[dict],
    stats: dict,
) -> None:
    with st.container(border=True):
        st.header(f"#{candidate.id} {candidate.label}")
        st.caption(f"{candidate.size} segments · keywords: {', '.join(candidate.keywords)}")
        stable, redundant = stats.get("stability"), stats.get("redundant", {})
        notes = []
        if stable and str(candidate.topic) in stable["recurs"]:
            best = stable["best_jaccard"][str(candidate.topic)]
            notes.append(
                f"Recurs in {stable['recurs'][str(candidate.topic)]} of {len(stable['seeds'])} re-run(s) "
                f"(best member overlap {', '.join(f'{j:.2f}' for j in best)})"
            )
        if str(candidate.topic) in redundant:
            same = redundant[str(candidate.topic)]
            notes.append(
                f"Redundant: {same['share']:.0%} of it is {same.get('name', same['code_id'])} already"
            )
        for note in notes:
            st.caption(note)
        if overlap:
            shares = ", ".join(f"{o.get('name', o['code_id'])} {o['share']:.0%}" for o in overlap)
            st.markdown(f"**Overlap with codes now:** {shares}")
        else:
            st.markdown("**Overlap with codes now:** none of its segments overlaps a coded span.")
        with st.expander(f"Example quotes ({min(3, len(candidate.quotes))}) and groups"):
            for quote in candidate.quotes[:3]:
                st.markdown(f"> {quote.get('text', '')}")
            sizes = [
                {"Group": group, "Value": value, "Segments": n}
                for group, counts in candidate.sizes.items()
                for value, n in counts.items()
            ]
            if sizes:
                st.dataframe(pd.DataFrame(sizes), hide_index=True)
        if candidate.status is not None:
            st.info(
                f"Already {DONE.get(candidate.status, candidate.status)}"
                + (f" ({candidate.status_code_id})." if candidate.status_code_id else ".")
            )
            return
        if user is not None:
            _actions(project, codebook, user, candidate, codes)


def _run(action: Callable[[], object], message: str) -> None:
    try:
        action()
    except NarrativesError as error:
        st.error(str(error))
        return
    st.session_state["flash"] = message
    st.rerun()


def _actions(
    project: Project, codebook: str, user: str, candidate: StoredCandidate, codes: list[Code]
) -> None:
    cid = candidate.id
    names = {c.id: f"{c.name} ({c.id})" for c in codes}
    promote, merge, dismiss = st.columns(3)
    with promote.form(f"discover_promote_form_{cid}"):
        code_id = st.text_input("New code id", slug(candidate.label), key=f"discover_code_id_{cid}")
        name = st.text_input("New code name", candidate.label, key=f"discover_name_{cid}")
        parent = st.selectbox(
            "Parent",
            [None, *names],
            format_func=lambda c: "none" if c is None else names[c],
            key=f"discover_parent_{cid}",
        )
        if st.form_submit_button(f"Promote #{cid}", key=f"discover_promote_{cid}"):
            _run(
                lambda: promote_candidate(
                    project,
                    cid,
                    codebook_name=codebook,
                    code_id=code_id.strip(),
                    name=name.strip(),
                    parent=parent,
                    user=user,
                ),
                f"Promoted candidate #{cid} to code {name}.",
            )
    with merge.form(f"discover_merge_form_{cid}"):
        target = st.selectbox(
            "Merge into code", list(names), format_func=names.__getitem__, key=f"discover_target_{cid}"
        )
        if st.form_submit_button(f"Merge #{cid}", key=f"discover_merge_{cid}") and target:
            _run(
                lambda: merge_candidate(project, cid, target, user, codebook_name=codebook),
                f"Merged candidate #{cid} into {names[target]}.",
            )
    with dismiss.form(f"discover_dismiss_form_{cid}"):
        reason = st.text_input("Why dismiss? (optional)", key=f"discover_reason_{cid}")
        if st.form_submit_button(f"Dismiss #{cid}", key=f"discover_dismiss_{cid}"):
            _run(
                lambda: dismiss_candidate(project, cid, user, reason=reason.strip() or None),
                f"Dismissed candidate #{cid}.",
            )


if __name__ == "__main__":
    render()
