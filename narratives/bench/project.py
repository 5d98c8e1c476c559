"""A large synthetic project for timing the explorer (:mod:`narratives.bench.ui`).

``build_large_project(path)`` writes a synthetic project in a few seconds with bulk inserts (no
model, no spaCy): documents of every kind (one very long interview), sentence segments with
embeddings, a codebook of 18 codes, one coding run with ensemble and per-coder suggestions, reviews
from three reviewers, a discovery run, panel quotes and responses, and their audit events.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, insert, select

from narratives.schema import Code, Codebook, Decision, text_hash, utcnow
from narratives.store.codebooks import store_codebook
from narratives.store.project import Project, init_project
from narratives.store.tables import (
    attributes,
    candidates,
    coding_runs,
    discovery_runs,
    documents,
    embeddings,
    events,
    panel_quotes,
    panel_responses,
    participants,
    reviews,
    segments,
    suggestions,
)

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


def _build_documents(
    connection: Connection, rng: random.Random, n_segments: int
) -> list[tuple[int, int, str]]:
    """Insert documents, participants, attributes and segments; returns (segment id, doc id, kind)."""
    doc_rows: list[dict[str, Any]] = []
    seg_rows: list[dict[str, Any]] = []
    person_rows: list[dict[str, Any]] = []
    attr_rows: list[dict[str, Any]] = []
    now = utcnow()
    seg_id = 0
    for doc_id, (kind, size) in enumerate(_document_plan(n_segments), start=1):
        person_id = doc_id if kind != "blog" else None
        if person_id is not None:
            person_rows.append({"id": person_id, "key": f"{kind[0].upper()}{doc_id:05d}", "created": now})
            attr_rows.append(
                {"participant_id": person_id, "key": "age_band", "value": rng.choice(["18-64", "65+"])}
            )
            attr_rows.append(
                {
                    "participant_id": person_id,
                    "key": "council",
                    "value": rng.choice(["North", "South", "East"]),
                }
            )
        text, pieces, turns = _document_text(rng, kind, size)
        for idx, (start, end, speaker) in enumerate(pieces):
            seg_id += 1
            seg_rows.append(
                {
                    "id": seg_id,
                    "document_id": doc_id,
                    "unit": "sentence",
                    "idx": idx,
                    "start": start,
                    "end": end,
                    "text": text[start:end],
                    "text_hash": text_hash(text[start:end]),
                    "speaker": speaker,
                    "pipeline": BUILDER,
                }
            )
        doc_rows.append(
            {
                "id": doc_id,
                "kind": kind,
                "title": f"{kind.title()} {doc_id}",
                "author": "A blogger" if kind == "blog" else None,
                "participant_id": person_id,
                "wave": rng.choice([1, 2, 3]) if kind != "blog" else None,
                "question": "q1" if kind == "survey" else None,
                "path": f"bench/{kind}/{doc_id}",
                "source_format": "txt",
                "content_hash": text_hash(f"{doc_id}\x1f{text}"),
                "version": 1,
                "current": True,
                "text": text,
                "turns": turns,
                "ingested": now,
            }
        )
    connection.execute(insert(participants), person_rows)
    connection.execute(insert(documents), doc_rows)
    connection.execute(insert(attributes), [{**a, "value_type": "str"} for a in attr_rows])
    connection.execute(insert(segments), seg_rows)
    kinds = {int(d["id"]): str(d["kind"]) for d in doc_rows}
    return [(int(s["id"]), int(s["document_id"]), kinds[int(s["document_id"])]) for s in seg_rows]


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
    connection: Connection, rng: random.Random, segment_rows: list[tuple[int, int, str]], n_suggestions: int
) -> list[tuple[int, int, str]]:
    """One finished coding run and its suggestions; returns the ensemble (id, segment, code) rows."""
    sub_codes = [c for children in THEMES.values() for c in children]
    now = utcnow()
    thresholds = {code: round(rng.uniform(0.4, 0.6), 2) for code in sub_codes}
    run_id = connection.execute(
        insert(coding_runs).values(
            codebook=CODEBOOK,
            codebook_version="1.0",
            unit="sentence",
            model=MODEL,
            config={"coders": ["phrase", "similarity", "ensemble"]},
            config_hash="bench",
            codes=sub_codes,
            stats={"thresholds": thresholds},
            user=BUILDER,
            started=now,
            finished=now,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    n_pairs = max(1, int(n_suggestions * 0.6))
    pairs: set[tuple[int, str]] = set()
    while len(pairs) < n_pairs:
        pairs.add((rng.choice(segment_rows)[0], rng.choice(sub_codes)))
    ordered = sorted(pairs)
    rows, ensemble, next_id = [], [], 0
    extra = iter(rng.sample(ordered, min(len(ordered), n_suggestions - len(ordered))))
    for coder, chosen in (("ensemble", ordered), ("similarity", list(extra))):
        for segment_id, code_id in chosen:
            next_id += 1
            score = rng.betavariate(1.2, 2.5)
            rows.append(_suggestion_row(next_id, run_id, segment_id, code_id, coder, score, now))
            if coder == "ensemble":
                ensemble.append((next_id, segment_id, code_id))
    for start in range(0, len(rows), 20000):
        connection.execute(insert(suggestions), rows[start : start + 20000])
    return ensemble


def _suggestion_row(
    row_id: int, run_id: int, segment_id: int, code_id: str, coder: str, score: float, now: Any
) -> dict[str, Any]:
    return {
        "id": row_id,
        "run_id": run_id,
        "segment_id": segment_id,
        "codebook": CODEBOOK,
        "code_id": code_id,
        "coder": coder,
        "coder_version": "1",
        "score": round(score, 4),
        "evidence": f"closest example: An example about {code_id.replace('-', ' ')}.",
        "evidence_start": None,
        "evidence_end": None,
        "model": MODEL,
        "codebook_version": "1.0",
        "config_hash": "bench",
        "current": True,
        "created": now,
    }


def _build_embeddings(connection: Connection, seed: int) -> None:
    hashes = sorted(set(connection.execute(select(segments.c.text_hash)).scalars()))
    vectors = np.random.default_rng(seed).standard_normal((len(hashes), DIM)).astype("<f4")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = [
        {"model": MODEL, "text_hash": digest, "dim": DIM, "vector": vector.tobytes()}
        for digest, vector in zip(hashes, vectors, strict=True)
    ]
    for start in range(0, len(rows), 5000):
        connection.execute(insert(embeddings), rows[start : start + 5000])


def _build_reviews(connection: Connection, rng: random.Random, ensemble: list[tuple[int, int, str]]) -> None:
    """Reviews by three reviewers (overlapping, for agreement figures) and their audit events."""
    now = utcnow()
    chosen = rng.sample(ensemble, min(len(ensemble), 3000))
    review_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    for index, (suggestion_id, segment_id, code_id) in enumerate(chosen):
        for user in REVIEWERS[: 1 + index % 3]:
            decision = rng.choice([Decision.accept.value, Decision.reject.value])
            review_rows.append(
                {
                    "id": len(review_rows) + 1,
                    "segment_id": segment_id,
                    "codebook": CODEBOOK,
                    "code_id": code_id,
                    "decision": decision,
                    "suggestion_id": suggestion_id,
                    "user": user,
                    "source": "ui",
                    "created": now,
                }
            )
            event_rows.append(
                {
                    "kind": "review",
                    "user": user,
                    "target": f"segment/{segment_id}",
                    "payload": {"review_id": len(review_rows), "decision": decision, "code_id": code_id},
                    "created": now,
                }
            )
    connection.execute(insert(reviews), review_rows)
    connection.execute(insert(events), event_rows)


def _build_discovery_and_panel(
    connection: Connection, rng: random.Random, segment_rows: list[tuple[int, int, str]]
) -> None:
    now = utcnow()
    run_id = connection.execute(
        insert(discovery_runs).values(
            config={"codebook": CODEBOOK}, model=MODEL, stats={}, user=BUILDER, created=now
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    texts = dict(connection.execute(select(segments.c.id, segments.c.text)).all())
    for topic in range(12):
        members = sorted(rng.sample([s[0] for s in segment_rows], min(len(segment_rows), 300)))
        connection.execute(
            insert(candidates).values(
                run_id=run_id,
                topic=topic,
                label=f"theme {topic}: " + " ".join(rng.sample(WORDS, 3)),
                keywords=rng.sample(WORDS, 8),
                quotes=[{"segment_id": s, "text": texts[s]} for s in members[:5]],
                segment_ids=members,
                size=len(members),
                sizes={"kind": {"survey": len(members) // 2, "interview": len(members) - len(members) // 2}},
                overlap=[{"code_id": "paperwork", "name": "Paperwork", "share": 0.2}],
            )
        )
    quote_rows, response_rows = [], []
    for code_id in [c for children in THEMES.values() for c in children]:
        for segment_id, _, _ in rng.sample(segment_rows, min(len(segment_rows), 3)):
            quote_rows.append(
                {
                    "codebook": CODEBOOK,
                    "code_id": code_id,
                    "segment_id": segment_id,
                    "user": BUILDER,
                    "created": now,
                }
            )
        for member in range(5):
            verdict = rng.choice(["rings_true", "misses_something", "wrong"])
            response_rows.append(
                {
                    "codebook": CODEBOOK,
                    "code_id": code_id,
                    "verdict": verdict,
                    "comment": "A comment." if member == 0 else None,
                    "user": f"panel-{member}",
                    "created": now,
                }
            )
    connection.execute(insert(panel_quotes), quote_rows)
    connection.execute(insert(panel_responses), response_rows)


def build_large_project(
    path: str | Path, n_segments: int = 20000, n_suggestions: int = 100000, seed: int = 0
) -> Project:
    """A new project at ``path`` holding ``n_segments`` segments and ``n_suggestions`` suggestions."""
    rng = random.Random(seed)
    project = init_project(path)
    with project.begin() as connection:
        if connection.execute(select(segments.c.id).limit(1)).first() is not None:
            raise ValueError(f"{path} already holds a project with segments; give an empty folder")
        store_codebook(connection, bench_codebook(), BUILDER)
        segment_rows = _build_documents(connection, rng, n_segments)
        _build_embeddings(connection, seed)
        ensemble = _build_coding(connection, rng, segment_rows, n_suggestions)
        _build_reviews(connection, rng, ensemble)
        _build_discovery_and_panel(connection, rng, segment_rows)
    return project
