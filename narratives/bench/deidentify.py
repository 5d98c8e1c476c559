"""`narratives bench --deidentify`: recall and precision of :func:`find_identifiers` on a labelled set.

The set is a JSON-lines file (``tests/deidentify/planted_identifiers.jsonl``): each record has
``text``, ``split`` ("dev" or "heldout") and ``spans``, a list of ``{start, end, label}``.

Matching rule. A planted identifier counts as **found** when the predicted spans of a compatible
kind (:data:`COMPATIBLE`) together cover every letter and digit of it; it counts as **removed**
when predicted spans of any kind do. A predicted span is **correct** when it overlaps a planted
identifier of a compatible kind; precision is correct predictions over all predictions, clean
sentences included. Recall per type is found over planted; the groups "structured" and "names and
places" pool their types.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from narratives.deidentify.rules import Span
from narratives.errors import EvaluationError

DEFAULT_SET = Path("tests/deidentify/planted_identifiers.jsonl")
PLACES_AND_SERVICES = frozenset({"place", "council", "organisation"})
COMPATIBLE: dict[str, frozenset[str]] = {
    "name": frozenset({"name"}),
    "place": PLACES_AND_SERVICES,
    "council": PLACES_AND_SERVICES,
    "care_home": PLACES_AND_SERVICES,
    "hospital": PLACES_AND_SERVICES,
    "organisation": PLACES_AND_SERVICES,
}
STRUCTURED = ("address", "postcode", "phone", "email", "nhs_number", "ni_number", "date", "url", "handle")
NAMES_AND_PLACES = ("name", "place", "council", "care_home", "hospital", "organisation")


@dataclass(frozen=True)
class Planted:
    start: int
    end: int
    label: str


@dataclass(frozen=True)
class Record:
    id: str
    split: str
    text: str
    spans: tuple[Planted, ...]


@dataclass
class Tally:
    planted: int = 0
    found: int = 0
    removed: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.planted if self.planted else 1.0


@dataclass
class Scores:
    """Per-type recall, per-kind precision and the pooled figures for one set of records."""

    recall_by_type: dict[str, Tally] = field(default_factory=dict)
    predicted_by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [correct, all]
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # (record id, label, text)
    false_positives: list[tuple[str, str, str]] = field(default_factory=list)  # (record id, kind, text)

    def pooled(self, types: Sequence[str]) -> Tally:
        tallies = [self.recall_by_type[t] for t in types if t in self.recall_by_type]
        return Tally(*(sum(getattr(t, f) for t in tallies) for f in ("planted", "found", "removed")))

    @property
    def precision(self) -> float:
        correct = sum(c for c, _ in self.predicted_by_kind.values())
        total = sum(n for _, n in self.predicted_by_kind.values())
        return correct / total if total else 1.0


def compatible(label: str) -> frozenset[str]:
    return COMPATIBLE.get(label, frozenset({label}))


def load_records(path: Path = DEFAULT_SET) -> list[Record]:
    """The labelled records of ``path``; an offset outside its text is an error naming the line."""
    if not path.exists():
        raise EvaluationError(
            f"there is no labelled de-identification set at {path}.",
            fix="run from the project's source folder, or pass --planted PATH",
        )
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        spans = tuple(Planted(int(s["start"]), int(s["end"]), str(s["label"])) for s in row["spans"])
        if any(not 0 <= s.start < s.end <= len(row["text"]) for s in spans):
            raise EvaluationError(
                f"{path} line {number}: a span lies outside its text.", fix="fix its offsets"
            )
        records.append(Record(str(row["id"]), str(row["split"]), str(row["text"]), spans))
    return records


def _covered(text: str, planted: Planted, spans: Sequence[Span]) -> bool:
    covered = {i for s in spans for i in range(s.start, s.end)}
    return all(i in covered for i in range(planted.start, planted.end) if text[i].isalnum())


def score(records: Sequence[Record], predictions: Sequence[Sequence[Span]]) -> Scores:
    """Scores of ``predictions`` (one list per record) against the records (the module's rule)."""
    scores = Scores()
    for record, predicted in zip(records, predictions, strict=True):
        for planted in record.spans:
            tally = scores.recall_by_type.setdefault(planted.label, Tally())
            tally.planted += 1
            fitting = [s for s in predicted if s.kind in compatible(planted.label)]
            found = _covered(record.text, planted, fitting)
            tally.found += found
            tally.removed += _covered(record.text, planted, predicted)
            if not found:
                scores.misses.append((record.id, planted.label, record.text[planted.start : planted.end]))
        for span in predicted:
            right = any(
                span.start < p.end and p.start < span.end and span.kind in compatible(p.label)
                for p in record.spans
            )
            counts = scores.predicted_by_kind.setdefault(span.kind, [0, 0])
            counts[0] += right
            counts[1] += 1
            if not right:
                scores.false_positives.append((record.id, span.kind, span.text))
    return scores


@dataclass
class BenchResult:
    scores: dict[str, Scores]  # by split
    sentences_per_second: float


def bench_deidentify(
    path: Path = DEFAULT_SET, find: Callable[[Sequence[str]], list[list[Span]]] | None = None
) -> BenchResult:
    """Score ``find`` (default: :func:`find_identifiers_in` with NER) on each split of the set at ``path``.

    The speed is the whole set through ``find`` once, after one warm-up call that loads the model.
    """
    from narratives.deidentify.rules import find_identifiers_in

    finder = find or find_identifiers_in
    records = load_records(path)
    finder(["Warm-up: Kev rang from Leeds."])
    began = time.perf_counter()
    predictions = finder([r.text for r in records])
    elapsed = time.perf_counter() - began
    by_split: dict[str, Scores] = {}
    for split in sorted({r.split for r in records}):
        chosen = [i for i, r in enumerate(records) if r.split == split]
        by_split[split] = score([records[i] for i in chosen], [predictions[i] for i in chosen])
    return BenchResult(by_split, len(records) / elapsed if elapsed else float("inf"))


def figures(result: BenchResult) -> dict[str, dict[str, str]]:
    """Printable figures by split: each type's recall ("0.97 (35/36)"), the groups, and precision."""
    out: dict[str, dict[str, str]] = {}
    for split, scores in result.scores.items():
        rows: dict[str, str] = {}
        for label in (*NAMES_AND_PLACES, *STRUCTURED):
            if label in scores.recall_by_type:
                rows[label] = _fraction(scores.recall_by_type[label])
        rows["names and places"] = _fraction(scores.pooled(NAMES_AND_PLACES))
        rows["structured"] = _fraction(scores.pooled(STRUCTURED))
        everything = scores.pooled([*NAMES_AND_PLACES, *STRUCTURED])
        rows["all: recall"] = _fraction(everything)
        rows["all: removed (any label)"] = f"{everything.removed / max(everything.planted, 1):.3f}"
        correct = sum(c for c, _ in scores.predicted_by_kind.values())
        total = sum(n for _, n in scores.predicted_by_kind.values())
        rows["all: precision"] = f"{scores.precision:.3f} ({correct}/{total})"
        out[split] = rows
    return out


def _fraction(tally: Tally) -> str:
    return f"{tally.recall:.3f} ({tally.found}/{tally.planted})"
