"""Small helpers every store module uses to turn results into plain values."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import CursorResult

T = TypeVar("T")

IN_CHUNK = 5000  # values in one IN (...): well under every backend's limit on bound parameters


def chunked(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """``values`` in consecutive slices of at most ``size``: one query each for a long IN list."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the row an ``insert`` just wrote."""
    key = result.inserted_primary_key
    if key is None or key[0] is None:
        raise RuntimeError("the database did not report the id of the inserted row")
    return int(key[0])
