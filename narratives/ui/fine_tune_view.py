"""The review page's Embedder panel: fine-tune the embedder on the reviews, then retrain with it, in
the background (:func:`narratives.ui.common.fine_tune_and_retrain`), and go back to the base model."""

from __future__ import annotations

import streamlit as st

from narratives.store.project import Project
from narratives.ui import background, common

BASE_MODEL_KEY = "review_base_model_chosen"  # set by the button's callback: say so once


def render(project: Project, codebook: str, user: str, running: bool) -> None:
    """Fine-tune the embedder on the reviews, then retrain with it (in the background), and say which
    model the project embeds with: the base one, or a fine-tuned one with its held-out figures."""
    from narratives.coding.fine_tune_run import project_fine_tuned

    current = project_fine_tuned(project)  # read after a click's callback has run: never stale
    with st.expander(f"Embedder: {model_label(project)}"):
        if current is not None:
            st.caption(fine_tune_summary(current.card))
        st.caption("Fine-tuning learns from codes with 8 or more accepted reviews; it takes a few minutes.")
        if st.button("Fine-tune", key="review_fine_tune", disabled=running, width="stretch"):
            _start_fine_tune(project, codebook, user)
        if current is not None:
            st.button(
                "Use the base model",
                key="review_base_model",
                disabled=running,
                width="stretch",
                on_click=_use_base_model,
                args=(project,),
            )
    if st.session_state.pop(BASE_MODEL_KEY, False):  # outside: the renamed panel starts closed
        st.success("The project embeds with all-MiniLM-L6-v2 again: retrain to re-code with it.")


def _use_base_model(project: Project) -> None:
    from narratives.coding.fine_tune_run import use_base_model

    use_base_model(project)
    st.session_state[BASE_MODEL_KEY] = True


def model_label(project: Project) -> str:
    """The name of the model the project embeds with, as the panel's title shows it."""
    from pathlib import Path

    from narratives.embed import DEFAULT_MODEL, DEFAULT_NAMES
    from narratives.models_local import chosen_model

    name = chosen_model(project)
    return DEFAULT_MODEL if name in DEFAULT_NAMES else Path(str(name)).name


def fine_tune_summary(card: dict) -> str:
    """One line on a fine-tuned model: what it learned from and how it did on held-out reviews."""
    said = f"Tuned on {card.get('trained_on_texts')} reviewed segments in {card.get('seconds')} s."
    scores = card.get("held_out_f1")
    if scores:
        said += (
            f" Held-out macro-F1 {scores['fine_tuned']['macro_f1']:.2f} "
            f"(base model {scores['base']['macro_f1']:.2f})."
        )
    return said


def _start_fine_tune(project: Project, codebook: str, user: str) -> None:
    from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

    context = get_script_run_ctx()
    background.start_job(
        str(project.path),
        "fine-tune",
        user,
        lambda: common.fine_tune_and_retrain(project, codebook, user),
        describe=lambda result: (
            f"Fine-tuned {result[0].name}; {fine_tune_summary(result[0].card)} "
            f"Re-coded with it: {result[1].suggestions_written} suggestions written."
        ),
        prepare_thread=lambda thread: add_script_run_ctx(thread, context),
    )
