"""`narratives models distill|list|use`: the embedding models this machine has, a fast static one,
and the one a project embeds with."""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from narratives.cli.app import app, console, friendly_errors, progress_bar

models_app = typer.Typer(
    help="Embedding models: the bundled MiniLM and static models distilled from it (no download).\n\n"
    "Example: narratives models distill --name minilm-static\n\n"
    "Then: narratives models use minilm-static --project my-project",
    no_args_is_help=True,
)
app.add_typer(models_app, name="models")


@models_app.command("distill")
@friendly_errors
def distill(
    name: str = typer.Option("minilm-static", "--name", help="What to call the model (its folder's name)."),
    pca_dims: int = typer.Option(
        256, "--pca-dims", min=0, help="Dimensions kept by PCA; 0 keeps MiniLM's 384."
    ),
    force: bool = typer.Option(False, "--force", help="Replace a model of that name."),
) -> None:
    """Distil the bundled all-MiniLM-L6-v2 into a static model (model2vec): far faster to embed with.

    The model is saved in $XDG_CACHE_HOME/narratives/models/NAME (default ~/.cache) with a card;
    use it by name wherever a model is named (--model minilm-static, model = "minilm-static" in a
    pipeline's [code]). Nothing is downloaded. It takes a minute or two.

    Example: narratives models distill --name minilm-static --pca-dims 256
    """
    from narratives.models_local import distill_static_model

    with progress_bar() as bar:
        task = bar.add_task("encoding MiniLM's tokens", total=None)
        made = distill_static_model(
            name,
            pca_dims or None,
            force=force,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    card = made.card
    console.print(
        f"Distilled {escape(made.name)}: {card.get('vocabulary')} tokens x {card.get('dim')} dimensions "
        f"in {card.get('seconds')} s, saved to {escape(str(made.path))}.",
        highlight=False,
    )
    console.print(
        f"Use it with --model {escape(made.name)}, or make a project use it: "
        f"narratives models use {escape(made.name)} --project PROJECT.",
        highlight=False,
    )


@models_app.command("list")
@friendly_errors
def list_models(
    project: Path | None = typer.Option(None, "--project", help="Mark the model this project uses."),
) -> None:
    """List the bundled MiniLM and the static models distilled on this machine; with --project,
    also the models fine-tuned on that project's reviews (`narratives code --fine-tune`).

    Example: narratives models list --project my-project
    """
    from narratives.embed_static import models_dir
    from narratives.models_local import local_models

    chosen = _chosen_folder(project) if project is not None else None
    table = Table(title=f"Embedding models (distilled ones in {escape(str(models_dir()))})")
    for column in ("name", "kind", "dimensions", "made from", "distilled", "path"):
        table.add_column(column, overflow="fold")
    if project is not None:
        table.add_column("project", overflow="fold")
    for model in local_models() + (_fine_tuned_models(project) if project is not None else []):
        card = model.card
        row = [
            escape(model.name),
            model.kind,
            str(card.get("dim", 384 if model.kind in ("bundled", "fine-tuned") else "?")),
            escape(str(card.get("base_model", card.get("package", "")))),
            f"{card['created']} in {card['seconds']} s" if "created" in card else "",  # distilled or tuned
            escape(str(model.path)),
        ]
        if project is not None:
            row.append("uses it" if model.path.resolve() == chosen else "")
        table.add_row(*row)
    console.print(table)


@models_app.command("use")
@friendly_errors
def use_model(
    name: str | None = typer.Argument(
        None, help="The model: a distilled model's name, default, or a folder."
    ),
    project: Path = typer.Option(..., "--project", help="The project folder."),
) -> None:
    """Choose the embedding model a project codes, discovers and searches with when no --model is given.

    Without NAME, say which model the project uses now.

    Example: narratives models use minilm-static --project my-project
    """
    from narratives.models_local import choose_model, chosen_model
    from narratives.store.project import open_project

    opened = open_project(project)
    if name is None:
        current = chosen_model(opened)
        said = escape(current) if current else "the bundled all-MiniLM-L6-v2 (none chosen)"
        console.print(f"{escape(str(project))} embeds with {said}.", highlight=False)
        return
    with opened.begin() as connection:
        embeds_as = choose_model(connection, name)
    console.print(f"{escape(str(project))} now embeds with {escape(embeds_as)}.", highlight=False)
    console.print(
        "[yellow]Suggestions made with the old model stay until the project is coded again "
        f"(narratives code {escape(str(project))} --codebook ...), and vectors are cached per model: "
        "the first run with this one embeds every segment again.[/yellow]",
        highlight=False,
    )


def _fine_tuned_models(project: Path) -> list:
    """The models fine-tuned on this project's reviews (`narratives code --fine-tune`), as list rows."""
    from narratives.coding.fine_tune import fine_tuned_models
    from narratives.models_local import LocalModel
    from narratives.store.project import open_project

    folder = open_project(project).models_dir
    return [LocalModel(made.name, "fine-tuned", made.path, made.card) for made in fine_tuned_models(folder)]


def _chosen_folder(project: Path) -> Path | None:
    """The folder of the model ``project`` chose (the bundled MiniLM's when it chose none)."""
    from narratives.embed import DEFAULT_NAMES, default_model_path
    from narratives.embed_static import static_model_folder
    from narratives.errors import ModelNotAvailable
    from narratives.models_local import chosen_model
    from narratives.store.project import open_project

    name = chosen_model(open_project(project))
    if name in DEFAULT_NAMES:
        with suppress(ModelNotAvailable):  # not installed: no row to mark
            return default_model_path().resolve()
        return None
    folder = static_model_folder(str(name), any_version=True) or Path(str(name)).expanduser()
    return folder.resolve()
