"""``narratives search``: segments by their words or by their meaning, in context, and "code all these"."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from narratives.cli.app import app, console, default_user, friendly_errors

if TYPE_CHECKING:
    from narratives.analysis.search import SearchFilters, SearchHit, SearchResult
    from narratives.store.project import Project


@app.command()
@friendly_errors
def search(
    project_path: Path = typer.Argument(..., help="The project folder."),
    query: str = typer.Argument(
        ..., help='Words, a "phrase", a OR b, -word, prefix*; or a passage with --semantic.'
    ),
    semantic: bool = typer.Option(False, "--semantic", help="Find segments near in meaning (embeddings)."),
    code: str | None = typer.Option(
        None, "--code", help="Only segments carrying this code now (id or name)."
    ),
    kind: list[str] | None = typer.Option(None, "--kind", help="Only these source kinds (repeatable)."),
    wave: list[int] | None = typer.Option(None, "--wave", help="Only these waves (repeatable)."),
    unit: str | None = typer.Option(None, "--unit", help="Segment unit (default: the unit coded)."),
    codebook: str | None = typer.Option(None, "--codebook", help="Codebook name (optional when only one)."),
    limit: int = typer.Option(20, "--limit", min=1, help="At most this many results."),
    apply_code: str | None = typer.Option(
        None, "--apply", help="Code every result shown with this code (recorded as your reviews)."
    ),
    user: str | None = typer.Option(
        None, "--user", help="Reviewer name for --apply (default: $NARRATIVES_USER)."
    ),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the results to this JSON file."),
) -> None:
    """Search the segments of current documents, best matches first, each with its context.

    Example: narratives search demo-project '"direct payment" OR budget -hospital' --kind survey

    Example: narratives search demo-project "nobody listened until it was a crisis" --semantic --wave 2

    Example: narratives search demo-project "advocate*" --apply advocacy-gaps --user ana

    A query starting with '-' goes after '--': narratives search demo-project -- "-hospital respite"
    """
    from narratives.analysis.search import SearchFilters, code_id_of, search_codebook
    from narratives.store.project import open_project

    project = open_project(project_path)
    with project.connect() as connection:
        name = search_codebook(connection, codebook)
        filters = SearchFilters(unit, tuple(kind or ()), tuple(wave or ()), code, name)
        target = code_id_of(connection, name, apply_code) if apply_code and name else None
    if apply_code and name is None:
        from narratives.store.codebooks import resolve_codebook_name

        with project.connect() as connection:
            resolve_codebook_name(connection, codebook)  # raises, naming the codebooks to choose from
    result = (
        _semantic(project, query, filters, limit) if semantic else _keyword(project, query, filters, limit)
    )
    _print(result)
    if target is not None and name is not None:
        _apply(project, name, target, result, user or default_user())
    if json_out is not None:
        payload = {**asdict(result), "hits": [asdict(hit) for hit in result.hits]}
        json_out.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
        console.print(f"Results written to {escape(str(json_out))}")


def _keyword(project: Project, query: str, filters: SearchFilters, limit: int) -> SearchResult:
    from narratives.analysis.search import keyword_search

    with project.connect() as connection:
        return keyword_search(connection, query, filters, limit=limit)


def _semantic(project: Project, query: str, filters: SearchFilters, limit: int) -> SearchResult:
    from narratives.analysis.search import build_semantic_index, search_model, search_unit, semantic_search
    from narratives.embed import load_embedder

    with project.begin() as connection:  # vectors of segments not embedded yet are stored
        embedder = load_embedder(search_model(connection, filters.codebook))
        unit = search_unit(connection, filters.unit, filters.codebook)
        with console.status("Reading the segments' vectors (embedding any not cached yet)..."):
            index = build_semantic_index(connection, embedder, unit)
        return semantic_search(connection, query, index, embedder, filters, limit=limit)


def _print(result: SearchResult) -> None:
    how = f"near in meaning ({result.model})" if result.mode == "semantic" else "matching"
    counted = "compared" if result.mode == "semantic" else "found"
    console.print(
        f"{result.total} {escape(result.unit)} segments {counted}; the {len(result.hits)} {how} "
        f"{escape(repr(result.query))} best:"
    )
    if not result.hits:
        return
    table = Table(show_lines=True)
    for column in ("#", "segment", "score", "where", "text in context", "codes"):
        table.add_column(column, justify="right" if column in ("#", "segment", "score") else "left")
    for rank, hit in enumerate(result.hits, 1):
        table.add_row(
            str(rank),
            str(hit.segment_id),
            f"{hit.score:.3f}",
            escape(where_of(hit)),
            marked(hit),
            escape(", ".join(hit.codes)),
        )
    console.print(table)


def where_of(hit: SearchHit) -> str:
    parts = [hit.document_title, hit.kind]
    if hit.wave is not None:
        parts.append(f"wave {hit.wave}")
    if hit.participant:
        parts.append(hit.participant)
    return " · ".join(parts)


def marked(hit: SearchHit, context: int = 60) -> str:
    """The segment with its matched words in bold and a little of its context, dimmed (rich markup)."""
    pieces, last = [], 0
    for start, end in hit.highlights:
        pieces += [escape(_flat(hit.text[last:start])), f"[bold]{escape(_flat(hit.text[start:end]))}[/bold]"]
        last = end
    pieces.append(escape(_flat(hit.text[last:])))
    before = _flat(hit.before[-context:]).lstrip()
    after = _flat(hit.after[:context]).rstrip()
    lead = f"[dim]…{escape(before)}[/dim] " if before else ""
    tail = f" [dim]{escape(after)}…[/dim]" if after else ""
    return lead + "".join(pieces) + tail


def _flat(text: str) -> str:
    """Runs of white space (line breaks, indents) as one space, so a table row stays one paragraph."""
    return re.sub(r"\s+", " ", text)


def _apply(project: Project, codebook: str, code_id: str, result: SearchResult, user: str) -> None:
    from narratives.review.bulk import code_segments

    if not result.hits:
        console.print("Nothing to code: no result.")
        return
    with project.begin() as connection:
        done = code_segments(connection, codebook, code_id, [h.segment_id for h in result.hits], user)
    console.print(
        f"Coded {len(done.recorded)} segments with {escape(code_id)} as {escape(user)} "
        f"({len(done.already)} carried it already). One action: the explorer's Undo takes them all back."
    )
