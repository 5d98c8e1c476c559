"""`narratives discover` and `promote`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from narratives.cli.app import app, console, default_user, friendly_errors, progress_bar
from narratives.errors import CandidateError
from narratives.kinds import SegmentUnit

USER_HELP = "Who is acting (default: $NARRATIVES_USER or login)."


@app.command()
@friendly_errors
def discover(
    path: Path = typer.Argument(..., help="The project folder."),
    codebook: str | None = typer.Option(None, "--codebook", help="Codebook name, for overlap and --guided."),
    seed: int = typer.Option(42, "--seed", help="Random seed: the same seed gives the same candidates."),
    min_topic_size: int | None = typer.Option(
        None, "--min-topic-size", help="Smallest theme (default: by size)."
    ),
    unit: SegmentUnit | None = typer.Option(
        None, "--unit", help="Segment unit (default: the finest present)."
    ),
    guided: bool = typer.Option(False, "--guided", help="Seed the topics with the codebook's phrases."),
    zeroshot: bool = typer.Option(
        False, "--zeroshot", help="Match texts to the codebook's definitions first (zero-shot topics)."
    ),
    model: str | None = typer.Option(
        None, "--model", help="Embedding model (default: the project's, `narratives models use`)."
    ),
    user: str | None = typer.Option(None, "--user", help=USER_HELP),
    stability_runs: int = typer.Option(
        0,
        "--stability",
        min=0,
        max=10,
        help="Fit again with this many other seeds: how often each candidate recurs.",
    ),
) -> None:
    """Find candidate themes with BERTopic; short and filler answers ("N/A") are left out.

    Example: narratives discover demo-project --codebook social-care --seed 42 --guided

    With --stability 2 the clustering is fitted twice more (seeds 43, 44): a candidate recurs when a
    re-run has a topic sharing half its members (Jaccard >= 0.5).
    """
    from narratives.discovery.topics import discover_themes
    from narratives.embed import load_embedder
    from narratives.models_local import project_model
    from narratives.store.project import open_project

    project = open_project(path)
    embedder = load_embedder(project_model(project, model))
    with progress_bar() as bar:
        task = bar.add_task("discovering themes", total=None)
        result = discover_themes(
            project,
            embedder=embedder,
            codebook_name=codebook,
            seed=seed,
            min_topic_size=min_topic_size,
            unit=unit,
            seed_topics=guided,
            zeroshot=zeroshot,
            user=user or default_user(),
            stability_seeds=stability_runs,
            progress=lambda message: bar.update(task, description=message),
        )
    stats = result.stats
    stable = stats.get("stability")
    redundant = stats.get("redundant", {})
    table = Table(title=f"Discovery run {result.run_id}: {len(result.candidates)} candidates")
    columns = ["id", "label", "keywords", "size", "top overlap", *(["recurs"] if stable else [])]
    for column in columns:
        table.add_column(column, overflow="fold")
    for candidate in result.candidates:
        overlap = candidate.overlap[0] if candidate.overlap else None
        shown = f"{overlap['code_id']} {overlap['share']:.0%}" if overlap else "-"
        if str(candidate.topic) in redundant:
            shown += " (redundant)"
        row = [
            str(candidate.id),
            candidate.label,
            ", ".join(candidate.keywords[:6]),
            str(candidate.size),
            shown,
        ]
        if stable:
            row.append(f"{stable['recurs'].get(str(candidate.topic), 0)} of {len(stable['seeds'])}")
        table.add_row(*row)
    console.print(table)
    if stable:
        console.print(
            f"Stability: {stable['recurring_share']:.0%} of the candidates recur in every re-run "
            f"(seeds {', '.join(map(str, stable['seeds']))}; topics per re-run: "
            f"{', '.join(map(str, stable['topics_per_run']))}).",
            markup=False,
        )
    if redundant:
        console.print(
            f"Redundant: {len(redundant)} candidate(s) mostly repeat an existing code (half their segments or more).",
            markup=False,
        )
    console.print(
        f"{stats['clustered']} segments clustered, {stats['dropped_short_or_filler']} too short or filler "
        f"left out, {stats.get('outliers', 0)} outliers ({stats.get('outlier_share', 0):.0%}); {stats['seconds']:.1f} s. "
        f"Next: narratives promote {path} ID --code-id ID --name NAME",
        markup=False,
    )


@app.command()
@friendly_errors
def promote(
    path: Path = typer.Argument(..., help="The project folder."),
    candidate_id: int = typer.Argument(..., help="Candidate id, from `narratives discover`."),
    code_id: str | None = typer.Option(None, "--code-id", help="Id of the new code."),
    name: str | None = typer.Option(None, "--name", help="Readable name of the new code."),
    codebook: str | None = typer.Option(None, "--codebook", help="Codebook name (default: the only one)."),
    parent: str | None = typer.Option(None, "--parent", help="Parent code of the new code."),
    merge_into: str | None = typer.Option(None, "--merge-into", help="Add the quotes to this code instead."),
    dismiss: bool = typer.Option(False, "--dismiss", help="Mark the candidate as not a theme."),
    reason: str | None = typer.Option(None, "--reason", help="Why it was dismissed."),
    user: str | None = typer.Option(None, "--user", help=USER_HELP),
) -> None:
    """Turn a candidate theme into a code (definition and examples pre-filled), merge it, or dismiss it.

    Example: narratives promote demo-project 12 --code-id respite --name "Needing a break"
    """
    from narratives.cli.coding_cmds import codebook_name
    from narratives.discovery.promote import dismiss_candidate, merge_candidate, promote_candidate
    from narratives.store.project import open_project

    project = open_project(path)
    who = user or default_user()
    if dismiss:
        dismiss_candidate(project, candidate_id, who, reason=reason)
        console.print(f"Candidate {candidate_id} dismissed.", markup=False)
        return
    book = codebook_name(project, codebook)
    if merge_into:
        code = merge_candidate(project, candidate_id, merge_into, who, codebook_name=book)
        console.print(
            f"Candidate {candidate_id} merged into '{code.id}': {len(code.examples)} examples now.",
            markup=False,
        )
        return
    if not code_id or not name:
        raise CandidateError(
            "promoting needs --code-id and --name.", fix="or use --merge-into CODE or --dismiss."
        )
    code = promote_candidate(
        project, candidate_id, codebook_name=book, code_id=code_id, name=name, parent=parent, user=who
    )
    console.print(
        f"Code '{code.id}' ({code.name}) created in {book} with {len(code.examples)} examples.", markup=False
    )
    console.print(f"Definition (a draft, edit it): {code.definition}", markup=False)
    console.print(
        f"Next: narratives code {path} --codebook {book}  (or with the codebook file: codes made in the "
        "project are kept)",
        markup=False,
    )
