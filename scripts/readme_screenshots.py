"""Development helper: screenshots of every explorer page on a real project, for the README.

Usage: .venv/bin/python scripts/readme_screenshots.py demo-project docs/screenshots
Starts the explorer (`narratives explore --user "Researcher A"`) on a free port and visits each page
in headless Chromium.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import json

from tests.e2e.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    RUN_TRACKER_JS,
    Server,
    free_port,
    script_run,
    streamlit_protocol,
)
from tests.e2e.test_explorer_browser import go_to

PAGES = {
    "Overview": "overview",
    "Review queue": "review",
    "Documents": "document",
    "Codebook": "codebook",
    "Discover": "discover",
    "Panel": "panel",
    "Audit": "audit",
}


def main(project: Path, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    server = Server(
        project_path=project.resolve(),
        port=free_port(),
        log_path=Path(tempfile.mkstemp()[1]),
        user="Researcher A",
    )
    server.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.add_init_script(script=RUN_TRACKER_JS % json.dumps(streamlit_protocol()))
            page = context.new_page()
            page.set_default_timeout(120_000)
            with script_run(page):
                page.goto(server.url + "/")
            for link, name in PAGES.items():
                go_to(page, link)
                page.screenshot(path=str(out / f"{name}.png"), full_page=False)
                print(f"saved {out / name}.png")
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
