"""The segmentation actor of the Ray engine (built once per worker by Ray Data, called per batch)."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import numpy as np

from narratives.engines.store_access import Batch, StoreAddress
from narratives.schema import Segment, SegmentUnit
from narratives.segment.nlp import load_pipeline, pipeline_description
from narratives.segment.to_project import SegmentReport, segment_group
from narratives.store.segments import save_new_segments


class SegmentWorker:
    """Splits a batch of documents with the same functions as the local engine and stores the segments."""

    def __init__(self, store: StoreAddress, unit: str):
        self.project = store.open()
        self.unit = SegmentUnit(unit)
        self.nlp = load_pipeline()  # once per worker
        self.pipeline = pipeline_description(self.nlp)

    def __call__(self, batch: Batch) -> Batch:
        report = SegmentReport(unit=self.unit, pipeline=self.pipeline)
        groups: dict[SegmentUnit, list[tuple[int, str, list[dict[str, Any]]]]] = defaultdict(list)
        for document_id, use_unit, text, turns in zip(
            batch["document_id"], batch["use_unit"], batch["text"], batch["turns"], strict=True
        ):
            groups[SegmentUnit(str(use_unit))].append((int(document_id), str(text), json.loads(str(turns))))
        pieces: list[Segment] = []
        for use_unit, docs in groups.items():
            failed_before = len(report.failures)
            for piece in segment_group(docs, use_unit, self.nlp, report):
                pieces.append(piece.model_copy(update={"unit": self.unit}))  # stored under the unit asked for
            report.documents += len(docs) - (len(report.failures) - failed_before)
        self.project.write(
            lambda connection: save_new_segments(connection, pieces, self.pipeline),
            what=f"a batch of {self.unit.value} segments",
        )
        return {
            "given": np.array([len(batch["document_id"])]),
            "documents": np.array([report.documents]),
            "segments": np.array([len(pieces)]),
            "failures": np.array([json.dumps(report.failures)]),
            "pipeline": np.array([self.pipeline]),
        }
