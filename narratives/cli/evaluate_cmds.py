"""``narratives evaluate``: how well the coders reproduce a human-coded file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from narratives.cli.app import app, console, friendly_errors
from narratives.cli.llm_options import (
    ALLOW_REMOTE_OPTION,
    LLM_BATCH_OPTION,
    LLM_MODEL_OPTION,
    LLM_TIMEOUT_OPTION,
    LLM_URL_OPTION,
    llm_settings,
    warn_if_remote,
)
from narratives.errors import EvaluationError
from narratives.paths import user_cache

if TYPE_CHECKING:
    from narratives.analysis.evaluate import EvaluationReport

DEFAULT_CACHE = user_cache("embeddings")


def _parse_ks(text: str) -> list[int]:
    try:
        ks = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise EvaluationError(
            f"--k {text!r} is not a list of whole numbers.", fix="write it like 0,5,10,25."
        ) from None
    if not ks or any(k < 0 for k in ks):
        raise EvaluationError(f"--k {text!r} needs numbers of 0 or more.", fix="write it like 0,5,10,25.")
    return ks


@app.command()
@friendly_errors
def evaluate(
    codebook: Path = typer.Option(
        ..., "--codebook", help="Codebook YAML whose code names or ids the labels use."
    ),
    gold: Path = typer.Option(..., "--gold", help="CSV of human-coded texts to score against."),
    train: Path | None = typer.Option(
        None, "--train", help="Cross-site: sample reviewed examples from this CSV."
    ),
    text_column: str = typer.Option("text", "--text-column", help="Column holding the text."),
    labels_column: str = typer.Option("labels", "--labels-column", help="Column holding the codes."),
    sep: str = typer.Option("|", "--sep", help="Separator between codes in one cell."),
    where: str | None = typer.Option(
        None, "--where", help="Keep rows where COLUMN=VALUE, e.g. substantive=True."
    ),
    k: str = typer.Option("0,5,10,25,50", "--k", help="Reviewed examples per code, comma-separated."),
    seeds: int = typer.Option(3, "--seeds", min=1, help="Random draws of reviewed examples per k."),
    no_codebook_examples: bool = typer.Option(
        False,
        "--no-codebook-examples",
        help="Ignore the codebook's own examples (when drawn from this data).",
    ),
    passages: bool = typer.Option(
        False,
        "--passages",
        help="Add the passage coder: each text scored from its sentences, learned from whole-text reviews.",
    ),
    json_out: Path | None = typer.Option(None, "--json", help="Write every figure to this JSON file."),
    model: str | None = typer.Option(
        None, "--model", help="Embedding model: default, a distilled one (`models list`) or a local folder."
    ),
    cache_dir: Path = typer.Option(
        DEFAULT_CACHE, "--cache-dir", help="Where embeddings are cached between runs."
    ),
    llm_url: str | None = LLM_URL_OPTION,
    llm_model: str | None = LLM_MODEL_OPTION,
    allow_remote_llm: bool = ALLOW_REMOTE_OPTION,
    llm_timeout: float = LLM_TIMEOUT_OPTION,
    llm_batch: int = LLM_BATCH_OPTION,
    fine_tune: bool = typer.Option(
        False, "--fine-tune", help="Fine-tune the embedder on each run's reviews first (slow: minutes a run)."
    ),
    fine_tune_pairs: int = typer.Option(4000, "--fine-tune-pairs", min=2, help="Most training pairs a run."),
    fine_tune_seconds: float = typer.Option(
        170.0, "--fine-tune-seconds", min=1.0, help="Most seconds one fine-tuning trains for."
    ),
) -> None:
    """Score the coders against human coding: zero-shot, then after k reviewed examples per code.

    Example:

        narratives evaluate --codebook models/codebooks/nhs-fft.yaml
        --gold evals/data/nhs_fft_dev/comments.csv --labels-column labels_v7
        --where substantive=True --k 0,5,10,25,50 --seeds 3 --json evals/results.json

    With an LLM on your own server as one more coder (answers cached in --cache-dir):
    add --llm-url http://127.0.0.1:11434/v1 --llm-model NAME.

    With the embedder fine-tuned on each run's reviews (`narratives code --fine-tune`): add --fine-tune;
    the fine-tuned models and their vectors are kept in --cache-dir/fine-tuned, so a second run reuses them.
    """
    from narratives.analysis.evaluate import EvaluationSettings, read_gold
    from narratives.analysis.evaluate import evaluate as run_evaluation
    from narratives.codebook.files import load_codebook
    from narratives.coding.fine_tune import FineTuneSettings
    from narratives.embed import CachedEmbedder, NpyEmbeddingCache, load_embedder

    ks = _parse_ks(k)
    book = load_codebook(codebook)
    gold_set = read_gold(gold, book, text_column, labels_column, sep, where)
    train_set = read_gold(train, book, text_column, labels_column, sep, where) if train else None
    cache = NpyEmbeddingCache(cache_dir)
    embedder = CachedEmbedder(load_embedder(model), cache)
    llm = llm_settings(llm_url, llm_model, allow_remote_llm, llm_timeout, llm_batch)
    if llm is not None:
        warn_if_remote(llm)
    settings = EvaluationSettings(
        ks=ks,
        seeds=seeds,
        use_codebook_examples=not no_codebook_examples,
        llm=llm,
        llm_cache=str(cache_dir) if llm is not None else None,
        passages=passages,
        fine_tune=FineTuneSettings(max_pairs=fine_tune_pairs, max_seconds=fine_tune_seconds)
        if fine_tune
        else None,
        fine_tune_cache=str(cache_dir / "fine-tuned"),
    )
    with console.status("Evaluating...") as status:
        report = run_evaluation(
            book,
            gold_set,
            embedder.encode,
            embedder,
            settings,
            train_set,
            progress=lambda s: status.update(s),
        )
    console.print(f"Embeddings: {cache.hits} cached, {cache.misses} computed.")
    _print_report(report)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report.as_dict(), indent=2), encoding="utf-8")
        console.print(f"Wrote {json_out}")


def _print_report(report: EvaluationReport) -> None:
    table = Table(title=f"Learning curve ({report.settings['n_gold']} gold texts, {report.seconds:.0f} s)")
    for column in ("k", "reviewed", "micro F1", "macro F1", "seeds"):
        table.add_column(column, justify="right")
    for row in report.summary:
        table.add_row(
            str(row["k"]),
            f"{row['n_reviewed']:.0f}",
            f"{row['micro_f1']:.3f} ± {row['micro_f1_sd']:.3f}",
            f"{row['macro_f1']:.3f} ± {row['macro_f1_sd']:.3f}",
            str(row["seeds"]),
        )
    console.print(table)
    for k, rows in report.per_code.items():
        detail = Table(title=f"Per code, k={k} (seed 0)")
        for column in ("code", "support", "predicted", "precision", "recall", "F1", "kappa"):
            detail.add_column(column, justify="left" if column == "code" else "right")
        for row in rows:
            detail.add_row(
                row["code_id"],
                str(row["support"]),
                str(row["predicted"]),
                f"{row['precision']:.2f}",
                f"{row['recall']:.2f}",
                f"{row['f1']:.2f}",
                f"{row['kappa']:.2f}",
            )
        console.print(detail)
