"""The machine against reviewers (out of fold), as the Analysis page, the Overview and the review
queue show it: computed on request (it retrains on each fold), then kept for the project's state.

:func:`agreement_section` draws the whole table with the overall figures and the team's target;
:func:`code_readiness` one code's verdict, for the code under review.
"""

from __future__ import annotations

import math

import streamlit as st

from narratives.analysis.agreement_stats import Estimate
from narratives.analysis.machine_agreement import CodeMachineAgreement, MachineAgreement
from narratives.ui import analysis_tables as tables
from narratives.ui import common

COMPUTED_KEY = "machine_agreement_computed"  # (path, codebook, target) -> the data version computed at


def number(value: float) -> str:
    """A figure to two decimals, "–" when there is none (NaN)."""
    return "–" if math.isnan(value) else f"{value:.2f}"


def _interval(estimate: Estimate) -> str:
    return f"{number(estimate.low)} to {number(estimate.high)}"


def _target(path: str) -> float:
    from narratives.analysis.machine_agreement import team_target

    return team_target(common.project_by_path(path))


def _computed() -> dict[tuple[str, str, float], str]:
    return st.session_state.setdefault(COMPUTED_KEY, {})


def figures_if_computed(path: str, version: str, codebook: str) -> tuple[MachineAgreement | None, str, bool]:
    """The figures if this session asked for them at this project state; (None, why, asked)."""
    target = _target(path)
    if _computed().get((path, codebook, target)) != version:
        return None, "", False
    figures, problem = tables.machine_agreement_of(path, version, codebook, target)
    return figures, problem, True


def compute_button(path: str, version: str, codebook: str, label: str, key: str) -> None:
    target = _target(path)
    if st.button(label, key=key):
        _computed()[(path, codebook, target)] = version


def agreement_section(path: str, version: str, codebook: str, key: str, allow_target: bool = False) -> None:
    """The per-code table with verdicts and the overall figures, after a button press."""
    st.caption(
        "The learned machine coder against reviewers on out-of-fold predictions: each fold of the "
        "reviewed segments is predicted by heads trained on the other folds, so no prediction has "
        "seen its own review."
    )
    if allow_target:
        _target_input(path, key)
    compute_button(path, version, codebook, "Compute machine–reviewer agreement", f"{key}_compute")
    figures, problem, asked = figures_if_computed(path, version, codebook)
    if not asked:
        return
    if figures is None:
        st.info(problem)
        return
    names = tables.themes_of(path, version, codebook)
    columns = st.columns(len(figures.overall) or 1)
    for column, (name, estimate) in zip(columns, figures.overall.items(), strict=False):
        column.metric(name.capitalize(), number(estimate.value), help=f"95% interval {_interval(estimate)}")
    frame = figures.to_frame()
    frame.insert(1, "theme", frame["code"].map(names).fillna(frame["code"]))
    st.dataframe(frame, hide_index=True)
    st.caption(
        f"{figures.n_segments} reviewed segments, {figures.folds} folds, seed {figures.seed}, "
        f"model {figures.model or 'default'}; 'ready' when the F1 interval's lower end reaches "
        f"{figures.target:.2f} with at least {figures.min_reviews} reviewed segments."
    )
    for note in figures.notes:
        st.caption(note)
    st.download_button(
        "Download machine agreement (CSV)",
        tables.csv_bytes(frame),
        file_name="machine-agreement.csv",
        mime="text/csv",
        key=f"{key}_download",
    )


def _target_input(path: str, key: str) -> None:
    from narratives.analysis.machine_agreement import set_team_target

    current = _target(path)
    chosen = st.number_input(
        "Target F1 for 'ready' (the team's, for everyone)",
        min_value=0.05,
        max_value=1.0,
        value=current,
        step=0.05,
        key=f"{key}_target",
        help="A code is ready when the lower end of its F1 interval reaches this, with at least 30 reviews.",
    )
    if abs(chosen - current) > 1e-9:
        set_team_target(common.project_by_path(path), float(chosen))
        st.caption(f"Target set to {chosen:.2f} for the team.")


def code_readiness(path: str, version: str, codebook: str, code_id: str) -> None:
    """One code's verdict (ready, needs more reviews, unreliable and what it is confused with)."""
    figures, problem, asked = figures_if_computed(path, version, codebook)
    if not asked:
        compute_button(path, version, codebook, "Is this code ready? (retrains on folds)", "review_readiness")
        return
    if figures is None:
        st.caption(problem)
        return
    found: CodeMachineAgreement | None = next((c for c in figures.per_code if c.code_id == code_id), None)
    if found is None:
        st.caption("No reviews of this code yet: no agreement figures.")
        return
    confused = f", confused with {found.confused_with}" if found.confused_with else ""
    st.caption(
        f"This code: **{found.verdict}**{confused} · F1 {number(found.f1.value)} "
        f"({_interval(found.f1)}), kappa {number(found.kappa.value)}, {found.n_reviewed} reviewed "
        f"(out of fold; target {figures.target:.2f})."
    )
