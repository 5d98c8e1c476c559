"""`narratives models distill|list`: the embedding models this machine has, and a fast static one."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from narratives.cli.app import app, console, friendly_errors, progress_bar

models_app = typer.Typer(
    help="Embedding models: the bundled MiniLM and static models distilled from it (no download).\n\n"
    "Example: narratives models distill --name minilm-static",
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
    console.print(f"Use it with --model {escape(made.name)}.", highlight=False)


@models_app.command("list")
@friendly_errors
def list_models() -> None:
    """List the bundled MiniLM and the static models distilled on this machine.

    Example: narratives models list
    """
    from narratives.embed_static import models_dir
    from narratives.models_local import local_models

    table = Table(title=f"Embedding models (distilled ones in {escape(str(models_dir()))})")
    for column in ("name", "kind", "dimensions", "made from", "distilled", "path"):
        table.add_column(column, overflow="fold")
    for model in local_models():
        card = model.card
        table.add_row(
            escape(model.name),
            model.kind,
            str(card.get("dim", 384 if model.kind == "bundled" else "?")),
            escape(str(card.get("base_model", card.get("package", "")))),
            f"{card['created']} in {card['seconds']} s" if "created" in card else "",
            escape(str(model.path)),
        )
    console.print(table)
