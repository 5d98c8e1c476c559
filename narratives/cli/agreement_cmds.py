"""``narratives agreement``: agreement between coders, human or machine, and the machine against
reviewers on out-of-fold predictions."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from narratives.cli.app import app, console, friendly_errors

if TYPE_CHECKING:
    from narratives.analysis.agreement import AgreementReport, Disagreement
    from narratives.analysis.agreement_characters import CharacterAgreement
    from narratives.analysis.agreement_stats import Estimate
    from narratives.analysis.machine_agreement import MachineAgreement


def _names(values: list[str] | None) -> list[str] | None:
    """``--coders ana,ben`` and ``--coders ana --coders ben`` alike."""
    if not values:
        return None
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def _estimate(estimate: Estimate | None) -> str:
    if estimate is None or math.isnan(estimate.value):
        return "–"
    if math.isnan(estimate.low):
        return f"{estimate.value:.2f}"
    return f"{estimate.value:.2f} [{estimate.low:.2f}, {estimate.high:.2f}]"


@app.command()
@friendly_errors
def agreement(
    project_path: Path = typer.Argument(..., help="The project folder."),
    codebook: str | None = typer.Option(None, "--codebook", help="Codebook name (optional when only one)."),
    coders: list[str] | None = typer.Option(
        None,
        "--coders",
        help="Coders to compare, comma-separated or repeated: reviewers, 'machine', 'ensemble'.",
    ),
    codes: list[str] | None = typer.Option(None, "--codes", help="Only these code ids (comma-separated)."),
    machine: bool = typer.Option(False, "--machine", help="The machine against reviewers, out of fold."),
    characters: bool = typer.Option(
        False, "--characters", help="Also character overlap of hand-coded spans."
    ),
    show_disagreements: bool = typer.Option(False, "--disagreements", help="Also list the disagreements."),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many disagreements printed."),
    bootstrap: int = typer.Option(1000, "--bootstrap", min=0, help="Bootstrap replicates for the intervals."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap and of the folds."),
    folds: int = typer.Option(5, "--folds", min=2, help="Folds for --machine."),
    target: float | None = typer.Option(
        None,
        "--target",
        min=0.01,
        max=1.0,
        help="F1 a code's lower bound must reach to be 'ready' with --machine (default: the team's, else 0.75).",
    ),
    set_target: bool = typer.Option(
        False, "--set-target", help="Keep --target as the team's target from now on."
    ),
    json_out: Path | None = typer.Option(None, "--json", help="Also write every figure to this JSON file."),
) -> None:
    """Agreement between coders per code and overall (percent, Cohen's kappa for two coders,
    Krippendorff's alpha, Gwet's AC1, each with a bootstrap 95% interval), on the segments every
    compared coder saw. Without --coders: every reviewer.

    Example: narratives agreement demo-project --coders ana,ben --disagreements --json agreement.json

    Example: narratives agreement demo-project --machine --folds 5
    """
    from narratives.store.codebooks import resolve_codebook_name
    from narratives.store.project import open_project

    project = open_project(project_path)
    if set_target:
        from narratives.analysis.machine_agreement import set_team_target

        if target is None:
            raise typer.BadParameter("--set-target needs --target VALUE.")
        set_team_target(project, target)
        console.print(f"The team's target F1 is {target:g} from now on.")
        if not machine:
            return
    with project.connect() as connection:
        name = resolve_codebook_name(connection, codebook)
    figures: dict[str, Any] = {"codebook": name}
    if machine:
        figures["machine"] = _machine(project, name, folds, seed, bootstrap, target)
    else:
        figures.update(_coders(project, name, _names(coders), _names(codes), bootstrap, seed))
        if show_disagreements:
            figures["disagreements"] = _disagreements(project, name, figures["coders"], _names(codes), limit)
        if characters:
            figures["characters"] = _characters(project, name, figures["coders"], _names(codes))
    if json_out is not None:
        json_out.write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        console.print(f"Figures written to {escape(str(json_out))}")


def _coders(
    project: Any, codebook: str, coders: list[str] | None, codes: list[str] | None, n_boot: int, seed: int
) -> dict[str, Any]:
    from narratives.analysis.agreement import coder_agreement

    with project.connect() as connection:
        report = coder_agreement(connection, codebook, coders, codes=codes, n_boot=n_boot, seed=seed)
    _print_report(report)
    return {"coders": report.coders, "agreement": report.as_dict()}


def _print_report(report: AgreementReport) -> None:
    title = f"Agreement between {', '.join(report.coders)} on {report.n_units} segments all of them saw"
    table = Table(title=escape(title))
    for column in ["code", *[f"applied: {c}" for c in report.coders], *report.statistics]:
        table.add_column(escape(column), justify="left" if column == "code" else "right")
    for code in [c for c in report.per_code if c.used]:
        counts = [str(code.applied[c]) for c in report.coders]
        table.add_row(
            escape(code.code_id), *counts, *[_estimate(getattr(code.stats, s)) for s in report.statistics]
        )
    if report.overall is not None:
        blanks = [""] * len(report.coders)
        table.add_row("overall", *blanks, *[_estimate(getattr(report.overall, s)) for s in report.statistics])
    console.print(table)
    unused = [c.code_id for c in report.per_code if not c.used]
    if unused:
        console.print(
            f"Applied by nobody on these segments (not shown, not in overall): {escape(', '.join(unused))}"
        )
    console.print(
        f"95% intervals from {report.n_boot} bootstrap replicates of segments (seed {report.seed}); "
        "overall pools every (segment, code) of the codes someone applied."
    )


def _disagreements(
    project: Any, codebook: str, coders: list[str], codes: list[str] | None, limit: int
) -> list[dict[str, Any]]:
    from narratives.analysis.agreement import disagreements

    with project.connect() as connection:
        found = disagreements(connection, codebook, coders, codes=codes)
    _print_disagreements(found[:limit], coders, len(found))
    return [d.as_dict() for d in found]


def _print_disagreements(found: list[Disagreement], coders: list[str], total: int) -> None:
    table = Table(title=f"Disagreements ({total}, {min(total, len(found))} shown)")
    for column in ["segment", "code", "text", *coders, "adjudicated"]:
        table.add_column(escape(column))
    for item in found:
        said = [
            ("yes" if item.applies[c] else "no") + (f" ({item.memos[c]})" if c in item.memos else "")
            for c in coders
        ]
        settled = item.adjudication["decision"] if item.adjudication else ""
        table.add_row(
            str(item.segment_id), escape(item.code_id), escape(item.text), *map(escape, said), settled
        )
    console.print(table)


def _characters(
    project: Any, codebook: str, coders: list[str], codes: list[str] | None
) -> list[dict[str, Any]]:
    from narratives.analysis.agreement_characters import MEASURE, character_agreement

    with project.connect() as connection:
        found = character_agreement(connection, codebook, coders, codes)
    _print_characters(found, MEASURE)
    return [item.as_dict() for item in found]


def _print_characters(found: list[CharacterAgreement], measure: str) -> None:
    table = Table(title=f"A different measure: {measure}")
    for column in ("code", "coders", "documents", "characters a", "characters b", "both", "overlap"):
        table.add_column(column, justify="left" if column in ("code", "coders") else "right")
    for item in found:
        overlap = "–" if math.isnan(item.overlap) else f"{item.overlap:.2f}"
        pair = f"{item.coder_a} / {item.coder_b}"
        numbers = [str(n) for n in (item.n_documents, item.characters_a, item.characters_b, item.both)]
        table.add_row(escape(item.code_id), escape(pair), *numbers, overlap)
    console.print(table if found else "No hand-coded spans that two of these coders share a document for.")


def _machine(
    project: Any, codebook: str, folds: int, seed: int, n_boot: int, target: float | None
) -> dict[str, Any]:
    from narratives.analysis.machine_agreement import machine_agreement, team_target

    chosen = target if target is not None else team_target(project)
    with console.status(f"Training on {folds - 1} of {folds} folds, {folds} times..."):
        found = machine_agreement(project, codebook, folds=folds, seed=seed, n_boot=n_boot, target=chosen)
    _print_machine(found)
    return found.as_dict()


def _print_machine(found: MachineAgreement) -> None:
    title = f"The machine (learned heads, {found.folds}-fold out of fold) against reviewers, {found.n_segments} segments"
    table = Table(title=escape(title))
    for column in ("code", "reviewed", "yes", "precision", "recall", "F1", "kappa", "verdict"):
        table.add_column(column, justify="left" if column in ("code", "verdict") else "right")
    for code in found.per_code:
        verdict = code.verdict + (f" (confused with {code.confused_with})" if code.confused_with else "")
        numbers = [
            _estimate(code.precision),
            _estimate(code.recall),
            _estimate(code.f1),
            _estimate(code.kappa),
        ]
        table.add_row(
            escape(code.code_id), str(code.n_reviewed), str(code.n_positive), *numbers, escape(verdict)
        )
    overall = [_estimate(found.overall[name]) for name in ("precision", "recall", "f1", "kappa")]
    table.add_row("overall", "", "", *overall, "")
    console.print(table)
    console.print(
        f"Ready: F1's lower 95% bound >= {found.target} with >= {found.min_reviews} reviewed segments; "
        f"{found.embedded} texts embedded (the rest from the cache)."
    )
