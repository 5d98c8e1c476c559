"""`narratives bench`: print speed figures."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from narratives.cli.app import app, console, friendly_errors


@app.command()
@friendly_errors
def bench(
    rows: int = typer.Option(2000, "--rows", help="Survey respondents to generate (two answers each)."),
    ui: bool = typer.Option(True, "--ui/--no-ui", help="Also time the explorer on 20,000 segments."),
    model: str | None = typer.Option(None, "--model", help="Embedding model (default all-MiniLM-L6-v2)."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the figures as JSON here."),
    startup: bool = typer.Option(
        True, "--startup/--no-startup", help="Time quick commands (--help, status, codebook validate)."
    ),
    startup_only: bool = typer.Option(
        False, "--startup-only", help="Time only the quick commands (a few seconds)."
    ),
    browser: bool = typer.Option(
        False, "--browser", help="Only time the review page in headless Chromium (key press to next item)."
    ),
    presses: int = typer.Option(20, "--presses", min=1, help="With --browser: presses of a, r and n each."),
    demo: Path = typer.Option(
        Path("demo-project"), "--demo", help="With --browser: the demo project (make run)."
    ),
    segments: int = typer.Option(
        100_000,
        "--segments",
        min=0,
        help="With --browser or --search: segments of the generated project (--browser: 0 for none).",
    ),
    search: bool = typer.Option(
        False, "--search", help="Only time keyword and semantic search on a generated project."
    ),
    deidentify: bool = typer.Option(
        False, "--deidentify", help="Only score de-identification: recall and precision on the labelled set."
    ),
    planted: Path = typer.Option(
        Path("tests/deidentify/planted_identifiers.jsonl"),
        "--planted",
        help="With --deidentify: the labelled set (JSON lines of text and spans).",
    ),
    misses: bool = typer.Option(
        False, "--misses", help="With --deidentify: also list misses and false alarms."
    ),
    sizes: str | None = typer.Option(
        None,
        "--sizes",
        help="Only time every stage at these sizes (segments, comma-separated), e.g. 1000,10000,100000.",
    ),
    discover: bool = typer.Option(
        True, "--discover/--no-discover", help="With --sizes: also time discovery."
    ),
    ui_segments: int = typer.Option(
        20_000, "--ui-segments", min=100, help="Segments of the generated project the explorer is timed on."
    ),
    ui_only: bool = typer.Option(False, "--ui-only", help="Only time the explorer (--ui-segments)."),
) -> None:
    """Time start-up, ingest, segmentation, embedding, coding, the review queue and the explorer.

    The start-up figure is the median wall time of `narratives --help`, `narratives status` on a small
    project and `narratives codebook validate` on a shipped codebook, each a fresh process (5 runs).

    Examples:
      narratives bench --rows 5000 --json bench.json
      narratives bench --startup-only
      narratives bench --browser --presses 20 --demo demo-project --segments 100000
      narratives bench --deidentify --json deidentify.json
      narratives bench --search --segments 100000 --json search.json
      narratives bench --sizes 1000,10000 --json docs/bench/sizes.json
    """
    if sizes:
        _bench_sizes(_parse_sizes(sizes), model, discover, json_out)
        return
    if search:
        _bench_search(max(segments, 1), json_out)
        return
    if deidentify:
        _bench_deidentify(planted, misses, json_out)
        return
    if browser:
        _bench_browser(presses, demo, segments, json_out)
        return
    from narratives.bench.pipeline import bench_all, bench_startup

    if startup_only:
        results = {"start-up (fresh process)": bench_startup()}
    else:
        results = bench_all(
            rows=rows,
            ui=ui or ui_only,
            model=model,
            startup=startup and not ui_only,
            ui_segments=ui_segments,
            pipeline=not ui_only,
        )
    for section, figures in results.items():
        table = Table(title=section)
        table.add_column("measure")
        table.add_column("value", justify="right")
        for name, value in figures.items():
            table.add_row(name, f"{value:,}" if isinstance(value, int | float) else str(value))
        console.print(table)
    if json_out:
        json_out.write_text(json.dumps(results, indent=2), encoding="utf-8")
        console.print(f"Figures written to {json_out}")


def _bench_browser(presses: int, demo: Path, segments: int, json_out: Path | None) -> None:
    import tempfile
    from dataclasses import asdict

    from narratives.bench.browser import bench_browser, large_project
    from narratives.errors import ProjectError

    projects: dict[str, Path] = {}
    if demo.exists():
        projects[f"demo ({demo.name})"] = demo
    elif segments == 0:
        raise ProjectError(
            f"there is no demo project at {demo}.", fix="run `make run` first, or pass --demo PATH"
        )
    else:
        console.print(f"No demo project at {demo} (make run builds it): timing the generated project only.")
    with tempfile.TemporaryDirectory() as scratch:
        if segments:
            with console.status(f"Generating a {segments:,}-segment project…"):
                projects[f"generated ({segments:,} segments)"] = large_project(
                    Path(scratch) / "large", segments
                )
        with console.status("Timing the review page in headless Chromium…"):
            rows = bench_browser(projects, n=presses)
    table = Table(title="Review page: key press to next item (ms)")
    for column in ("project", "action", "n", "median", "p95", "max"):
        table.add_column(column, justify="left" if column in ("project", "action") else "right")
    for row in rows:
        table.add_row(
            row.project, row.action, str(row.n), f"{row.median:,.0f}", f"{row.p95:,.0f}", f"{row.max:,.0f}"
        )
    console.print(table)
    if json_out:
        json_out.write_text(json.dumps([asdict(row) for row in rows], indent=2), encoding="utf-8")
        console.print(f"Figures written to {json_out}")


def _bench_search(segments: int, json_out: Path | None) -> None:
    import tempfile

    from narratives.bench.search import bench_search_report

    status = console.status(f"Generating a {segments:,}-segment project and timing search…")
    with tempfile.TemporaryDirectory() as scratch, status:
        report = bench_search_report(Path(scratch) / "search", segments)
    table = Table(title=f"Search on {report['segments']:,} segments (ms, {report['repeats']} runs each)")
    for column in ("measure", "scope", "median", "p95", "runs", "matches"):
        table.add_column(column, justify="left" if column in ("measure", "scope") else "right")
    for row in report["timings"]:
        matches = "" if row["matches"] is None else f"{row['matches']:,}"
        median, p95 = f"{row['median_ms']:,.1f}", f"{row['p95_ms']:,.1f}"
        table.add_row(row["measure"], row["scope"], median, p95, str(row["runs"]), matches)
    console.print(table)
    console.print(
        f"Built in {report['build_s']} s; load average before: {report['load_average_1min_before']}."
    )
    console.print(report["note"])
    if json_out:
        json_out.write_text(json.dumps(report, indent=2), encoding="utf-8")
        console.print(f"Figures written to {json_out}")


def _bench_deidentify(planted: Path, misses: bool, json_out: Path | None) -> None:
    from narratives.bench.deidentify import bench_deidentify, figures

    with console.status("Finding identifiers in the labelled set…"):
        result = bench_deidentify(planted)
    table = Table(title=f"De-identification on {planted.name}: recall (found / planted) and precision")
    for column in ("type", *result.scores):
        table.add_column(column, justify="left" if column == "type" else "right")
    rows = figures(result)
    for name in rows[next(iter(result.scores))]:
        # a half may have no identifier of some type (the "lowercase" half has no structured ones)
        table.add_row(name, *(rows[split].get(name, "–") for split in result.scores))
    console.print(table)
    console.print(f"Speed: {result.sentences_per_second:,.0f} sentences/s (NER included, one process).")
    if misses:
        for split, scores in result.scores.items():
            for record, label, text in scores.misses:
                console.print(f"{split} miss {record} {label}: {text!r}")
            for record, kind, text in scores.false_positives:
                console.print(f"{split} false alarm {record} {kind}: {text!r}")
    if json_out:
        out = {"sentences_per_second": result.sentences_per_second, "splits": rows}
        json_out.write_text(json.dumps(out, indent=2), encoding="utf-8")
        console.print(f"Figures written to {json_out}")


def _parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 50:
        raise typer.BadParameter(f"{text!r} is not a list of segment counts of 50 or more, e.g. 1000,10000.")
    return sizes


def _bench_sizes(sizes: list[int], model: str | None, discover: bool, json_out: Path | None) -> None:
    from narratives.bench.sizes import bench_sizes

    with console.status("Timing the pipeline…") as status:
        report = bench_sizes(sizes, model=model, discover=discover, say=lambda text: status.update(text))
    console.print(f"Model {report['model']} (loaded in {report['model_load_s']} s, before any timing).")
    for size in report["sizes"]:
        table = Table(title=f"{size['segments']:,} segments ({size['unique_texts']:,} unique texts)")
        for column in ("stage", "s", "segments/s", "peak MB"):
            table.add_column(column, justify="left" if column == "stage" else "right")
        for name, row in size["stages"].items():
            table.add_row(
                name, f"{row['seconds']:,.2f}", f"{row['segments_per_s']:,}", f"{row['peak_memory_mb']:,}"
            )
        console.print(table)
        console.print(
            f"  pipeline (ingest to coded) {size['pipeline_s']:,.1f} s = "
            f"{size['pipeline_over_bare_encode']} x the bare encoding of the segments "
            f"({size['pipeline_over_bare_encode_of_every_text']} x that of the segments and their "
            "sentences); re-code after reviews "
            f"{size['recode_after_reviews_share_of_first_coding']:.1%} and after editing one code "
            f"{size['recode_after_edit_share_of_first_coding']:.1%} of the first coding; "
            f"peak memory {size['peak_memory_mb']:,} MB"
        )
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report, indent=2), encoding="utf-8")
        console.print(f"Figures written to {json_out}")
