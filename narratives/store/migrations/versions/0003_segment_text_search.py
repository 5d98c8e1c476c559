"""full-text search over segment text: an FTS5 index on SQLite, a GIN index on PostgreSQL

On SQLite, ``segments_fts`` is an external-content FTS5 table over ``segments.text`` (porter stemming,
accents folded), kept in step by three triggers and filled from the segments already stored. A
SQLite built without FTS5 gets no index: :mod:`narratives.store.search` then scans with ``LIKE``.
On PostgreSQL an expression index on ``to_tsvector('english', text)`` serves ``@@`` queries; it
needs no backfill and no triggers.

A later migration that rebuilds ``segments`` with ``batch_alter_table`` on SQLite drops the
triggers with the old table: it must create them again (:data:`SQLITE_TRIGGERS`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 06:00:00
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SQLITE_TABLE = (
    "CREATE VIRTUAL TABLE segments_fts USING fts5(text, content='segments', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')"
)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER segments_fts_insert AFTER INSERT ON segments BEGIN "
    "INSERT INTO segments_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER segments_fts_delete AFTER DELETE ON segments BEGIN "
    "INSERT INTO segments_fts(segments_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER segments_fts_update AFTER UPDATE OF text ON segments BEGIN "
    "INSERT INTO segments_fts(segments_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO segments_fts(rowid, text) VALUES (new.id, new.text); END",
)
POSTGRES_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_segments_text_search ON segments USING gin (to_tsvector('english', text))"
)


def _sqlite_has_fts5() -> bool:
    options = {str(row[0]).upper() for row in op.get_bind().execute(text("PRAGMA compile_options"))}
    return "ENABLE_FTS5" in options


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(POSTGRES_INDEX)
    elif dialect == "sqlite" and _sqlite_has_fts5():
        op.execute(SQLITE_TABLE)
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
        op.execute("INSERT INTO segments_fts(segments_fts) VALUES ('rebuild')")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_segments_text_search")
    elif dialect == "sqlite":
        for name in ("segments_fts_insert", "segments_fts_delete", "segments_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS segments_fts")
