"""Settings of a coding run and what a run reports back.

:class:`CodingConfig` is what the user (or a pipeline file) sets; its hash is stored on every
suggestion. :class:`CodingRunResult` is what :func:`~narratives.coding.runner.code_project` returns
and what the run records in its stats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from narratives.coding.llm.settings import LLMSettings
from narratives.schema import SegmentUnit

RESULT_STATS = (
    "segments_total",
    "segments_coded",
    "new_segments",
    "codes_unchanged",
    "codes_retired",
    "suggestions_written",
    "suggestions_superseded",
    "cache_hits",
    "cache_misses",
    "learned",
    "seconds",
    "thresholds",
    "warnings",
)


class CodingConfig(BaseModel):
    """Settings of a coding run; their hash is stored on every suggestion."""

    model_config = ConfigDict(extra="forbid")

    unit: SegmentUnit | None = None
    model: str | None = None  # embedding model name, as given to load_embedder
    floor: float = Field(default=0.2, ge=0, le=1)  # store a suggestion whose score reaches this ...
    top_k: int = Field(default=3, ge=0)  # ... or that is among the segment's top_k codes ...
    min_score: float = Field(default=0.05, ge=0, le=1)  # ... and scores at least this
    threshold: float = Field(default=0.5, ge=0, le=1)  # default decision threshold of the ensemble
    thresholds: dict[str, float] = Field(default_factory=dict)  # per-code overrides
    coders: list[str] = Field(default_factory=lambda: ["phrase", "similarity", "learned"])
    # The passage coder (narratives.coding.passages): "auto" adds it when the segments are long
    # (a quarter or more of them hold three or more sentences), "on" always, "off" never.
    passages: Literal["auto", "on", "off"] = "auto"
    # The LLM coder's server and model; with it set, "llm" joins the coders (narratives.coding.llm).
    llm: LLMSettings | None = None
    store_components: list[str] = Field(default_factory=list)  # also store these coders' own rows
    min_reviewed: int = 20  # reviewed texts that switch the ensemble to stacking
    seed: int = 0
    batch_size: int = Field(default=2000, ge=1)
    # Interviewers' questions are not data about the participant: left uncoded unless asked for.
    skip_speakers: list[str] = Field(default_factory=lambda: ["Interviewer"])


@dataclass
class CodingRunResult:
    run_id: int | None  # None when nothing had changed and nothing was written
    codebook: str
    codebook_version: str
    unit: str
    segments_total: int
    segments_coded: int
    new_segments: int
    codes_recoded: list[str]
    codes_unchanged: list[str]
    codes_retired: list[str]
    suggestions_written: int
    suggestions_superseded: int
    cache_hits: int
    cache_misses: int
    learned: str  # "off", "trained", "loaded"
    config_hash: str
    seconds: float
    thresholds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # e.g. a codebook pattern skipped as too slow

    @property
    def noop(self) -> bool:
        return self.run_id is None

    def __str__(self) -> str:
        if self.noop:
            return (
                f"nothing changed ({self.segments_total} {self.unit} segments, {self.cache_hits} cache hits)"
            )
        return (
            f"run {self.run_id}: {self.segments_coded} {self.unit} segments coded, "
            f"{self.suggestions_written} suggestions, {len(self.codes_recoded)} codes re-coded, "
            f"{len(self.codes_unchanged)} unchanged, {len(self.codes_retired)} retired, "
            f"cache {self.cache_hits} hits / {self.cache_misses} misses, {self.seconds:.1f} s"
        )

    def stats(self) -> dict[str, object]:
        """What the run records in its stats and its ``coding.run`` event."""
        return {key: getattr(self, key) for key in RESULT_STATS}
