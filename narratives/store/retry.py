"""Waiting for the database when another process holds it: which refusals are worth retrying, and
how long to wait between tries.

A write that meets a lock (SQLite's ``database is locked`` / ``busy``) or a conflict PostgreSQL
resolves by cancelling one side (a serialization failure, a deadlock, a lock timeout) is tried again
after an exponentially growing, jittered pause, until :data:`WRITE_WAIT` seconds have gone by in all;
then the caller turns the last refusal into a :class:`~narratives.errors.StoreError`. Every other
database error is final at once: retrying a full disk or a wrong password only delays the message.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

logger = logging.getLogger(__name__)

T = TypeVar("T")

WRITE_WAIT = 60.0  # seconds a write waits for another process in all, before it gives up
WAIT_ENV = "NARRATIVES_WRITE_WAIT"  # overrides WRITE_WAIT (seconds), for a slow shared server
FIRST_PAUSE = 0.02
LONGEST_PAUSE = 1.0
# PostgreSQL's SQLSTATEs for "one of two conflicting transactions was cancelled; run it again":
# serialization_failure, deadlock_detected, lock_not_available (lock_timeout / NOWAIT).
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
SQLITE_LOCK_WORDS = ("database is locked", "database table is locked", "database is busy")


def write_wait() -> float:
    """How long a write waits for the lock in all: :data:`WAIT_ENV` if set to a number, else 60 s."""
    try:
        return max(0.0, float(os.environ.get(WAIT_ENV, "")))
    except ValueError:
        return WRITE_WAIT


def is_retryable(error: BaseException) -> bool:
    """True for a refusal that another process's lock or a conflict caused, which a retry can pass."""
    if not isinstance(error, DBAPIError):
        return False
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if sqlstate in RETRYABLE_SQLSTATES:
        return True
    message = str(original or error).lower()
    return any(words in message for words in SQLITE_LOCK_WORDS)


def pauses(total: float, rng: random.Random | None = None) -> Callable[[], float | None]:
    """A source of pauses: each call gives the next one (doubling from :data:`FIRST_PAUSE` up to
    :data:`LONGEST_PAUSE`, each drawn at random between half and all of it, so processes that
    collided do not collide again in step), or None once ``total`` seconds have passed."""
    rng = rng or random.Random()
    deadline = time.monotonic() + total
    ceiling = FIRST_PAUSE

    def next_pause() -> float | None:
        nonlocal ceiling
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        pause = min(left, rng.uniform(ceiling / 2, ceiling))
        ceiling = min(ceiling * 2, LONGEST_PAUSE)
        return pause

    return next_pause


def retry_while_locked(attempt: Callable[[], T], *, total: float, what: str) -> T:
    """``attempt()`` until it returns, retrying it after a pause when it fails with a retryable
    refusal; the last refusal is raised as it came once ``total`` seconds have passed. ``attempt``
    must be a whole transaction (or the taking of one): it is run again from its start."""
    next_pause = pauses(total)
    tries = 0
    while True:
        tries += 1
        try:
            return attempt()
        except DBAPIError as error:
            if not is_retryable(error):
                raise
            pause = next_pause()
            if pause is None:
                logger.warning("gave up writing %s after %d tries: %s", what, tries, error.orig)
                raise
            logger.debug("writing %s: %s; try %d again in %.2f s", what, error.orig, tries + 1, pause)
            time.sleep(pause)
