"""Fine-tuning a project's embedder on its reviews (`narratives code --fine-tune`, the explorer's
Fine-tune button), and going back to the base model.

:func:`fine_tune_project` draws pairs from the project's reviewed segments, fine-tunes the bundled
MiniLM (:mod:`narratives.coding.fine_tune`), saves it under the project's ``models/`` folder as
``fine-tuned-DIGEST`` with its card, and makes it the project's embedding model
(:func:`~narratives.models_local.choose_model`): the next coding run embeds with it, under its own
name, and records that name on every suggestion. :func:`use_base_model` goes back.
"""

from __future__ import annotations

from pathlib import Path

from narratives.coding.fine_tune import FineTuned, FineTuneSettings, Progress, ReviewedTexts, fine_tune
from narratives.coding.training import reviewed_segments
from narratives.embed import DEFAULT_MODEL, DEFAULT_NAMES
from narratives.embed_static import read_card
from narratives.models_local import choose_model, chosen_model
from narratives.schema import Codebook
from narratives.store.project import Project


def fine_tune_project(
    project: Project,
    codebook: Codebook,
    *,
    base: str | Path | None = None,
    settings: FineTuneSettings | None = None,
    progress: Progress | None = None,
) -> FineTuned:
    """Fine-tune on ``codebook``'s reviews in ``project`` and make the result the project's model.

    The base is ``base`` (a local sentence-transformers folder), else the project's own model: the
    one it embeds with, or the base of the fine-tuned one it embeds with (a model is never tuned again
    on the reviews it was tuned on), else the bundled MiniLM.
    """
    ids, texts, accepted, rejected = reviewed_segments(project, codebook.name)
    active = {code.id for code in codebook.active_codes}
    reviewed = ReviewedTexts(
        [texts[i] for i in ids], [accepted[i] & active for i in ids], [rejected[i] & active for i in ids]
    )
    made = fine_tune(
        reviewed,
        project.models_dir,
        base=base or base_of_project(project),
        settings=settings,
        progress=progress,
        extra_card={"codebook": codebook.name, "codebook_version": codebook.version},
    )
    with project.begin("the project's embedding model") as connection:
        choose_model(connection, str(made.path.resolve()))  # found from wherever the explorer runs
    return made


def base_of_project(project: Project) -> str | None:
    """What a fine-tuning in ``project`` starts from when no base is named (None: the bundled MiniLM)."""
    tuned = project_fine_tuned(project)
    if tuned is not None:
        return str(tuned.card.get("base_path") or "") or None
    name = chosen_model(project)
    if not name or name in DEFAULT_NAMES:
        return None
    # a sentence-transformers folder, not a static model
    return name if (Path(name) / "modules.json").is_file() else None


def project_fine_tuned(project: Project) -> FineTuned | None:
    """The fine-tuned model the project embeds with now, else None."""
    name = chosen_model(project)
    if not name:
        return None
    card = read_card(Path(name))  # {} for a folder without one, or no folder (a model's name)
    return FineTuned(Path(name), card) if card.get("kind") == "fine-tuned" else None


def use_base_model(project: Project) -> None:
    """Embed with the bundled MiniLM again (the fine-tuned models stay in ``models/``)."""
    with project.begin("the project's embedding model") as connection:
        choose_model(connection, DEFAULT_MODEL)
