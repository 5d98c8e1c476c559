"""the sentiment of each segment, and reviewers' corrections of it

``segment_sentiments`` holds the model's label and its three probabilities per segment;
``sentiment_reviews`` the corrections reviewers make (the latest per segment holds).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 17:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "segment_sentiments",
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=20), nullable=False),
        sa.Column("positive", sa.Float(), nullable=False),
        sa.Column("mixed", sa.Float(), nullable=False),
        sa.Column("negative", sa.Float(), nullable=False),
        sa.Column("model", sa.String(length=300), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segments.id"], name=op.f("fk_segment_sentiments_segment_id_segments")
        ),
        sa.PrimaryKeyConstraint("segment_id", name=op.f("pk_segment_sentiments")),
    )
    op.create_table(
        "sentiment_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=20), nullable=False),
        sa.Column("user", sa.String(length=200), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["segment_id"], ["segments.id"], name=op.f("fk_sentiment_reviews_segment_id_segments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sentiment_reviews")),
    )
    op.create_index(op.f("ix_sentiment_reviews_segment_id"), "sentiment_reviews", ["segment_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sentiment_reviews_segment_id"), table_name="sentiment_reviews")
    op.drop_table("sentiment_reviews")
    op.drop_table("segment_sentiments")
