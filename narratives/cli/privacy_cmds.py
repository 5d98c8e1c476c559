"""``narratives deidentify | deidentify-text``: see what de-identification would replace before sharing."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from narratives.cli.app import app, console, friendly_errors
from narratives.errors import AnalysisError

if TYPE_CHECKING:
    from narratives.deidentify import DeidentificationSettings


class StyleChoice(str, Enum):
    brackets = "brackets"
    consistent = "consistent"


STYLE_HELP = "brackets ([name], [phone], ...) or consistent (Person KQXB: the same person, the same label)."


def _with_style(settings: DeidentificationSettings, style: StyleChoice | None) -> DeidentificationSettings:
    from narratives.deidentify import DeidentificationSettings

    if style is None:
        return settings
    return DeidentificationSettings(
        settings.names, settings.places, settings.keep, style.value, settings.salt
    )


@app.command()
@friendly_errors
def deidentify(
    project_path: Path = typer.Argument(..., help="The project folder."),
    document: list[int] = typer.Option([], "--document", help="Only this document id (repeat the option)."),
    preview: int = typer.Option(10, "--preview", min=0, help="How many replacements to show."),
    style: StyleChoice | None = typer.Option(None, "--style", help=STYLE_HELP),
) -> None:
    """List what de-identification would replace in the project's documents; nothing is changed.

    Reports, panel pages and exports made with --deidentify use the same rules: emails, UK phone
    numbers, postcodes, NHS and NI numbers, full dates, street addresses, links and @handles, people's
    names (titles, common first names, names the project knows) and places the project knows (its
    councils). It is rule-based: read the preview, then add what it misses to PROJECT/deidentify.toml
    (names = [...], places = [...]) and what it should leave alone (keep = [...]).

    Example: narratives deidentify demo-project --preview 20
    """
    from narratives.deidentify import LABELS, deidentification_settings, scan_documents
    from narratives.store.project import open_project

    project = open_project(project_path)
    settings = _with_style(deidentification_settings(project), style)
    with project.connect() as connection:
        scan = scan_documents(connection, settings, document_ids=document or None, examples=preview)
    if document and scan.documents < len(set(document)):
        raise AnalysisError(
            f"the project has no document {', '.join(map(str, document))}.", fix="check the id."
        )
    counts = Table(title=f"What would be replaced in {scan.documents} documents")
    counts.add_column("kind")
    counts.add_column("replaced by")
    counts.add_column("found", justify="right")
    for kind, count in scan.counts.most_common():
        counts.add_row(kind, escape(LABELS.get(kind, kind)), str(count))
    console.print(counts)
    if not scan.counts:
        console.print("Nothing found.")
    if scan.examples:
        examples = Table(title="Examples")
        for column in ("document", "kind", "found", "replaced by", "context"):
            examples.add_column(column)
        for item in scan.examples:
            found = item.replacement
            examples.add_row(
                str(item.document_id),
                found.kind,
                escape(found.original),
                escape(found.replacement),
                escape(item.context),
            )
        console.print(examples)
    console.print(f"Names known to the project: {len(settings.names)}; places: {len(settings.places)}.")


@app.command("deidentify-text")
@friendly_errors
def deidentify_text_command(
    text: str = typer.Argument(..., help="The text to check (quote it)."),
    project_path: Path | None = typer.Option(
        None, "--project", help="Also use this project's known names, places and settings."
    ),
    name: list[str] = typer.Option([], "--name", help="A name to redact (repeat the option)."),
    place: list[str] = typer.Option([], "--place", help="A place to redact (repeat the option)."),
    style: StyleChoice | None = typer.Option(None, "--style", help=STYLE_HELP),
) -> None:
    """De-identify one piece of text and show what was replaced: a quick check of the rules.

    Example: narratives deidentify-text "Kev, my PA, lives at 12 Acacia Avenue, LS6 2AB" --place Leeds
    """
    from narratives.deidentify import DeidentificationSettings, deidentification_settings
    from narratives.store.project import open_project

    settings = DeidentificationSettings()
    if project_path is not None:
        settings = deidentification_settings(open_project(project_path))
    settings = DeidentificationSettings(
        (*settings.names, *name), (*settings.places, *place), settings.keep, settings.style, settings.salt
    )
    result = _with_style(settings, style).apply(text)
    console.print(escape(result.text), highlight=False, soft_wrap=True)
    if result.replacements:
        table = Table()
        for column in ("start", "end", "kind", "found", "replaced by"):
            table.add_column(column)
        for found in result.replacements:
            table.add_row(
                str(found.start),
                str(found.end),
                found.kind,
                escape(found.original),
                escape(found.replacement),
            )
        console.print(table)
