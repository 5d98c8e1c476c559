"""The review page in real headless Chromium: a review redraws only the item (a fragment), the
keys write the right reviews under the right user, retraining runs in the background while the
researcher keeps reviewing, and the page shows real confidences and the real size of the queue.

Whether a run redrew the sidebar is read off the wire: an init script reads, for every
``ForwardMsg`` carrying a ``delta``, the first number of its ``metadata.delta_path`` (the root
container: 0 main, 1 sidebar), with the field numbers taken from the installed Streamlit's
descriptors. A full run of the page sends the sidebar's elements again; a fragment run sends only
its own. The steps build on each other, in order, on one server and one tab.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from narratives.review.queue import queue_size, review_queue
from narratives.store.coding_runs import run_suggestion_ids
from narratives.store.tables import coding_runs, reviews
from tests.builders.demo_project import CODEBOOK, DemoProject
from tests.e2e.conftest import (
    APP_TIMEOUT,
    REVIEWER,
    RUN_TRACKER_JS,
    Server,
    check_decoder,
    script_run,
    streamlit_protocol,
)

pytestmark = pytest.mark.browser

RETRAIN_TIMEOUT = 600_000  # milliseconds: loading the model and re-coding on a busy 2-core machine


def delta_protocol() -> dict[str, int]:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg, ForwardMsgMetadata
    from streamlit.proto.RootContainer_pb2 import RootContainer

    return {
        "metadata": ForwardMsg.DESCRIPTOR.fields_by_name["metadata"].number,
        "delta": ForwardMsg.DESCRIPTOR.fields_by_name["delta"].number,
        "deltaPath": ForwardMsgMetadata.DESCRIPTOR.fields_by_name["delta_path"].number,
        "sidebar": int(RootContainer.SIDEBAR),
        "main": int(RootContainer.MAIN),
    }


# window.__stDeltas = {main: n, sidebar: n}: deltas received per root container in this document.
DELTA_TRACKER_JS = r"""(() => {
    if (window !== window.top || window.__stDeltas) return;
    const protocol = %s;
    const counts = window.__stDeltas = {main: 0, sidebar: 0, other: 0};
    const parse = (bytes) => {  // [[field, wire, varint or sub-bytes], ...]
        const fields = [];
        let at = 0;
        const varint = () => {
            let value = 0, scale = 1, byte;
            do { byte = bytes[at++]; value += (byte & 0x7f) * scale; scale *= 128; } while (byte & 0x80);
            return value;
        };
        while (at < bytes.length) {
            const tag = varint(), field = Math.floor(tag / 8), wire = tag %% 8;
            if (wire === 0) fields.push([field, 0, varint()]);
            else if (wire === 2) { const length = varint(); fields.push([field, 2, bytes.subarray(at, at + length)]); at += length; }
            else if (wire === 1) at += 8;
            else if (wire === 5) at += 4;
            else return fields;
        }
        return fields;
    };
    const firstOfPath = (metadata) => {
        for (const [field, wire, value] of parse(metadata)) {
            if (field !== protocol.deltaPath) continue;
            if (wire === 0) return value;
            const packed = parse(Uint8Array.from([8, ...value]));  // read the first packed varint
            return packed.length ? packed[0][2] : null;
        }
        return null;
    };
    const Native = window.WebSocket;
    class DeltaWebSocket extends Native {
        constructor(url, protocols) {
            super(url, protocols);
            this.addEventListener('message', (event) => {
                if (!(event.data instanceof ArrayBuffer)) return;
                const fields = parse(new Uint8Array(event.data));
                if (!fields.some(([field]) => field === protocol.delta)) return;
                const metadata = fields.find(([field, wire]) => field === protocol.metadata && wire === 2);
                const root = metadata ? firstOfPath(metadata[2]) : null;
                if (root === protocol.sidebar) counts.sidebar++;
                else if (root === protocol.main) counts.main++;
                else counts.other++;
            });
        }
    }
    window.WebSocket = DeltaWebSocket;
})();"""

ITEM_JS = """() => {
    const box = document.querySelector('[data-testid="stMain"] [class*="st-key-review_memo_"]');
    if (!box) return null;
    const key = Array.from(box.classList).find((c) => c.startsWith('st-key-review_memo_'));
    return key ? Number(key.slice('st-key-review_memo_'.length)) : null;
}"""


@pytest.fixture(scope="module")
def tab(browser: Any) -> Iterator[Any]:
    """A tab with the conftest run tracker and the delta tracker installed before Streamlit loads."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-GB")
    context.set_default_timeout(APP_TIMEOUT)
    context.add_init_script(script=RUN_TRACKER_JS % json.dumps(streamlit_protocol()))
    context.add_init_script(script=DELTA_TRACKER_JS % json.dumps(delta_protocol()))
    page = context.new_page()
    check_decoder(page)
    yield page
    context.close()


def shown_item(page: Any) -> int | None:
    value = page.evaluate(ITEM_JS)
    return None if value is None else int(value)


def deltas(page: Any) -> dict[str, int]:
    return dict(page.evaluate("() => ({...window.__stDeltas})"))


def shown_confidence(page: Any) -> str:
    return str(page.get_by_text(re.compile(r"^Confidence \d")).first.inner_text()).strip()


def shown_waiting(page: Any) -> int:
    caption = page.get_by_text("item(s) waiting with these filters").inner_text()
    return int(caption.split()[0])


def press(page: Any, key: str) -> int | None:
    """Press a shortcut with the focus outside any field; the next item's suggestion id."""
    before = shown_item(page)
    page.get_by_role("heading", name="Review queue").click()
    page.wait_for_function("() => typeof window.__narrativesShortcuts === 'function'")
    with script_run(page):
        page.keyboard.press(key)
    page.wait_for_function(f"(before) => ({ITEM_JS})() !== before", arg=before)
    return shown_item(page)


def reviews_by(demo: DemoProject, user: str) -> list[Any]:
    with demo.project.connect() as connection:
        query = select(reviews).where(reviews.c.user == user).order_by(reviews.c.id)
        return connection.execute(query).all()


def open_review(page: Any, server: Server) -> None:
    with script_run(page):
        page.goto(server.url + "/review")
    page.locator('[data-testid="stMain"] h1').filter(has_text="Review queue").wait_for()
    page.wait_for_function(f"() => ({ITEM_JS})() !== null")


# ---------------------------------------------------------------------------------------- steps


def test_the_page_shows_real_confidences_and_the_real_queue_size(
    tab: Any, server: Server, demo_project: DemoProject
) -> None:
    open_review(tab, server)
    project = demo_project.project
    expected = review_queue(project, CODEBOOK, limit=50, user=REVIEWER)
    assert shown_item(tab) == expected[0].suggestion_id
    assert shown_confidence(tab).startswith(f"Confidence {expected[0].confidence:.2f} ")
    assert shown_waiting(tab) == queue_size(project, CODEBOOK, user=REVIEWER) == len(expected)
    assert len({f"{item.confidence:.2f}" for item in expected}) > 1


def test_keys_review_as_the_user_and_redraw_only_the_item(
    tab: Any, server: Server, demo_project: DemoProject
) -> None:
    size = shown_waiting(tab)
    first = shown_item(tab)
    confidences = [shown_confidence(tab)]
    before = deltas(tab)
    second = press(tab, "a")
    confidences.append(shown_confidence(tab))
    third = press(tab, "r")
    confidences.append(shown_confidence(tab))
    fourth = press(tab, "n")
    after = deltas(tab)
    assert after["sidebar"] == before["sidebar"], "a review redrew the sidebar: not a fragment run"
    assert after["main"] > before["main"]  # the item itself was drawn again, three times
    assert len({first, second, third, fourth}) == 4
    made = [(r.suggestion_id, r.decision, r.user, r.source) for r in reviews_by(demo_project, REVIEWER)]
    assert made == [(first, "accept", REVIEWER, "ui"), (second, "reject", REVIEWER, "ui")]
    assert shown_waiting(tab) == size - 3  # two decided, one passed over
    assert queue_size(demo_project.project, CODEBOOK, user=REVIEWER) == size - 2
    assert len(set(confidences)) > 1 and not all(c.startswith("Confidence 0.50 ") for c in confidences)
    # A control: a widget outside the fragment makes a full run, which does send the sidebar again.
    automatic = tab.locator('[data-testid="stSidebar"]').get_by_text("Retrain automatically")
    for _ in range(2):  # on, then off again
        with script_run(tab):
            automatic.click()
    assert deltas(tab)["sidebar"] > after["sidebar"]


def test_a_failed_retraining_is_shown(tab: Any, server: Server, demo_project: DemoProject) -> None:
    """The demo project was coded with the tests' fake embedder, which the explorer cannot load."""
    sidebar = tab.locator('[data-testid="stSidebar"]')
    with script_run(tab):
        sidebar.get_by_role("button", name="Retrain", exact=True).click()
    sidebar.get_by_text("Retraining failed: E510").wait_for(timeout=RETRAIN_TIMEOUT)
    assert shown_item(tab) is not None  # the review goes on


def test_retraining_runs_in_the_background_while_reviewing(
    tab: Any, server: Server, demo_project: DemoProject
) -> None:
    from narratives.coding.runner import code_project
    from narratives.embed import load_embedder
    from narratives.store.codebooks import current_codebook

    project = demo_project.project
    with project.connect() as connection:  # code it once with the real model, as `make run` does
        book = current_codebook(connection, CODEBOOK)
    code_project(project, book, embedder=load_embedder(None), user="setup")
    open_review(tab, server)
    press(tab, "a")  # a review the coded run has not learned from: retraining has work to do
    with project.connect() as connection:
        runs_before = connection.execute(select(func.count()).select_from(coding_runs)).scalar()
    sidebar = tab.locator('[data-testid="stSidebar"]')
    with script_run(tab):
        sidebar.get_by_role("button", name="Retrain", exact=True).click()
    sidebar.get_by_text("Retraining in the background").wait_for()
    reviewed = shown_item(tab)
    press(tab, "a")  # the page answers while the job runs
    sidebar.get_by_text("Retrained:").wait_for(timeout=RETRAIN_TIMEOUT)
    with project.connect() as connection:
        runs = connection.execute(select(coding_runs).order_by(coding_runs.c.id)).all()
        new_ids = run_suggestion_ids(connection, runs[-1].id)
    assert len(runs) == runs_before + 1
    accepted = [r for r in reviews_by(demo_project, REVIEWER) if r.suggestion_id == reviewed]
    assert [r.decision for r in accepted] == ["accept"]
    assert accepted[0].created <= runs[-1].finished  # written while the retraining ran
    # The page reran when the job ended: the item on show is one of the new run's suggestions.
    tab.wait_for_function(f"(ids) => ids.includes(({ITEM_JS})())", arg=new_ids, timeout=RETRAIN_TIMEOUT)
    assert shown_waiting(tab) == queue_size(project, CODEBOOK, user=REVIEWER)
