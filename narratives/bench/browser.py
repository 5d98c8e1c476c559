"""How fast the review page answers in a real browser: key press to the next item on screen.

``bench_browser(projects, n)`` starts the explorer (``streamlit run``, as ``narratives explore``)
on each project in turn, opens the review page in headless Chromium through Playwright and presses
``a`` (accept), ``r`` (reject) and ``n`` (next) ``n`` times each. One timing runs from just before
the key press until the page shows another item (the memo box, keyed by the suggestion id, has a
new key) and Streamlit is done: the app's script state is ``notRunning``, and no element is stale
or skeleton. The projects are copied first, so the reviews the bench writes land in the copy.

Playwright is a development dependency, imported only here; Chromium is Debian's
(``/usr/bin/chromium``), never one ``playwright install`` downloads. The target is a p95 under 300 ms
on a 2-core machine.
"""

from __future__ import annotations

import logging
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from narratives.errors import NarrativesError

logger = logging.getLogger(__name__)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BENCH_USER = "bench-user"
ACTIONS = {"a": "accept", "r": "reject", "n": "next"}
PRESS_TIMEOUT = 60_000  # milliseconds for one key press to show the next item
APP = Path(__file__).resolve().parents[2] / "app.py"

# The suggestion id the page shows now (from the memo box's key class), or null while Streamlit is
# still at work or shows nothing to review.
CURRENT_ITEM_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return null;
    if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') return null;
    if (document.querySelector('[data-stale="true"]')) return null;
    if (document.querySelector('[data-testid="stMain"] [data-testid="stSkeleton"]')) return null;
    const box = document.querySelector('[data-testid="stMain"] [class*="st-key-review_memo_"]');
    if (!box) return null;
    const key = Array.from(box.classList).find((c) => c.startsWith('st-key-review_memo_'));
    return key ? key.slice('st-key-review_memo_'.length) : null;
}"""
NEXT_ITEM_JS = f"(before) => {{ const now = ({CURRENT_ITEM_JS})(); return now !== null && now !== before; }}"


@dataclass(frozen=True)
class PressTimings:
    """One (project, action) row of the table, in milliseconds."""

    project: str
    action: str
    n: int
    median: float
    p95: float
    max: float


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile by the nearest-rank method (p95 of 20 values is the 19th)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-int(fraction * 100 * len(ordered)) // 100)))
    return ordered[rank - 1]


def summarise(project: str, action: str, times: Sequence[float]) -> PressTimings:
    return PressTimings(
        project=project,
        action=action,
        n=len(times),
        median=round(statistics.median(times), 1),
        p95=round(percentile(times, 0.95), 1),
        max=round(max(times), 1),
    )


def _playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        raise NarrativesError(
            "the browser benchmark needs the playwright package.",
            fix="pip install -e '.[dev]' (never `playwright install`: the bench uses /usr/bin/chromium)",
        ) from error
    if not CHROMIUM.exists():
        raise NarrativesError(
            f"the browser benchmark needs Chromium at {CHROMIUM}.", fix="apt-get install chromium"
        )
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def explorer(project: Path, log: Path) -> Iterator[str]:
    """A `narratives explore` server on ``project`` for the bench user; yields its URL."""
    from narratives.ui.server_config import server_environment, streamlit_command, wait_until_healthy

    port = _free_port()
    command = streamlit_command(APP, project, "127.0.0.1", port, user=BENCH_USER)  # `explore --user`
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=APP.parent, env=server_environment(), stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, url, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def press_times(page: Any, key: str, n: int) -> list[float]:
    """Milliseconds from pressing ``key`` to the next item shown, ``n`` times."""
    times = []
    for _ in range(n):
        page.wait_for_function(f"() => ({CURRENT_ITEM_JS})() !== null", timeout=PRESS_TIMEOUT)
        before = page.evaluate(CURRENT_ITEM_JS)
        started = time.perf_counter()
        page.keyboard.press(key)
        page.wait_for_function(NEXT_ITEM_JS, arg=before, timeout=PRESS_TIMEOUT, polling="raf")
        times.append((time.perf_counter() - started) * 1000)
    return times


def bench_project(browser: Any, name: str, url: str, n: int, keys: Sequence[str]) -> list[PressTimings]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(f"{url}/review", timeout=PRESS_TIMEOUT)
        page.wait_for_function(f"() => ({CURRENT_ITEM_JS})() !== null", timeout=PRESS_TIMEOUT * 3)
        page.locator('[data-testid="stMain"] h1').first.click()  # focus the page, not a field
        press_times(page, "n", 1)  # warm: the first run after loading pays for imports and caches
        return [summarise(name, ACTIONS.get(key, key), press_times(page, key, n)) for key in keys]
    finally:
        context.close()


def bench_browser(
    projects: Mapping[str, Path],
    n: int = 20,
    keys: Sequence[str] = ("a", "r", "n"),
    workdir: Path | None = None,
) -> list[PressTimings]:
    """Key press to next item on the review page of each project (a copy of it), ``n`` per key."""
    sync_playwright = _playwright()
    rows: list[PressTimings] = []
    with tempfile.TemporaryDirectory(dir=workdir) as scratch, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for index, (name, source) in enumerate(projects.items()):
                copy = Path(scratch) / f"project-{index}"
                shutil.copytree(source, copy)
                with explorer(copy, Path(scratch) / f"streamlit-{index}.log") as url:
                    rows += bench_project(browser, name, url, n, keys)
        finally:
            browser.close()
    return rows


def large_project(path: Path, n_segments: int = 100_000, n_suggestions: int | None = None) -> Path:
    """A generated bench project (:func:`narratives.bench.project.build_large_project`) at ``path``."""
    from narratives.bench.project import build_large_project

    suggestions = n_suggestions or n_segments * 3  # the runner keeps a segment's top three codes
    project = build_large_project(path, n_segments=n_segments, n_suggestions=suggestions)
    project.close()
    return path
