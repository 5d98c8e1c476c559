"""The user's narratives cache folder, one rule for everything kept between projects.

Imports nothing heavy: the command line reads it at start-up (``narratives evaluate``'s default).
"""

from __future__ import annotations

import os
from pathlib import Path


def user_cache(*parts: str) -> Path:
    """A folder of the user's narratives cache: ``$XDG_CACHE_HOME/narratives/PARTS`` (default
    ``~/.cache``), for what is kept between projects (compiled code, distilled models, vectors of
    public evaluation texts). Not created here."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser().joinpath("narratives", *parts)
