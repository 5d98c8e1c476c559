"""`narratives ingest`: read surveys, interviews and blogs into a project."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from narratives.cli.app import app, console, default_user, friendly_errors, progress_bar
from narratives.kinds import SourceKind

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from narratives.ingest.readers import ReadOptions
    from narratives.ingest.to_project import IngestReport

STATUS_STYLE = {"ingested": "green", "skipped": "yellow", "failed": "red"}


@app.command()
@friendly_errors
def ingest(
    project_path: Path = typer.Argument(..., metavar="PROJECT", help="The project folder."),
    files: list[Path] = typer.Argument(..., help="Files or folders (searched recursively)."),
    kind: SourceKind | None = typer.Option(None, "--kind", help="survey, interview or blog."),
    attributes: Path | None = typer.Option(
        None, "--attributes", help="CSV of file/participant/wave/date plus attribute columns."
    ),
    id_column: str | None = typer.Option(None, "--id-column", help="Survey: the respondent id column."),
    text_column: list[str] = typer.Option(
        None, "--text-column", help="Survey: a free-text question column (repeatable)."
    ),
    attribute_column: list[str] = typer.Option(
        None, "--attribute-column", help="Survey: an attribute column (repeatable; default: all others)."
    ),
    sheet: str | None = typer.Option(None, "--sheet", help="Survey .xlsx: the sheet (default: the first)."),
    participant: str | None = typer.Option(None, "--participant", help="Interview: the participant key."),
    wave: int | None = typer.Option(None, "--wave", help="Interview: the wave number."),
    date: str | None = typer.Option(None, "--date", help="Date of the documents (YYYY-MM-DD)."),
    split: str | None = typer.Option(
        None, "--split", help="Blog files with several posts: auto, headings, markers or none."
    ),
    split_preview: bool = typer.Option(
        False, "--split-preview", help="Show how blog files would be split into posts; store nothing."
    ),
    encoding: str | None = typer.Option(None, "--encoding", help="Force a text encoding (e.g. cp1252)."),
    max_mb: float | None = typer.Option(
        None,
        "--max-mb",
        help="Refuse files larger than this many megabytes (default 50; 4096 for .csv/.tsv, which are streamed).",
    ),
    user: str | None = typer.Option(
        None, "--user", help="Who is acting (default: $NARRATIVES_USER or login)."
    ),
) -> None:
    """Read files into the project, one document per post, transcript or survey answer.

    Each file is stored whole or not at all; re-ingesting the same content adds nothing, and a changed
    file becomes a new version. Bad files are reported and the rest still go in.

    Examples:
      narratives ingest demo corpus/blogs --kind blog --split-preview
      narratives ingest demo corpus/survey/synthetic_survey_2025.csv --kind survey
        --id-column respondent_id --text-column q1_experience --text-column q2_change
      narratives ingest demo corpus/interviews --kind interview
        --attributes corpus/interviews/synthetic_participants.csv
    """
    from narratives.ingest.readers import ReadOptions
    from narratives.ingest.to_project import ingest_paths
    from narratives.store.project import open_project

    options = ReadOptions.from_settings(
        kind=kind,
        split=split,
        id_column=id_column,
        text_columns=text_column or (),
        attribute_columns=attribute_column or None,
        sheet=sheet,
        participant=participant,
        wave=wave,
        date=date,
        encoding=encoding,
        max_mb=max_mb,
        attributes=attributes,
    )
    if split_preview:
        show_split_preview(files, options)
        return
    project = open_project(project_path)
    with progress_bar() as bar:
        task = bar.add_task("ingesting files", total=None)
        report = ingest_paths(
            project,
            files,
            options,
            user=user or default_user(),
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            file_progress=FileBar(bar),
        )
    print_report(report)
    if report.failed:
        raise typer.Exit(code=1)


class FileBar:
    """A second bar, in per cent, for a big table while it is read; gone when the file is done."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, path: str, done: int, total: int) -> None:
        if path not in self.tasks:
            if done >= total:  # a small file, read before the first report
                return
            self.tasks[path] = self.bar.add_task(f"reading {escape(Path(path).name)} (%)", total=100)
        self.bar.update(self.tasks[path], completed=100 * done // max(total, 1))
        if done >= total:
            self.bar.remove_task(self.tasks.pop(path))


def print_report(report: IngestReport) -> None:
    for note in report.notes:
        console.print(f"[dim]note[/] {escape(note)}", highlight=False)
    table = Table(title="Ingest summary")
    table.add_column("file", overflow="fold", min_width=24)
    for column in ("status", "new", "versions", "unchanged", "failed rows"):
        table.add_column(column, justify="right")
    for outcome in report.files:
        style = STATUS_STYLE[outcome.status]
        table.add_row(
            escape(outcome.path),
            f"[{style}]{outcome.status}[/]",
            str(outcome.added),
            str(outcome.new_versions),
            str(outcome.unchanged),
            str(outcome.failed_rows),
        )
    console.print(table)
    for outcome in report.files:
        style = STATUS_STYLE[outcome.status]
        for reason in outcome.reasons:
            line = escape(with_file(outcome.path, reason))
            console.print(f"[{style}]{outcome.status}[/] {line}", highlight=False, soft_wrap=True)
    console.print(
        f"{report.count('ingested')} ingested, {report.count('skipped')} skipped, "
        f"{report.count('failed')} failed; {report.documents_added} new documents."
    )


def with_file(path: str, reason: str) -> str:
    """``reason`` naming its file: as it is when it names the file already (an error such as
    "E101: a.csv: ..."), else "a.csv: row 3: ..." (a skipped row, "already in the project")."""
    return reason if path in reason else f"{path}: {reason}"


def show_split_preview(files: list[Path], options: ReadOptions) -> None:
    from narratives.ingest.blogs import LOW_CONFIDENCE, split_posts
    from narratives.ingest.checks import read_text_checked
    from narratives.ingest.readers import expand_paths

    notes: list[str] = []
    for path in expand_paths(files, options, notes):
        if path.suffix.lower() not in (".txt", ".md", ".markdown"):
            continue
        text = read_text_checked(path, options.max_bytes, options.encoding).text
        result = split_posts(text, options.split or "auto")
        table = Table(title=f"{escape(str(path))}: {len(result.posts)} post(s), split by {result.strategy}")
        for column in ("#", "line", "title", "characters", "confidence", "why"):
            table.add_column(column, overflow="fold")
        for number, post in enumerate(result.posts, start=1):
            style = "yellow" if post.confidence < LOW_CONFIDENCE else "green"
            table.add_row(
                str(number),
                str(post.line),
                escape(post.title),
                str(post.end - post.start),
                f"[{style}]{post.confidence:.2f}[/]",
                escape(", ".join(post.cues)),
            )
        console.print(table)
        for number, content in result.chrome:
            console.print(f"[dim]left out[/] line {number}: {escape(content)}", highlight=False)
    console.print("Adjust with --split headings|markers|none, or add '# Title' or '---' lines to the file.")
