"""Inserts that skip rows already stored, so a batch written twice (a Ray task retried after its
worker died, two workers meeting the same text) leaves one row, never a duplicate or an error.

``INSERT ... ON CONFLICT (keys) DO NOTHING`` on SQLite (3.24+) and PostgreSQL alike; ``keys`` must be
the table's primary key or one of its unique constraints.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from narratives.errors import StoreError


def insert_new_rows(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> None:
    """Insert ``rows`` into ``table`` in one statement, leaving out those whose ``keys`` are stored already."""
    if not rows:
        return
    dialect = connection.dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table).on_conflict_do_nothing(index_elements=list(keys))
    elif dialect == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=list(keys))
    else:
        raise StoreError(
            f"writes that may be retried are not supported on the {dialect} database.",
            fix="use SQLite (one machine) or PostgreSQL (a cluster) for the project.",
        )
    connection.execute(statement, list(rows))
