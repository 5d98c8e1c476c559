"""the LLM coder: its answers cached per (model, prompt, text), and a reason on every suggestion

``llm_answers`` holds what an OpenAI-compatible server answered for one segment text under one prompt
(the codes, each with a quote and a reason), so coding again sends nothing already answered.
``suggestions.reason`` keeps the one-sentence reason the LLM coder gave (NULL for the other coders).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "llm_answers",
        sa.Column("model", sa.String(length=300), nullable=False),
        sa.Column("prompt_hash", sa.String(length=64), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("server", sa.String(length=500), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("model", "prompt_hash", "text_hash", name=op.f("pk_llm_answers")),
    )
    op.add_column("suggestions", sa.Column("reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("suggestions", "reason")
    op.drop_table("llm_answers")
