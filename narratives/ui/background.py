"""Work that outlives a script run: retraining and re-coding in a worker thread, so that the
researcher keeps reviewing while it runs.

A :class:`Job` is the record a page polls (an ``st.fragment(run_every=...)`` status area): its
state, the stage and counts the coding runner reports through its ``progress`` callback, and what
came of it (a summary, or the error, which is kept, not lost). One job per key (a project) runs at
a time: asking for another while one runs hands back the running one. The records live in this
process, as the Streamlit server's sessions do; nothing here touches a page.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from narratives.errors import NarrativesError

logger = logging.getLogger(__name__)

RUNNING, DONE, FAILED = "running", "done", "failed"

_jobs: dict[str, Job] = {}
_lock = threading.Lock()
_ids = itertools.count(1)
_current = threading.local()  # the job the running worker thread works for


@dataclass
class Job:
    """One piece of background work and where it stands."""

    id: int
    key: str
    kind: str
    user: str
    state: str = RUNNING
    stage: str = "starting"
    done: int = 0
    total: int = 0
    message: str = ""  # the summary when done, the error when failed
    started: float = field(default_factory=time.time)
    finished: float | None = None
    thread: threading.Thread | None = field(default=None, repr=False, compare=False)

    @property
    def running(self) -> bool:
        return self.state == RUNNING

    @property
    def fraction(self) -> float | None:
        """How far the current stage is (0-1), when it says."""
        return min(self.done / self.total, 1.0) if self.total else None

    def wait(self, timeout: float | None = None) -> bool:
        """Until the job ends or ``timeout`` seconds pass; True when it has ended."""
        if self.thread is not None:
            self.thread.join(timeout)
        return not self.running


def job_of(key: str) -> Job | None:
    """The latest job for ``key`` (running or ended), if any."""
    with _lock:
        return _jobs.get(key)


def start_job(
    key: str,
    kind: str,
    user: str,
    work: Callable[[], Any],
    describe: Callable[[Any], str] = str,
    prepare_thread: Callable[[threading.Thread], Any] | None = None,
) -> tuple[Job, bool]:
    """Run ``work`` in a worker thread unless a job for ``key`` is running already; returns the
    job and whether this call started it. ``describe`` turns the result into the job's message;
    ``prepare_thread`` is called on the thread before it starts (the explorer attaches its script
    context there, so cached models load in it)."""
    with _lock:
        running = _jobs.get(key)
        if running is not None and running.running:
            return running, False
        job = Job(id=next(_ids), key=key, kind=kind, user=user)
        job.thread = threading.Thread(
            target=_run, args=(job, work, describe), name=f"narratives-{kind}-{job.id}", daemon=True
        )
        _jobs[key] = job
    if prepare_thread is not None:
        prepare_thread(job.thread)
    job.thread.start()
    return job, True


def _run(job: Job, work: Callable[[], Any], describe: Callable[[Any], str]) -> None:
    _current.job = job
    try:
        result = work()
        job.message = describe(result)
        job.state = DONE
    except NarrativesError as error:
        job.message, job.state = str(error), FAILED
    except Exception as error:  # a worker thread must record every failure, or it is lost
        logger.exception("background %s failed", job.kind)
        job.message, job.state = f"{type(error).__name__}: {error}", FAILED
    finally:
        job.finished = time.time()
        _current.job = None


def report_progress(stage: str, done: int, total: int) -> None:
    """The coding runner's ``progress`` callback: records the stage on the calling thread's job."""
    job: Job | None = getattr(_current, "job", None)
    if job is not None:
        job.stage, job.done, job.total = stage, int(done), int(total)


def progress_reporter() -> Callable[[str, int, int], None] | None:
    """:func:`report_progress` when called from a job's worker thread, else None."""
    return report_progress if getattr(_current, "job", None) is not None else None


def forget(key: str) -> None:
    """Drop the record of an ended job (tests; a running job is kept)."""
    with _lock:
        job = _jobs.get(key)
        if job is not None and not job.running:
            del _jobs[key]
