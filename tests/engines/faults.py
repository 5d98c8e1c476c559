"""A fake embedder that stops a Ray worker mid-batch, once, so a test can kill that worker."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tests.conftest import HashingEmbedder

STALL_SECONDS = 120.0  # how long the stalled worker waits to be killed before it gives up


class StallingEmbedder(HashingEmbedder):
    """The :class:`HashingEmbedder` (same name, same vectors) that, in a process other than the one
    that made it (a Ray worker), writes its pid to ``marker`` at its second ``encode`` there (its
    first batch is stored by then) and waits to be killed. Only one process ever stalls:
    ``marker`` is created exclusively, and a restarted worker finds it there."""

    def __init__(self, marker: Path):
        super().__init__()
        self.marker = str(marker)
        self.parent = os.getpid()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, calls=0, encoded=0)  # counts start again in each worker

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if os.getpid() != self.parent and self.calls >= 1 and self._claim_marker():
            threading.Event().wait(STALL_SECONDS)  # the test kills this process here
            raise RuntimeError("the test did not kill this worker")
        return super().encode(texts)

    def _claim_marker(self) -> bool:
        try:
            descriptor = os.open(self.marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        except FileExistsError:
            return False
        os.write(descriptor, str(os.getpid()).encode())
        os.close(descriptor)
        return True
