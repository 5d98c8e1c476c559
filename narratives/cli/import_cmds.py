"""`narratives import`: REFI-QDA projects and codebooks in (filled by issue 11)."""

from __future__ import annotations

from narratives.cli.app import app  # noqa: F401
