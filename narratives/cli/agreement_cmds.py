"""`narratives agreement`: agreement between coders (filled by issue 11)."""

from __future__ import annotations

from narratives.cli.app import app  # noqa: F401
