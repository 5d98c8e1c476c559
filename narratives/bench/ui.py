"""How fast the explorer answers on a large project: time what each page asks for.

``bench_ui(path)`` times the library calls behind each interaction of the explorer (median of
several runs, in milliseconds) on a project made by
:func:`~narratives.bench.project.build_large_project` and, where the explorer is installed beside
the library, whole page runs through ``streamlit.testing.v1.AppTest``. ``narratives bench`` prints
the figures; the target is under 1,000 ms for every interaction on a 2-core machine.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from narratives.bench.project import CODEBOOK, REVIEWERS, build_large_project
from narratives.schema import Decision, Review
from narratives.store.project import Project, open_project
from narratives.store.segments import segment_counts_by_document

logger = logging.getLogger(__name__)

BENCH_USER = "bench-user"
Timings = dict[str, float]


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
    """The document with the most segments (the first of them, on a tie)."""
    counts = segment_counts_by_document(connection)
    if not counts:
        raise ValueError("the project has no segments to time the explorer on")
    return min(counts, key=lambda document_id: (-counts[document_id], document_id))


def library_timings(project: Project, codebook: str, repeats: int = 5) -> Timings:
    """The library calls each page makes, timed one by one."""
    from narratives.analysis.overview import overview
    from narratives.codebook.edits import codes_used
    from narratives.discovery.promote import list_candidates
    from narratives.review.audit import audit_log
    from narratives.review.panel import panel_summary, panel_themes
    from narratives.review.queue import QueueFilters, review_queue
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
    from narratives.review.queue import review_queue
    from narratives.review.record import record_review

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
    from narratives.review.marks import document_marks
    from narratives.store.documents import document_choices, load_document
    from narratives.store.segments import load_segments

    return (
        document_choices(connection),
        load_document(connection, document_id),
        load_segments(connection, document_id=document_id),
        document_marks(connection, codebook, document_id),
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
APP_FILE = Path(__file__).resolve().parents[2] / "app.py"
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


def main() -> None:  # pragma: no cover - for `python -m narratives.bench.ui PATH`
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
