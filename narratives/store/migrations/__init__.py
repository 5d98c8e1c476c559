"""Alembic migrations of the project database (``versions/``; never edit one that has shipped).

:data:`HEAD_REVISION` is the newest migration's revision id, so that opening a project whose schema
is already up to date needs no alembic import. Adding a migration means updating it;
``tests/store/test_project.py`` fails until it matches what Alembic finds in ``versions/``.
"""

HEAD_REVISION = "0005"
