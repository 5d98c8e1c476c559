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
    For a de-identified copy of the whole project with numbered pseudonyms, see deidentify-export.

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


PASSPHRASE_STDIN_HELP = "Read the key's passphrase from the first line of standard input (for scripts)."


def _passphrase(from_stdin: bool, *, new: bool) -> str:
    """The key's passphrase: from stdin's first line, or a hidden prompt (twice for a new key)."""
    import sys

    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    prompt = "Passphrase for the new key" if new else "Passphrase of the key"
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=new))


@app.command("deidentify-export")
@friendly_errors
def deidentify_export(
    project_path: Path = typer.Argument(..., help="The project folder."),
    out: Path = typer.Argument(..., help="The folder to write the de-identified files into."),
    key_file: Path = typer.Option(
        ..., "--key", help="The pseudonym key: extended if it exists, made if not; kept outside the project."
    ),
    passphrase_stdin: bool = typer.Option(False, "--passphrase-stdin", help=PASSPHRASE_STDIN_HELP),
) -> None:
    """Write a de-identified copy of every document, its segments and its current codings.

    One JSON file per document (document-<id>.json: text, segments, codings, with offsets valid in
    the de-identified text) and index.json, all readable by you only. People, places and
    organisations become numbered pseudonyms ([Person 3], [Place 1]) that stay the same across
    documents and waves and from one export to the next: the numbers live in the key file, encrypted
    with your passphrase. Keep the key apart from the export; only its holder can re-identify.
    A reproducibility manifest (OUT.manifest.json, beside the folder) lists its files and their hashes.

    Example: narratives deidentify-export demo-project shared-copy --key ~/keys/demo.key
    """
    from narratives.deidentify import PseudonymKey, deidentification_settings, read_key, write_key
    from narratives.deidentify.key import key_for_project
    from narratives.interop.deidentified_export import export_deidentified
    from narratives.interop.manifest import command_line, write_manifest
    from narratives.store.project import open_project

    project = open_project(project_path)
    settings = deidentification_settings(project)
    exists = key_file.exists()
    passphrase = _passphrase(passphrase_stdin, new=not exists)
    key = read_key(key_file, passphrase) if exists else PseudonymKey()
    key = key_for_project(key, settings.salt, key_file)
    apart = [project.path, out]
    write_key(key_file, key, passphrase, keep_apart_from=apart)  # refused before anything is written
    before = len(key.entries)
    with project.connect() as connection:
        summary = export_deidentified(connection, settings, key, out)
    write_key(key_file, key, passphrase, keep_apart_from=apart)
    manifest = write_manifest(
        project, summary.folder, command=command_line(), extra={"pseudonyms": summary.pseudonyms}
    )
    console.print(
        f"Wrote {summary.documents} documents with {summary.segments} segments and {summary.codings} "
        f"codings to {escape(str(summary.folder))}."
    )
    console.print(
        f"Pseudonyms in the key: {summary.pseudonyms} ({summary.pseudonyms - before} new); "
        f"key {'updated' if exists else 'written'}: {escape(str(key_file))}."
    )
    console.print(f"Reproducibility manifest: {escape(str(manifest))}", highlight=False)


@app.command()
@friendly_errors
def reidentify(
    key_file: Path = typer.Argument(..., help="The pseudonym key written by deidentify-export."),
    reveal: list[str] = typer.Option([], "--reveal", help='A pseudonym to look up: "[Person 3]" (repeat).'),
    text: str | None = typer.Option(None, "--text", help="A de-identified text to re-identify (quote it)."),
    passphrase_stdin: bool = typer.Option(False, "--passphrase-stdin", help=PASSPHRASE_STDIN_HELP),
) -> None:
    """Show who or what a pseudonym stands for, or put the originals back into a text.

    The passphrase is asked for without showing it (or read with --passphrase-stdin), never
    given as an argument. With neither --reveal nor --text, every pseudonym in the key is listed.

    Example: narratives reidentify ~/keys/demo.key --reveal "[Person 3]"
    """
    from narratives.deidentify import read_key

    key = read_key(key_file, _passphrase(passphrase_stdin, new=False))
    if text is not None:
        console.print(escape(key.reidentify(text)), highlight=False, soft_wrap=True)
    entries = [key.find(p) for p in reveal] if reveal else ([] if text is not None else key.entries)
    missing = [p for p, entry in zip(reveal, entries, strict=False) if entry is None]
    if missing:
        raise AnalysisError(
            f"the key has no pseudonym {', '.join(missing)}.",
            fix="list them all: narratives reidentify KEYFILE",
        )
    if entries:
        table = Table()
        for column in ("pseudonym", "stands for"):
            table.add_column(column)
        for entry in entries:
            if entry is not None:
                table.add_row(escape(entry.pseudonym), escape("; ".join(entry.originals)))
        console.print(table)
