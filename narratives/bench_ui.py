"""How fast the explorer answers on a large project: build one, then time what each page asks for.

``build_large_project(path)`` writes a synthetic project in a few seconds with bulk inserts (no
model, no spaCy): documents of every kind (one very long interview), sentence segments with
embeddings, a codebook of 18 codes, one coding run with ensemble and per-coder suggestions, reviews
from three reviewers, a discovery run, panel quotes and responses, and their audit events.

``bench_ui(path)`` times the library calls behind each interaction of the explorer (median of
several runs, in milliseconds) and, where the explorer is installed beside the library, whole page
runs through ``streamlit.testing.v1.AppTest``. ``narratives bench`` prints the figures; the target
is under 1,000 ms for every interaction on a 2-core machine.
"""

from __future__ import annotations

import logging
import random
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, insert, select

from narratives.schema import Code, Codebook, Decision, Review, text_hash, utcnow
from narratives.store.codebooks import store_codebook
from narratives.store.project import Project, init_project, open_project
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

logger = logging.getLogger(__name__)

CODEBOOK = "bench-care"
MODEL = "bench-fake-384"
DIM = 384
BUILDER = "bench"
REVIEWERS = ("reviewer-a", "reviewer-b", "reviewer-c")
BENCH_USER = "bench-user"
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

Timings = dict[str, float]


# ------------------------------------------------------------------------------------ building


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


# ------------------------------------------------------------------------------------- timing


def median_ms(action: Callable[[], Any], repeats: int = 5) -> float:
    """Median wall time of ``action`` in milliseconds, after one untimed warm-up run."""
    action()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def _long_document_id(connection: Connection) -> int:
    from sqlalchemy import func

    return int(
        connection.execute(
            select(segments.c.document_id)
            .group_by(segments.c.document_id)
            .order_by(func.count().desc())
            .limit(1)
        ).scalar_one()
    )


def library_timings(project: Project, codebook: str, repeats: int = 5) -> Timings:
    """The library calls each page makes, timed one by one."""
    from narratives.analysis.overview import overview
    from narratives.audit import audit_log
    from narratives.coding.edits import codes_used
    from narratives.coding.promote import list_candidates
    from narratives.coding.queue import QueueFilters, review_queue
    from narratives.panel import panel_summary, panel_themes
    from narratives.store.codebooks import code_history, current_codebook
    from narratives.store.status import project_status

    def connected(call: Callable[[Connection], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with project.connect() as connection:
                return call(connection)

        return run

    with project.connect() as connection:
        document_id = _long_document_id(connection)
        first_code = current_codebook(connection, codebook).active_codes[-1].id
    queue = lambda filters=None, user=BENCH_USER: review_queue(  # noqa: E731
        project, codebook, limit=50, filters=filters, user=user
    )
    figures: dict[str, Callable[[], Any]] = {
        "overview.status": connected(project_status),
        "overview.figures": connected(lambda c: overview(c, codebook)),
        "review.queue": queue,
        "review.queue_filter_code": lambda: queue(QueueFilters(code_ids=[first_code])),
        "review.queue_filter_kind_band": lambda: queue(QueueFilters(kinds=["interview"], band="medium")),
        "review.queue_second_coding": lambda: queue(QueueFilters(reviewed_by=REVIEWERS[0])),
        "document.view_data": connected(lambda c: document_view_data(c, codebook, document_id)),
        "document.render_html": connected(lambda c: document_view_html(c, codebook, document_id)),
        "codebook.tree": connected(
            lambda c: (
                current_codebook(c, codebook),
                codes_used(c, codebook),
                code_history(c, codebook, first_code),
            )
        ),
        "discover.candidates": connected(list_candidates),
        "panel.themes": connected(lambda c: (panel_themes(c, codebook), panel_summary(c, codebook))),
        "audit.log": connected(lambda c: audit_log(c, limit=1000)),
        "audit.log_search": connected(lambda c: audit_log(c, text="paperwork", limit=1000)),
    }
    timings = {name: median_ms(action, repeats) for name, action in figures.items()}
    timings["review.record"] = _time_recording(project, codebook, repeats)
    return timings


def _time_recording(project: Project, codebook: str, repeats: int) -> float:
    """Accepting one suggestion: the review row and its event, in one transaction."""
    from narratives.coding.queue import review_queue
    from narratives.review import record_review

    waiting = review_queue(project, codebook, limit=repeats + 1, user=BENCH_USER)
    if len(waiting) < 2:
        return float("nan")
    items = iter(waiting)

    def accept_next() -> None:
        item = next(items)
        review = Review(
            segment_id=item.segment_id,
            code_id=item.code_id,
            decision=Decision.accept,
            user=BENCH_USER,
            suggestion_id=item.suggestion_id,
            codebook=codebook,
        )
        with project.begin() as connection:
            record_review(connection, review)

    return median_ms(accept_next, len(waiting) - 1)


def document_view_data(connection: Connection, codebook: str, document_id: int) -> Any:
    """What the Document view reads for one document: the list of documents, the text and its
    segments, and the marks (suggestions at or above threshold, reviews, hand-coded spans)."""
    from narratives.coding.runner import code_thresholds
    from narratives.store.documents import load_document
    from narratives.store.segments import load_segments
    from narratives.ui.highlight import document_choices, document_marks

    return (
        document_choices(connection),
        load_document(connection, document_id),
        load_segments(connection, document_id=document_id),
        document_marks(connection, codebook, document_id, thresholds=code_thresholds(connection, codebook)),
    )


def document_view_html(connection: Connection, codebook: str, document_id: int) -> str:
    """The Document view's data turned into the highlighted HTML it shows."""
    from narratives.store.codebooks import current_codes
    from narratives.ui.highlight import code_colours, highlight_html

    _, document, _, marks = document_view_data(connection, codebook, document_id)
    codes = current_codes(connection, codebook)
    names = {c.id: c.name for c in codes}
    return highlight_html(document.text, marks, code_colours(codes), names, document.turns)


def bench_ui(path: str | Path, repeats: int = 5, pages: bool = True) -> Timings:
    """{interaction: median ms} on the project at ``path`` (see :func:`build_large_project`).

    Accepting suggestions is timed for real, so the project gains a few reviews by "bench-user".
    ``pages=False`` leaves out the AppTest page runs (the slowest part, ~10 s).
    """
    project = open_project(path)
    try:
        from narratives.store.codebooks import codebook_names

        with project.connect() as connection:
            codebook = CODEBOOK if CODEBOOK in codebook_names(connection) else codebook_names(connection)[0]
        timings = library_timings(project, codebook, repeats)
    finally:
        project.close()
    if pages:
        timings.update(page_timings(Path(path), repeats=max(1, repeats // 2)))
    return timings


# ----------------------------------------------------------------------------------- page runs

PAGES = ("overview", "review", "documents", "codebook", "discover", "panel", "audit")
APP_FILE = Path(__file__).resolve().parents[1] / "app.py"
PAGE_TIMEOUT_S = 600


def page_timings(path: Path, repeats: int = 2, app_file: Path = APP_FILE) -> Timings:
    """Whole page runs in ``streamlit.testing.v1.AppTest`` with empty caches (as after any write,
    which changes the data version every cache is keyed on), and accepting one suggestion."""
    try:
        import streamlit as st
        from streamlit.testing.v1 import AppTest
    except ImportError:
        logger.warning("streamlit is not installed: page runs not timed")
        return {}
    if not app_file.exists():
        logger.warning(
            "%s not found (the explorer ships with the source tree): page runs not timed", app_file
        )
        return {}

    def opened(page: str) -> Any:
        app = AppTest.from_file(str(app_file), default_timeout=PAGE_TIMEOUT_S)
        app.session_state["project_path"] = str(Path(path).resolve())
        app.session_state["user_name"] = BENCH_USER
        app.switch_page(f"narratives/ui/pages/{page}.py")
        return app

    def cold_run(page: str) -> Callable[[], Any]:
        def run() -> None:
            app = opened(page)
            st.cache_data.clear()
            _checked(app.run(), page)
            if not app.title:
                raise RuntimeError(f"the {page} page drew no title")

        return run

    quiet = [logging.getLogger(name) for name in ("streamlit", "streamlit.runtime.caching.cache_data_api")]
    levels = [log.level for log in quiet]
    for log in quiet:
        log.setLevel(logging.ERROR)
    try:
        timings = {f"page.{page}": median_ms(cold_run(page), repeats) for page in PAGES}
        review = _checked(opened("review").run(), "review")
        timings["page.review.accept"] = median_ms(lambda: _accept(review), repeats + 1)
    finally:
        for log, level in zip(quiet, levels, strict=True):
            log.setLevel(level)
    return timings


def _accept(review: Any) -> None:
    """Press Accept on the Review queue page: the review is written and the page runs again."""
    if not review.button(key="review_accept").label:
        raise RuntimeError("the Review queue page shows no Accept button")
    _checked(review.button(key="review_accept").click().run(), "review accept")


def _checked(app: Any, what: str) -> Any:
    if app.exception:
        raise RuntimeError(f"{what}: the page raised {app.exception[0].value}")
    return app


def main() -> None:  # pragma: no cover - for `python -m narratives.bench_ui PATH`
    import json
    import sys
    import tempfile

    logging.basicConfig(level=logging.WARNING)
    if len(sys.argv) > 1:
        target = Path(sys.argv[1])
    else:
        target = Path(tempfile.mkdtemp(prefix="narratives-bench-ui-")) / "project"
    if not (target / "narratives.db").exists():
        started = time.perf_counter()
        build_large_project(target).close()
        print(f"built {target} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    print(json.dumps(bench_ui(target), indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
