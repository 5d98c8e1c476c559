"""A large synthetic project for timing the explorer (:mod:`narratives.bench.ui`).

``build_large_project(path)`` writes a synthetic project in under twenty seconds (no model, no spaCy)
through the same writers the tool uses: documents of every kind (one very long interview), sentence
segments with embeddings, a codebook of 18 codes, one coding run with ensemble and per-coder
suggestions, reviews from three reviewers, a discovery run, panel quotes and responses, and the
audit events all of these record.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import Connection

from narratives.review.panel import choose_panel_quote, record_panel_response
from narratives.review.record import record_review
from narratives.schema import (
    Attribute,
    Code,
    Codebook,
    Decision,
    Document,
    Review,
    Segment,
    SegmentUnit,
    SourceKind,
    Suggestion,
    Turn,
    text_hash,
)
from narratives.store.codebooks import store_codebook
from narratives.store.coding_runs import record_coding_run, run_suggestion_ids
from narratives.store.discovery import Candidate, store_candidates
from narratives.store.documents import save_document
from narratives.store.embeddings import save_vectors
from narratives.store.project import Project, init_project, refresh_statistics
from narratives.store.segments import load_segments, save_segments, segment_text_hashes, segmented_units

CODEBOOK = "bench-care"
MODEL = "bench-fake-384"
DIM = 384
BUILDER = "bench"
REVIEWERS = ("reviewer-a", "reviewer-b", "reviewer-c")
LONG_DOCUMENT_SEGMENTS = 2000
THEMES = {
    "power": ["gatekeeping", "unequal-access", "risk-aversion", "advocacy"],
    "delivery": ["time-and-task", "crisis", "relationships", "choice"],
    "system": ["commissioning", "paperwork", "funding", "workforce"],
    "community": ["being-heard", "isolation"],
}
_VOCABULARY = (
    "care support carer worker social council budget assessment visit time money family home help "
    "choice control listen wait form phone week day night mum dad son daughter team plan review "
    "respite hours agency manager nurse doctor friend community group centre bus tired rushed "
    "kind late early never always again different same people money paid unpaid charge"
)
WORDS = tuple(_VOCABULARY.split())


def bench_codebook() -> Codebook:
    codes = []
    for theme, children in THEMES.items():
        codes.append(Code(id=theme, name=theme.title(), definition=f"Theme: {theme}.", plain_name=theme))
        for child in children:
            words = child.replace("-", " ")
            codes.append(
                Code(
                    id=child,
                    name=words.capitalize(),
                    parent=theme,
                    definition=f"Talk about {words}.",
                    examples=[f"An example about {words}."],
                    phrases=[words],
                    plain_name=f"About {words}",
                )
            )
    return Codebook(name=CODEBOOK, version="1.0", title="Benchmark codebook", codes=codes)


def _sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(8, 24))
    return " ".join(words).capitalize() + "."


def _document_plan(n_segments: int) -> Iterator[tuple[str, int]]:
    """(kind, number of segments) per document: one long interview, then a mix of kinds."""
    long_one = min(LONG_DOCUMENT_SEGMENTS, max(1, n_segments // 5))
    yield "interview", long_one
    left, cycle = n_segments - long_one, 0
    sizes = {"survey": 2, "interview": 150, "blog": 30}
    while left > 0:
        kind = ("survey",) * 6 + ("interview", "blog")
        chosen = kind[cycle % len(kind)]
        size = min(left, sizes[chosen])
        cycle += 1
        left -= size
        yield chosen, size


class BenchSegment(NamedTuple):
    id: int
    document_id: int
    kind: str
    text: str


def _build_documents(connection: Connection, rng: random.Random, n_segments: int) -> list[BenchSegment]:
    """Store documents (with participants and attributes) and their sentence segments."""
    kinds: dict[int, str] = {}
    found: list[Segment] = []
    for number, (kind, size) in enumerate(_document_plan(n_segments), start=1):
        person = f"{kind[0].upper()}{number:05d}" if kind != "blog" else None
        about_person = []
        if person is not None:
            about_person = [
                Attribute.of("age_band", rng.choice(["18-64", "65+"])),
                Attribute.of("council", rng.choice(["North", "South", "East"])),
            ]
        text, pieces, turns = _document_text(rng, kind, size)
        document = Document(
            kind=SourceKind(kind),
            title=f"{kind.title()} {number}",
            text=text,
            author="A blogger" if kind == "blog" else None,
            participant=person,
            wave=rng.choice([1, 2, 3]) if kind != "blog" else None,
            question="q1" if kind == "survey" else None,
            path=f"bench/{kind}/{number}",
            source_format="txt",
            participant_attributes=about_person,
            turns=[Turn(**turn) for turn in turns],
            content_hash=text_hash(f"{number}\x1f{text}"),
        )
        document_id = save_document(connection, document).document_id
        kinds[document_id] = kind
        found += _segments(document_id, text, pieces)
    save_segments(connection, found, pipeline=BUILDER)
    return [
        BenchSegment(int(s.id or 0), s.document_id, kinds[s.document_id], s.text)
        for s in load_segments(connection, unit=SegmentUnit.sentence)
        if s.document_id in kinds
    ]


def _segments(document_id: int, text: str, pieces: list[tuple[int, int, str | None]]) -> list[Segment]:
    return [
        Segment(
            document_id=document_id,
            unit=SegmentUnit.sentence,
            index=index,
            start=start,
            end=end,
            text=text[start:end],
            speaker=speaker,
        )
        for index, (start, end, speaker) in enumerate(pieces)
    ]


def _document_text(
    rng: random.Random, kind: str, size: int
) -> tuple[str, list[tuple[int, int, str | None]], list[dict[str, Any]]]:
    """The text, its sentence spans (start, end, speaker) and, for interviews, speaker turns."""
    parts: list[str] = []
    pieces: list[tuple[int, int, str | None]] = []
    turns: list[dict[str, Any]] = []
    position = 0
    for index in range(size):
        speaker = ("Interviewer" if index % 4 == 0 else "P") if kind == "interview" else None
        label = f"{speaker}: " if speaker else ""
        sentence = _sentence(rng)
        start = position + len(label)
        parts.append(label + sentence)
        pieces.append((start, start + len(sentence), speaker))
        if speaker:
            turns.append({"speaker": speaker, "start": start, "end": start + len(sentence)})
        position += len(label) + len(sentence) + 1
    return "\n".join(parts), pieces, turns


def _build_coding(
    connection: Connection, rng: random.Random, segment_rows: list[BenchSegment], n_suggestions: int
) -> list[Suggestion]:
    """One finished coding run and its suggestions; returns the ensemble's, in the order written."""
    sub_codes = [c for children in THEMES.values() for c in children]
    thresholds = {code: round(rng.uniform(0.4, 0.6), 2) for code in sub_codes}
    n_pairs = max(1, int(n_suggestions * 0.6))
    pairs: set[tuple[int, str]] = set()
    while len(pairs) < n_pairs:
        pairs.add((rng.choice(segment_rows).id, rng.choice(sub_codes)))
    ordered = sorted(pairs)
    items: list[Suggestion] = []
    extra = iter(rng.sample(ordered, min(len(ordered), n_suggestions - len(ordered))))
    for coder, chosen in (("ensemble", ordered), ("similarity", list(extra))):
        for segment_id, code_id in chosen:
            score = rng.betavariate(1.2, 2.5)
            items.append(_suggestion(segment_id, code_id, coder, score))
    run_id = record_coding_run(
        connection,
        codebook=CODEBOOK,
        codebook_version="1.0",
        items=items,
        user=BUILDER,
        unit="sentence",
        model=MODEL,
        config={"coders": ["phrase", "similarity", "ensemble"]},
        stats={"thresholds": thresholds},
    )
    ensemble = items[: len(ordered)]  # written first, so the first ids are theirs
    ids = run_suggestion_ids(connection, run_id)[: len(ensemble)]
    return [
        item.model_copy(update={"id": i, "run_id": run_id}) for item, i in zip(ensemble, ids, strict=True)
    ]


def _suggestion(segment_id: int, code_id: str, coder: str, score: float) -> Suggestion:
    return Suggestion(
        segment_id=segment_id,
        codebook=CODEBOOK,
        code_id=code_id,
        coder=coder,
        coder_version="1",
        score=round(score, 4),
        evidence=f"closest example: An example about {code_id.replace('-', ' ')}.",
        model=MODEL,
        codebook_version="1.0",
        config_hash="bench",
    )


def _build_embeddings(connection: Connection, seed: int) -> None:
    hashes = segment_text_hashes(connection)
    vectors = np.random.default_rng(seed).standard_normal((len(hashes), DIM)).astype("<f4")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    save_vectors(connection, MODEL, dict(zip(hashes, vectors, strict=True)))


def _build_reviews(connection: Connection, rng: random.Random, ensemble: list[Suggestion]) -> None:
    """Reviews by three reviewers (overlapping, for agreement figures), each with its audit event."""
    chosen = rng.sample(ensemble, min(len(ensemble), 3000))
    for index, suggestion in enumerate(chosen):
        for user in REVIEWERS[: 1 + index % 3]:
            decision = rng.choice([Decision.accept, Decision.reject])
            review = Review(
                segment_id=suggestion.segment_id,
                codebook=CODEBOOK,
                code_id=suggestion.code_id,
                decision=decision,
                suggestion_id=suggestion.id,
                user=user,
            )
            record_review(connection, review, source="ui")


def _build_discovery_and_panel(
    connection: Connection, rng: random.Random, segment_rows: list[BenchSegment]
) -> None:
    texts = {row.id: row.text for row in segment_rows}
    found = []
    for topic in range(12):
        members = sorted(rng.sample([s.id for s in segment_rows], min(len(segment_rows), 300)))
        label = f"theme {topic}: " + " ".join(rng.sample(WORDS, 3))
        found.append(
            Candidate(
                id=None,
                topic=topic,
                label=label,
                keywords=rng.sample(WORDS, 8),
                quotes=[{"segment_id": s, "text": texts[s]} for s in members[:5]],
                segment_ids=members,
                size=len(members),
                sizes={"kind": {"survey": len(members) // 2, "interview": len(members) - len(members) // 2}},
                overlap=[{"code_id": "paperwork", "name": "Paperwork", "share": 0.2}],
            )
        )
    store_candidates(connection, found, {"codebook": CODEBOOK}, {}, MODEL, BUILDER)
    for code_id in [c for children in THEMES.values() for c in children]:
        for row in rng.sample(segment_rows, min(len(segment_rows), 3)):
            choose_panel_quote(connection, CODEBOOK, code_id, row.id, BUILDER)
        for member in range(5):
            verdict = rng.choice(["rings_true", "misses_something", "wrong"])
            comment = "A comment." if member == 0 else None
            record_panel_response(connection, CODEBOOK, code_id, verdict, f"panel-{member}", comment=comment)


def build_large_project(
    path: str | Path, n_segments: int = 20000, n_suggestions: int = 100000, seed: int = 0
) -> Project:
    """A new project at ``path`` holding ``n_segments`` segments and ``n_suggestions`` suggestions."""
    rng = random.Random(seed)
    project = init_project(path)
    with project.begin() as connection:
        if segmented_units(connection):
            raise ValueError(f"{path} already holds a project with segments; give an empty folder")
        store_codebook(connection, bench_codebook(), BUILDER)
        segment_rows = _build_documents(connection, rng, n_segments)
        _build_embeddings(connection, seed)
        ensemble = _build_coding(connection, rng, segment_rows, n_suggestions)
        _build_reviews(connection, rng, ensemble)
        _build_discovery_and_panel(connection, rng, segment_rows)
    refresh_statistics(project)  # as a coding run leaves a real project
    return project
