"""``narratives codebook ...``: check, show, import and export codebooks."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from narratives.cli.app import app, console, err_console, friendly_errors
from narratives.errors import CodebookError

if TYPE_CHECKING:
    from rich.tree import Tree

    from narratives.codebook.files import CodeNode
    from narratives.schema import Codebook

codebook_app = typer.Typer(
    help="Check, show, import and export codebooks.\n\n"
    "Example: narratives codebook validate models/codebooks/*.yaml",
    no_args_is_help=True,
)
app.add_typer(codebook_app, name="codebook")


class CsvFormat(str, Enum):
    standard = "standard"
    nhs = "nhs"


def _summary(codebook: Codebook) -> str:
    from narratives.codebook.files import codebook_version_hash, leaf_codes

    examples = sum(len(code.examples) for code in codebook.codes)
    phrases = sum(len(code.phrases) for code in codebook.codes)
    return (
        f"{codebook.name} {codebook.version}: {len(codebook.codes)} codes "
        f"({len(leaf_codes(codebook))} leaf), {examples} examples, {phrases} phrases, "
        f"hash {codebook_version_hash(codebook)}"
    )


@codebook_app.command("validate")
@friendly_errors
def validate(
    files: Annotated[list[Path], typer.Argument(help="Codebook YAML files.", show_default=False)],
) -> None:
    """Check codebook files and list every problem with its line and fix; warn (W4xx, exit 0) about
    risky patterns, code names used twice and three-digit colours.

    Example: narratives codebook validate models/codebooks/*.yaml
    """
    from narratives.codebook.files import load_codebook
    from narratives.codebook.lint import file_warnings

    invalid = 0
    for path in files:
        try:
            codebook = load_codebook(path)
        except CodebookError as error:
            invalid += 1
            err_console.print(f"[bold red]INVALID[/] {escape(str(path))}")
            err_console.print(str(error), markup=False, highlight=False)
            continue
        console.print(f"[green]OK[/] {escape(str(path))}: {escape(_summary(codebook))}", highlight=False)
        for warning in file_warnings(path, codebook):
            err_console.print(f"[yellow]warning[/] {escape(str(warning))}", highlight=False)
    if invalid:
        err_console.print(f"{invalid} of {len(files)} codebooks have problems.", highlight=False)
        raise typer.Exit(code=1)


def _node_label(node: CodeNode, full: bool) -> str:
    code = node.code
    definition = code.definition if full or len(code.definition) <= 110 else code.definition[:107] + "..."
    counts = f"{len(code.examples)} examples, {len(code.phrases)} phrases"
    colour = f"[{code.colour}]■[/] " if code.colour else ""
    plain = f" [italic]({escape(code.plain_name)})[/]" if code.plain_name else ""
    retired = " [red]retired[/]" if code.retired else ""
    return (
        f"{colour}[bold]{escape(code.name)}[/] [dim]{escape(code.id)}[/]{plain}{retired}"
        f" [cyan]{counts}[/]\n[dim]{escape(definition)}[/]"
    )


def _add_nodes(tree: Tree, nodes: list[CodeNode], full: bool) -> None:
    for node in nodes:
        _add_nodes(tree.add(_node_label(node, full)), node.children, full)


@codebook_app.command("show")
@friendly_errors
def show(
    file: Annotated[Path, typer.Argument(help="Codebook YAML file.", show_default=False)],
    full: Annotated[bool, typer.Option("--full", help="Show whole definitions.")] = False,
) -> None:
    """Show the codes as a tree with definitions and counts of examples and phrases.

    Example: narratives codebook show models/codebooks/social-care-lived-experience.yaml
    """
    from rich.tree import Tree

    from narratives.codebook.files import code_tree, load_codebook

    codebook = load_codebook(file)
    tree = Tree(f"[bold]{escape(codebook.title or codebook.name)}[/] [dim]{escape(_summary(codebook))}[/]")
    _add_nodes(tree, code_tree(codebook), full)
    console.print(tree)


@codebook_app.command("import")
@friendly_errors
def import_csv(
    csv_file: Annotated[Path, typer.Argument(help="Spreadsheet CSV, one code a row.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="YAML codebook to write.", show_default=False)],
    name: Annotated[str, typer.Option(help="Machine name of the codebook.", show_default=False)],
    version: Annotated[str, typer.Option(help="Version of the codebook, e.g. 1.0.", show_default=False)],
    csv_format: Annotated[
        CsvFormat,
        typer.Option("--format", help="standard: id,name,definition,...; nhs: category,subcategory,..."),
    ] = CsvFormat.standard,
    leave_out: Annotated[
        list[str] | None, typer.Option("--leave-out", help="nhs: a subcategory to skip (repeatable).")
    ] = None,
) -> None:
    """Turn a spreadsheet codebook (CSV) into a checked YAML codebook.

    Example: narratives codebook import codes.csv --out codebook.yaml --name my-study --version 1.0
    """
    from narratives.codebook.csv import codebook_from_nhs_csv, load_codebook_csv
    from narratives.codebook.files import save_codebook

    if csv_format is CsvFormat.nhs:
        codebook = codebook_from_nhs_csv(csv_file, name, version, leave_out=leave_out or ())
    else:
        codebook = load_codebook_csv(csv_file, name, version)
    save_codebook(codebook, out)
    console.print(f"[green]Wrote[/] {escape(str(out))}: {escape(_summary(codebook))}", highlight=False)


@codebook_app.command("export")
@friendly_errors
def export(
    file: Annotated[Path, typer.Argument(help="Codebook YAML file.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="A .csv or .yaml file.", show_default=False)],
) -> None:
    """Write a codebook as a spreadsheet CSV (.csv) or as tidy YAML (.yaml).

    Example: narratives codebook export models/codebooks/making-it-real.yaml --out mir.csv
    """
    from narratives.codebook.csv import save_codebook_csv
    from narratives.codebook.files import load_codebook, save_codebook

    codebook = load_codebook(file)
    suffix = out.suffix.lower()
    if suffix == ".csv":
        save_codebook_csv(codebook, out)
    elif suffix in {".yaml", ".yml"}:
        save_codebook(codebook, out)
    else:
        raise typer.BadParameter(f"cannot tell the format of '{out}': end it in .csv or .yaml.")
    console.print(f"[green]Wrote[/] {escape(str(out))}: {escape(_summary(codebook))}", highlight=False)
