"""Agreement: how far coders agree, the segments they disagree on, and the team's adjudication.

The figures are :func:`narratives.analysis.agreement.coder_agreement` (cached per data version);
an adjudication goes through :func:`narratives.review.adjudication.adjudicate`, as from any other
caller, and never changes a coder's own reviews. The machine against reviewers (out of fold) runs
only when asked, since it retrains the learned heads once per fold.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st

from narratives.analysis.agreement import (
    AgreementReport,
    Disagreement,
    available_coders,
    coder_agreement,
    disagreements,
    reviewers_of,
)
from narratives.errors import NarrativesError
from narratives.review.adjudication import adjudicate, undo_adjudication
from narratives.store.codebooks import current_codes
from narratives.store.project import Project
from narratives.ui import common

LIMIT = 200
PICK_KEY = "agreement_pick"
YES, NO = "The code applies", "The code does not apply"


@st.cache_data(show_spinner=False)
def choices_of(path: str, version: str, codebook: str) -> tuple[list[str], list[str], list[str]]:
    with common.project_by_path(path).connect() as connection:
        codes = [code.id for code in current_codes(connection, codebook)]
        return available_coders(connection, codebook), reviewers_of(connection, codebook), codes


@st.cache_data(show_spinner="Working out agreement...")
def report_of(path: str, version: str, codebook: str, coders: tuple, codes: tuple) -> AgreementReport:
    with common.project_by_path(path).connect() as connection:
        return coder_agreement(connection, codebook, list(coders), codes=list(codes) or None)


@st.cache_data(show_spinner=False)
def disagreements_of(
    path: str, version: str, codebook: str, coders: tuple, codes: tuple
) -> list[Disagreement]:
    with common.project_by_path(path).connect() as connection:
        return disagreements(connection, codebook, list(coders), codes=list(codes) or None)


@st.cache_data(show_spinner="Training on each fold in turn...")
def machine_of(path: str, version: str, codebook: str) -> dict[str, Any]:
    from narratives.analysis.machine_agreement import machine_agreement

    found = machine_agreement(common.project_by_path(path), codebook, embedder=common.embedder(None))
    return {"rows": found.rows(), "n_segments": found.n_segments, "folds": found.folds}


def render() -> None:
    person = common.require_researcher()
    project = common.require_project()
    codebook = common.require_codebook(project)
    st.title("Agreement between coders")
    common.show_flash()
    path, version = str(project.path), common.data_version(project)
    coders, reviewers, code_ids = choices_of(path, version, codebook)
    chosen = st.multiselect(
        "Coders to compare", coders, default=reviewers[:2] if len(reviewers) >= 2 else reviewers, key="agreement_coders",
        help="Reviewers by name; 'machine' is what the machine says now; the others are single machine coders.",
    )  # fmt: skip
    codes = st.multiselect("Codes (all when none)", code_ids, key="agreement_codes")
    if len(chosen) < 2:
        st.info(
            "Choose two coders or more. Double-code some segments (two reviewers review the same ones) first."
        )
    else:
        try:
            report = report_of(path, version, codebook, tuple(chosen), tuple(codes))
        except NarrativesError as error:
            st.warning(str(error))
        else:
            _show_report(report)
            _disagreements(project, codebook, person.name, tuple(chosen), tuple(codes))
    _machine(path, version, codebook)


def _cell(value: float, low: float, high: float) -> str:
    if math.isnan(value):
        return "–"
    return f"{value:.2f}" if math.isnan(low) else f"{value:.2f} [{low:.2f}, {high:.2f}]"


def _show_report(report: AgreementReport) -> None:
    st.subheader(f"On {report.n_units} segments every one of them saw")
    rows = [
        row
        for row, code in zip(report.rows(), [*report.per_code, None], strict=False)
        if code is None or code.used
    ]
    shown = pd.DataFrame(
        [
            {
                "Code": row["code"],
                **{f"Applied by {c}": str(row.get(f"applied_{c}", "")) for c in report.coders},
                **{
                    name: _cell(row[name], row[f"{name}_low"], row[f"{name}_high"])
                    for name in report.statistics
                },
            }
            for row in rows
        ]
    )
    st.dataframe(shown, hide_index=True, key="agreement_table")
    st.caption(
        f"Percent agreement, {'Cohen’s kappa, ' if len(report.coders) == 2 else ''}Krippendorff’s alpha and "
        f"Gwet’s AC1 with 95% intervals ({report.n_boot} bootstrap replicates of segments). Codes nobody "
        "applied here are left out; overall pools every (segment, code) of the others."
    )
    st.download_button(
        "Download CSV",
        report.to_frame().to_csv(index=False),
        "agreement.csv",
        "text/csv",
        key="agreement_download",
    )


def _disagreements(project: Project, codebook: str, user: str, coders: tuple, codes: tuple) -> None:
    found = disagreements_of(str(project.path), common.data_version(project), codebook, coders, codes)
    st.subheader(f"Disagreements ({len(found)})")
    if not found:
        st.success("The coders agree on every segment they all saw.")
        return
    table = pd.DataFrame(
        [
            {
                "Segment": d.segment_id,
                "Code": d.code_id,
                "Text": d.text,
                **{
                    c: ("yes" if d.applies[c] else "no") + (f" — {d.memos[c]}" if c in d.memos else "")
                    for c in coders
                },
                "Adjudicated": "" if d.adjudication is None else d.adjudication["decision"],
            }
            for d in found[:LIMIT]
        ]
    )
    st.dataframe(table, hide_index=True, key="agreement_disagreements")
    labels = [f"{d.segment_id} · {d.code_id} · {d.text[:60]}" for d in found[:LIMIT]]
    index = st.selectbox("Adjudicate", range(len(labels)), format_func=labels.__getitem__, key=PICK_KEY)
    _adjudicate(project, codebook, user, found[int(index or 0)], coders)


def _adjudicate(project: Project, codebook: str, user: str, item: Disagreement, coders: tuple) -> None:
    said = ", ".join(f"{c}: {'yes' if item.applies[c] else 'no'}" for c in coders)
    st.markdown(f"> {item.text}\n\n**{item.code_id}** — {said}")
    if item.adjudication is not None:
        settled = item.adjudication
        st.caption(
            f"Adjudicated by {settled['user']}: {settled['decision']} ({settled['memo'] or 'no memo'})."
        )
        if st.button("Undo this adjudication", key="agreement_undo"):
            undone = common.write(
                project,
                lambda connection: undo_adjudication(connection, int(settled["event_id"]), user),
                done=f"Adjudication {settled['event_id']} undone: the coders' reviews decide again.",
            )
            if undone is not None:
                st.rerun()
    decision = st.radio("Final decision", [YES, NO], key="agreement_decision", horizontal=True)
    memo = st.text_input("Why (memo)", key="agreement_memo")
    reviewers = set(_reviewer_names(project, codebook))
    machines = {
        c: {"decision": "accept" if item.applies[c] else "reject"} for c in coders if c not in reviewers
    }
    if st.button("Record the adjudication", key="agreement_adjudicate", type="primary"):
        done = common.write(
            project,
            lambda connection: adjudicate(
                connection,
                codebook=codebook,
                segment_id=item.segment_id,
                code_id=item.code_id,
                applies=decision == YES,
                user=user,
                memo=memo,
                also_settled=machines,
            ),
            done=f"Adjudicated segment {item.segment_id}, {item.code_id}: {'applies' if decision == YES else 'does not apply'}.",
        )
        if done is not None:
            st.rerun()


def _reviewer_names(project: Project, codebook: str) -> list[str]:
    return choices_of(str(project.path), common.data_version(project), codebook)[1]


def _machine(path: str, version: str, codebook: str) -> None:
    st.subheader("The machine against reviewers")
    st.caption(
        "Out of fold: the learned heads are retrained on four fifths of the reviewed segments and predict "
        "the fifth, five times. Ready means F1's lower 95% bound is at least 0.75 with 30 reviews or more."
    )
    if not st.button("Check the machine", key="agreement_machine"):
        return
    try:
        found = machine_of(path, version, codebook)
    except NarrativesError as error:
        st.warning(str(error))
        return
    frame = pd.DataFrame(found["rows"])
    st.dataframe(frame, hide_index=True, key="agreement_machine_table")
    st.download_button(
        "Download CSV",
        frame.to_csv(index=False),
        "machine-agreement.csv",
        "text/csv",
        key="agreement_machine_csv",
    )


if __name__ == "__main__":
    render()
