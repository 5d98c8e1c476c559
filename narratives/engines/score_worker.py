"""The scoring actor of the Ray engine: the driver's fitted ensemble, one copy per worker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from narratives.coding.engine import ScoringJob, score_rows
from narratives.engines.store_access import Batch
from narratives.schema import Suggestion

SUGGESTION_FIELDS = (
    "segment_id",
    "code_id",
    "coder",
    "coder_version",
    "score",
    "evidence",
    "evidence_start",
    "evidence_end",
    "reason",  # the LLM coder's one-sentence reason
)


class ScoreWorker:
    """Scores batches of segment positions with the ensemble the driver fitted (one copy per worker)."""

    def __init__(self, job: Sequence[Any]):
        import ray

        # The job's object ref comes in a list, so Ray hands it over as a ref: fetched once here.
        self.job: ScoringJob = ray.get(job[0])

    def __call__(self, batch: Batch) -> Any:
        import pyarrow as pa

        found = score_rows(self.job, np.asarray(batch["position"], dtype=np.int64))
        return pa.Table.from_pylist([suggestion_row(s) for s in found], schema=suggestion_schema())


def suggestion_row(suggestion: Suggestion) -> dict[str, Any]:
    return {name: getattr(suggestion, name) for name in SUGGESTION_FIELDS}


def suggestion_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("segment_id", pa.int64()),
            ("code_id", pa.string()),
            ("coder", pa.string()),
            ("coder_version", pa.string()),
            ("score", pa.float64()),
            ("evidence", pa.string()),
            ("evidence_start", pa.int64()),
            ("evidence_end", pa.int64()),
            ("reason", pa.string()),
        ]
    )
