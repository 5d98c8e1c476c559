"""`narratives code`, `queue` and `reviews import|export`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import typer
from rich.markup import escape
from rich.table import Table

from narratives.cli.app import (
    ENGINE_OPTION,
    RAY_ADDRESS_OPTION,
    WORKERS_OPTION,
    app,
    console,
    default_user,
    friendly_errors,
    progress_bar,
    stage_reporter,
)
from narratives.cli.llm_options import (
    ALLOW_REMOTE_OPTION,
    LLM_BATCH_OPTION,
    LLM_MODEL_OPTION,
    LLM_TIMEOUT_OPTION,
    LLM_URL_OPTION,
    llm_settings,
    warn_if_remote,
)
from narratives.kinds import SegmentUnit

if TYPE_CHECKING:
    from narratives.coding.config import CodingRunResult
    from narratives.coding.fine_tune import FineTuneSettings
    from narratives.review.queue import Band
    from narratives.schema import Codebook
    from narratives.store.project import Project

reviews_app = typer.Typer(
    help="Import and export reviewer decisions as CSV.\n\n"
    "Example: narratives reviews import demo-project decisions.csv --codebook social-care",
    no_args_is_help=True,
)
app.add_typer(reviews_app, name="reviews")

USER_HELP = "Who is acting (default: $NARRATIVES_USER or login)."
MODEL_HELP = "Embedding model (default: the project's, chosen by `narratives models use`; else MiniLM)."
SHOWN_CODES = 5  # code ids a summary cell lists before it counts the rest


def _codebook(project: Project, source: str) -> Codebook:
    """A codebook file, or the name of a codebook already in the project."""
    from narratives.codebook.files import load_codebook
    from narratives.store.codebooks import codebook_names, current_codebook

    if Path(source).exists():
        return load_codebook(source)
    with project.connect() as connection:
        if source in codebook_names(connection):
            return current_codebook(connection, source)
    return load_codebook(source)  # raises the file error, with its fix


def codebook_name(project: Project, name: str | None) -> str:
    """The codebook named, or the project's only one."""
    from narratives.store.codebooks import resolve_codebook_name

    with project.connect() as connection:
        return resolve_codebook_name(connection, name)


@app.command()
@friendly_errors
def code(
    path: Path = typer.Argument(..., help="The project folder."),
    codebook: str = typer.Option(
        ...,
        "--codebook",
        help="A codebook YAML file, or the name of a codebook in the project (keeps edits made there).",
    ),
    unit: SegmentUnit | None = typer.Option(
        None, "--unit", help="Segment unit (default: the finest present)."
    ),
    model: str | None = typer.Option(None, "--model", help=MODEL_HELP),
    user: str | None = typer.Option(None, "--user", help=USER_HELP),
    engine: str = ENGINE_OPTION,
    ray_address: str | None = RAY_ADDRESS_OPTION,
    workers: int | None = WORKERS_OPTION,
    llm_url: str | None = LLM_URL_OPTION,
    llm_model: str | None = LLM_MODEL_OPTION,
    allow_remote_llm: bool = ALLOW_REMOTE_OPTION,
    llm_timeout: float = LLM_TIMEOUT_OPTION,
    llm_batch: int = LLM_BATCH_OPTION,
    no_llm: bool = typer.Option(False, "--no-llm", help="Leave out the project's LLM coder this time."),
    passages: str = typer.Option(
        "auto",
        "--passages",
        help="The passage coder, which scores a long segment from its sentences and learns from "
        "whole-segment reviews: auto (when a quarter of the segments hold 3+ sentences), on, off.",
    ),
    fine_tune: bool = typer.Option(
        False,
        "--fine-tune",
        help="First fine-tune the embedder on the reviews (codes with 8+ accepted reviews), make it the "
        "project's model, then code with it. Minutes on a CPU; `narratives models use default` goes back.",
    ),
    fine_tune_seconds: float = typer.Option(
        170.0, "--fine-tune-seconds", min=1.0, help="Most seconds the fine-tuning trains for."
    ),
    fine_tune_min_reviews: int = typer.Option(
        8, "--fine-tune-min-reviews", min=1, help="Accepted reviews a code needs to be fine-tuned on."
    ),
) -> None:
    """Suggest codes for every segment; re-running codes only new segments and changed codes.

    Example: narratives code demo-project --codebook models/codebooks/social-care-lived-experience.yaml

    On Ray (embedding and scoring on workers): add --engine ray [--ray-address ADDRESS] [--workers N].

    With an LLM on your own OpenAI-compatible server as one more coder: add
    --llm-url http://127.0.0.1:11434/v1 --llm-model NAME (or set it once: narratives llm set).

    With the embedder fine-tuned on the project's reviews first: add --fine-tune.
    """
    from narratives.coding.config import CodingConfig
    from narratives.coding.fine_tune import FineTuneSettings
    from narratives.embed import load_embedder
    from narratives.engines import EngineOptions, code_with, start_engine
    from narratives.models_local import project_model
    from narratives.store.project import open_project

    if passages not in ("auto", "on", "off"):
        raise typer.BadParameter(f"{passages!r} is not one of auto, on, off.", param_hint="--passages")
    options = EngineOptions(name=engine, address=ray_address, workers=workers)
    project = open_project(path)
    book = _codebook(project, codebook)
    if fine_tune:
        tuning = FineTuneSettings(max_seconds=fine_tune_seconds, min_reviews_per_code=fine_tune_min_reviews)
        model = _fine_tuned(project, book, model, tuning)
    else:
        model = project_model(project, model)
    llm = None
    if not no_llm:
        from narratives.coding.llm.settings import llm_for

        llm = llm_for(project, llm_settings(llm_url, llm_model, allow_remote_llm, llm_timeout, llm_batch))
    if llm is not None:
        warn_if_remote(llm)
    embedder = load_embedder(model)
    console.print(start_engine(options), style="dim", highlight=False)
    with progress_bar() as bar:
        result = code_with(
            options,
            project,
            book,
            unit=unit,
            embedder=embedder,
            user=user or default_user(),
            config=CodingConfig(model=model, llm=llm, passages=cast(Any, passages)),
            progress=stage_reporter(bar),
        )
    print_coding_summary(result)


def _fine_tuned(project: Project, book: Codebook, base: str | None, settings: FineTuneSettings) -> str:
    """Fine-tune on the project's reviews (from ``base``, else from the project's base model: see
    :func:`~narratives.coding.fine_tune_run.fine_tune_project`), say how it went, and return the new
    model's folder: the project's model from now on."""
    from narratives.coding.fine_tune_run import fine_tune_project

    with progress_bar() as bar:
        task = bar.add_task("fine-tuning the embedder on the reviews", total=None)
        made = fine_tune_project(
            project,
            book,
            base=base,
            settings=settings,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    print_fine_tune_card(made.card)
    console.print(
        f"The project now embeds with {escape(made.name)} ({escape(str(made.path))}); "
        f"`narratives models use default --project {escape(str(project.path))}` goes back to the base model.",
        highlight=False,
    )
    return str(made.path)


def print_fine_tune_card(card: dict) -> None:
    """What a fine-tuning learned from, how long it took, and whether it helped on held-out reviews."""
    console.print(
        f"Fine-tuned {escape(str(card.get('base_model')))} on {card.get('trained_on_texts')} reviewed segments "
        f"({card.get('pairs')} pairs, {card.get('steps')} steps, {len(card.get('codes_learned', []))} codes) "
        f"in {card.get('seconds')} s.",
        highlight=False,
    )
    scores = card.get("held_out_f1")
    if not scores:
        console.print("Too few reviewed segments to hold some out (20 or more): no held-out score.")
        return
    base, tuned = scores["base"], scores["fine_tuned"]
    console.print(
        f"On {card.get('held_out_texts')} held-out reviewed segments: macro-F1 {base['macro_f1']:.3f} with the "
        f"base model, {tuned['macro_f1']:.3f} fine-tuned (micro {base['micro_f1']:.3f} -> {tuned['micro_f1']:.3f}).",
        highlight=False,
    )
    if tuned["macro_f1"] < base["macro_f1"]:
        console.print(
            "[yellow]warning:[/] fine-tuning did not help on the held-out reviews; review more, or go back "
            "to the base model with `narratives models use default --project PROJECT`.",
            highlight=False,
        )


def print_coding_summary(result: CodingRunResult) -> None:
    """The run's summary table, then its warnings."""
    table = Table(title=f"Coding with {result.codebook} {result.codebook_version}")
    table.add_column("what")
    table.add_column("", justify="right")
    rows = [
        ("run", str(result.run_id) if result.run_id else "nothing changed: no new run"),
        (f"{result.unit} segments coded", f"{result.segments_coded} of {result.segments_total}"),
        ("suggestions written", str(result.suggestions_written)),
        ("suggestions superseded", str(result.suggestions_superseded)),
        ("codes re-coded", some_codes(result.codes_recoded)),
        ("codes unchanged", str(len(result.codes_unchanged))),
        ("codes retired", some_codes(result.codes_retired)),
        ("embedding cache hits / misses", f"{result.cache_hits} / {result.cache_misses}"),
        ("learned coder", result.learned),
        ("time", f"{result.seconds:.1f} s"),
    ]
    for what, value in rows:
        table.add_row(what, escape(value))
    console.print(table)
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)


def some_codes(code_ids: list[str], shown: int = SHOWN_CODES) -> str:
    """Code ids for one table cell: all of a few, else a count and the first ``shown``
    ("10,000 codes: care.access, care.cost, ... and 9,995 more"); "none" for none."""
    if not code_ids:
        return "none"
    if len(code_ids) <= shown:
        return ", ".join(code_ids)
    return f"{len(code_ids):,} codes: {', '.join(code_ids[:shown])}, ... and {len(code_ids) - shown:,} more"


@app.command()
@friendly_errors
def queue(
    path: Path = typer.Argument(..., help="The project folder."),
    codebook: str | None = typer.Option(None, "--codebook", help="Codebook name (default: the only one)."),
    limit: int = typer.Option(20, "--limit", help="How many items."),
    code_ids: list[str] = typer.Option(None, "--code", help="Only this code id (repeatable)."),
    kinds: list[str] = typer.Option(None, "--kind", help="Only this source kind (repeatable)."),
    waves: list[int] = typer.Option(None, "--wave", help="Only this wave (repeatable)."),
    band: str | None = typer.Option(None, "--band", help="Confidence band: low, medium or high."),
    min_score: float | None = typer.Option(None, "--min-score", help="Lowest score shown."),
    max_score: float | None = typer.Option(None, "--max-score", help="Highest score shown."),
    reviewed_by: str | None = typer.Option(None, "--reviewed-by", help="Only pairs this reviewer decided."),
    not_reviewed_by: str | None = typer.Option(None, "--not-reviewed-by", help="Leave out this reviewer's."),
    user: str | None = typer.Option(None, "--user", help=USER_HELP + " Your own decisions are left out."),
) -> None:
    """Print the suggestions whose review would teach the coders most (uncertain, rare codes, varied).

    Example: narratives queue demo-project --limit 10 --kind interview --band medium
    """
    from narratives.review.queue import BANDS, QueueFilters, review_queue
    from narratives.store.project import open_project

    if band is not None and band not in BANDS:
        raise typer.BadParameter(f"'{band}' is not one of {', '.join(BANDS)}.", param_hint="--band")
    project = open_project(path)
    name = codebook_name(project, codebook)
    filters = QueueFilters(
        code_ids=code_ids or None,
        kinds=kinds or None,
        waves=waves or None,
        band=cast("Band | None", band),  # checked against BANDS above
        min_score=min_score,
        max_score=max_score,
        reviewed_by=reviewed_by,
        not_reviewed_by=not_reviewed_by,
    )
    items = review_queue(project, name, limit=limit, filters=filters, user=user or default_user())
    table = Table(title=f"Review queue: {name} ({len(items)} items)")
    for column in ("#", "suggestion", "segment", "code", "score", "text", "document", "why"):
        table.add_column(column, overflow="fold")
    for rank, item in enumerate(items, start=1):
        text = item.text if len(item.text) <= 120 else item.text[:117] + "..."
        table.add_row(
            str(rank),
            str(item.suggestion_id),
            str(item.segment_id),
            item.code_name,
            f"{item.score:.2f} (t {item.threshold:.2f})",
            text,
            f"{item.document_title} [{item.document_kind}]",
            ", ".join(item.reasons),
        )
    console.print(table)


@reviews_app.command("import")
@friendly_errors
def reviews_import(
    path: Path = typer.Argument(..., help="The project folder."),
    csv_path: Path = typer.Argument(..., help="CSV with code, decision, user and a segment column."),
    codebook: str | None = typer.Option(None, "--codebook", help="Codebook name (default: the only one)."),
    strict: bool = typer.Option(False, "--strict", help="Import nothing if any row is bad."),
    user: str | None = typer.Option(
        None,
        "--user",
        help="Reviewer for rows with an empty 'user' cell (default: $NARRATIVES_USER or login).",
    ),
) -> None:
    """Record reviewer decisions from a CSV (segment_id, or document_path+start+end, or text).

    Example: narratives reviews import demo-project decisions.csv --codebook social-care --strict
    """
    from narratives.interop.reviews_csv import import_reviews_csv
    from narratives.store.project import open_project

    project = open_project(path)
    report = import_reviews_csv(
        project,
        csv_path,
        codebook_name=codebook_name(project, codebook),
        strict=strict,
        default_user=user or default_user(),
    )
    console.print(f"{report.imported} reviews imported, {len(report.problems)} rows refused.", markup=False)
    if report.already_imported:
        console.print(
            f"{report.already_imported} rows skipped: already imported from this file.", markup=False
        )
    for problem in report.problems:
        console.print(f"[red]{csv_path}: {problem}[/]", highlight=False)
    if report.problems:
        raise typer.Exit(code=1)


@reviews_app.command("export")
@friendly_errors
def reviews_export(
    path: Path = typer.Argument(..., help="The project folder."),
    csv_path: Path = typer.Argument(..., help="Where to write the CSV."),
    codebook: str | None = typer.Option(None, "--codebook", help="Only this codebook's reviews."),
) -> None:
    """Write every review (the full, append-only history) to a CSV that `reviews import` reads back.

    Example: narratives reviews export demo-project exports/reviews.csv
    """
    from narratives.interop.reviews_csv import export_reviews_csv
    from narratives.store.project import open_project

    project = open_project(path)
    count = export_reviews_csv(project, csv_path, codebook_name=codebook)
    console.print(f"{count} reviews written to {csv_path}.", markup=False)
