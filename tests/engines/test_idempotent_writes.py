"""What a Ray task writes may be written twice (its worker died after the commit and the task ran
again, or two workers met one text): each segment and each vector is then stored once, on SQLite and
PostgreSQL. The workers are called here directly, without Ray."""

from __future__ import annotations

import json

import numpy as np
from sqlalchemy import func, select

from narratives.engines.embed_worker import EmbedWorker
from narratives.engines.segment_worker import SegmentWorker
from narratives.engines.store_access import StoreAddress
from narratives.schema import Document, SourceKind, text_hash
from narratives.store.documents import save_document
from narratives.store.embeddings import load_vectors, save_new_vectors
from narratives.store.project import Project
from narratives.store.tables import embeddings, segments
from tests.conftest import HashingEmbedder
from tests.store.conftest import backend_project  # noqa: F401  (the fixture: SQLite and PostgreSQL)

TEXTS = ["Waited eight months for an assessment. Nobody called back.", "Mój opiekun jest świetny. Naprawdę."]


def count(project: Project, table: object) -> int:
    with project.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_a_segment_batch_written_twice_stores_each_segment_once(backend_project: Project) -> None:  # noqa: F811
    with backend_project.begin() as connection:
        ids = [
            save_document(
                connection, Document(kind=SourceKind.survey, title=f"R{i}", text=t, path=f"s.csv#{i}")
            ).document_id
            for i, t in enumerate(TEXTS)
        ]
    batch = {
        "document_id": np.array(ids),
        "use_unit": np.array(["sentence", "sentence"]),
        "text": np.array(TEXTS, dtype=object),
        "turns": np.array([json.dumps([]), json.dumps([])], dtype=object),
    }
    worker = SegmentWorker(StoreAddress.of(backend_project), "sentence")
    first, again = worker(batch), worker(batch)  # the task run again after its first try committed
    with backend_project.connect() as connection:
        stored = connection.execute(select(segments.c.document_id, segments.c.idx, segments.c.text)).all()
    assert int(first["segments"][0]) == int(again["segments"][0]) == 4
    assert sorted(stored) == sorted(
        [
            (ids[0], 0, "Waited eight months for an assessment."),
            (ids[0], 1, "Nobody called back."),
            (ids[1], 0, "Mój opiekun jest świetny."),
            (ids[1], 1, "Naprawdę."),
        ]
    )


def test_an_embedding_batch_written_in_part_then_again_stores_each_vector_once(
    backend_project: Project,  # noqa: F811
) -> None:
    embedder = HashingEmbedder()
    hashes = [text_hash(t) for t in TEXTS]
    with backend_project.begin() as connection:  # the first try stored one vector, then died
        save_new_vectors(connection, embedder.name, {hashes[0]: embedder.encode(TEXTS[:1])[0]})
    batch = {"text_hash": np.array(hashes, dtype=object), "text": np.array(TEXTS, dtype=object)}
    worker = EmbedWorker(StoreAddress.of(backend_project), embedder)
    retried, once_more = worker(batch), worker(batch)
    with backend_project.connect() as connection:
        vectors = load_vectors(connection, embedder.name, hashes)
    assert (int(retried["encoded"][0]), int(once_more["encoded"][0])) == (1, 0)
    assert count(backend_project, embeddings) == 2
    expected = embedder.encode(TEXTS).astype("<f2").astype(np.float32)
    assert np.array_equal(np.stack([vectors[h] for h in hashes]), expected)


def test_save_new_vectors_leaves_a_stored_vector_as_it_was(backend_project: Project) -> None:  # noqa: F811
    first, other = np.full(4, 0.5, dtype=np.float32), np.full(4, -0.25, dtype=np.float32)
    with backend_project.begin() as connection:
        save_new_vectors(connection, "m", {"h1": first})
    with backend_project.begin() as connection:
        save_new_vectors(connection, "m", {"h1": other, "h2": other})
    with backend_project.connect() as connection:
        vectors = load_vectors(connection, "m", ["h1", "h2"])
    assert np.array_equal(vectors["h1"], first) and np.array_equal(vectors["h2"], other)
