"""SQLAlchemy Core tables of a project database.

The schema is changed only through migrations (``narratives/store/migrations``). Reviews, codebook
edits, panel responses and the audit log are append-only: nothing overwrites them, and the current
state (which codes a segment carries, what a code says now) is derived from them. ``codes`` is a
projection of ``codebook_events`` kept in the same transaction, for fast reads.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", JSON, nullable=False),
)

participants = Table(
    "participants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("created", DateTime(timezone=True), nullable=False),
)

documents = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(20), nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("author", Text),
    Column("participant_id", Integer, ForeignKey("participants.id"), index=True),
    Column("date", String(40)),
    Column("wave", Integer, index=True),
    Column("question", String(200)),
    Column("path", Text),
    Column("source_format", String(20)),
    Column("content_hash", String(64), nullable=False, unique=True),
    Column("version", Integer, nullable=False, default=1),
    Column("previous_id", Integer, ForeignKey("documents.id")),
    Column("current", Boolean, nullable=False, default=True),  # False once a newer version arrives
    Column("text", Text, nullable=False),
    Column("turns", JSON, nullable=False, default=list),
    Column("ingested", DateTime(timezone=True), nullable=False),
    Column("ingest_batch", Integer, index=True),
)
Index("ix_documents_path_version", documents.c.path, documents.c.version)

attributes = Table(
    "attributes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", Integer, ForeignKey("documents.id"), index=True),
    Column("participant_id", Integer, ForeignKey("participants.id"), index=True),
    Column("key", String(200), nullable=False, index=True),
    Column("value", Text),
    Column("value_type", String(10), nullable=False, default="str"),
)

segments = Table(
    "segments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", Integer, ForeignKey("documents.id"), nullable=False),
    Column("unit", String(20), nullable=False),
    Column("idx", Integer, nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("text_hash", String(64), nullable=False, index=True),
    Column("speaker", String(200)),
    Column("pipeline", String(200), nullable=False),
    UniqueConstraint("document_id", "unit", "idx"),
)
Index("ix_segments_unit_document", segments.c.unit, segments.c.document_id)

codebooks = Table(
    "codebooks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("version", String(50), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("body", JSON, nullable=False),  # the Codebook as loaded
    Column("source_path", Text),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("user", String(200), nullable=False),
)
Index("ix_codebooks_name_hash", codebooks.c.name, codebooks.c.content_hash)

codes = Table(
    "codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("codebook", String(200), nullable=False),
    Column("code_id", String(200), nullable=False),
    Column("name", Text, nullable=False),
    Column("parent", String(200)),
    Column("body", JSON, nullable=False),  # the Code as it is now
    Column("fingerprint", String(64), nullable=False),
    Column("retired", Boolean, nullable=False, default=False),
    Column("updated", DateTime(timezone=True), nullable=False),
    UniqueConstraint("codebook", "code_id"),
)

codebook_events = Table(
    "codebook_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("codebook", String(200), nullable=False, index=True),
    Column("code_id", String(200), index=True),
    Column("action", String(40), nullable=False),  # load, create, edit, rename, move, merge, ...
    Column("before", JSON),
    Column("after", JSON),
    Column("user", String(200), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
)

coding_runs = Table(
    "coding_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("codebook", String(200), nullable=False),
    Column("codebook_version", String(64), nullable=False),
    Column("unit", String(20)),
    Column("model", String(300)),
    Column("config", JSON, nullable=False),
    Column("config_hash", String(64), nullable=False),
    Column("codes", JSON, nullable=False),  # code ids this run (re)coded
    Column("stats", JSON),
    Column("user", String(200), nullable=False),
    Column("started", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True)),
)

suggestions = Table(
    "suggestions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("coding_runs.id"), nullable=False, index=True),
    Column("segment_id", Integer, ForeignKey("segments.id"), nullable=False),
    Column("codebook", String(200), nullable=False),
    Column("code_id", String(200), nullable=False),
    Column("coder", String(50), nullable=False),
    Column("coder_version", String(50), nullable=False),
    Column("score", Float, nullable=False),
    Column("evidence", Text),
    Column("evidence_start", Integer),
    Column("evidence_end", Integer),
    Column("reason", Text),  # the LLM coder's one-sentence reason; NULL for the other coders
    Column("model", String(300)),
    Column("codebook_version", String(64), nullable=False),
    Column("config_hash", String(64), nullable=False),
    Column("current", Boolean, nullable=False, default=True),  # False once a later run replaces it
    Column("created", DateTime(timezone=True), nullable=False),
)
Index("ix_suggestions_segment", suggestions.c.segment_id, suggestions.c.current)
Index("ix_suggestions_code", suggestions.c.codebook, suggestions.c.code_id, suggestions.c.current)
Index("ix_suggestions_coder_score", suggestions.c.coder, suggestions.c.current, suggestions.c.score)
# Covers the review queue's scan (narratives.review.queue): index-only, 100,000 suggestions in ~0.05 s.
Index(
    "ix_suggestions_queue",
    suggestions.c.codebook,
    suggestions.c.coder,
    suggestions.c.current,
    suggestions.c.code_id,
    suggestions.c.score,
    suggestions.c.segment_id,
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("segment_id", Integer, ForeignKey("segments.id"), nullable=False, index=True),
    Column("codebook", String(200), nullable=False),
    Column("code_id", String(200), nullable=False),
    Column("decision", String(20), nullable=False),
    Column("suggestion_id", Integer, ForeignKey("suggestions.id"), index=True),
    Column("user", String(200), nullable=False, index=True),
    Column("memo", Text),
    Column("start", Integer),
    Column("end", Integer),
    Column("source", String(20), nullable=False, default="ui"),  # ui, cli, csv, hand
    Column("created", DateTime(timezone=True), nullable=False),
)
Index("ix_reviews_code", reviews.c.codebook, reviews.c.code_id)

embeddings = Table(
    "embeddings",
    metadata,
    Column("model", String(300), primary_key=True),
    Column("text_hash", String(64), primary_key=True),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),  # float16 little-endian (older rows: float32)
)

# What an OpenAI-compatible server answered for one text under one prompt (narratives.coding.llm).
llm_answers = Table(
    "llm_answers",
    metadata,
    Column("model", String(300), primary_key=True),
    Column("prompt_hash", String(64), primary_key=True),
    Column("text_hash", String(64), primary_key=True),
    Column("answer", JSON, nullable=False),  # [{"code": ..., "quote": ..., "reason": ..., "confidence": ...}]
    Column("server", String(500), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
)

# The sentiment of each segment (narratives.coding.sentiment), replaced whenever it is scored again.
segment_sentiments = Table(
    "segment_sentiments",
    metadata,
    Column("segment_id", Integer, ForeignKey("segments.id"), primary_key=True),
    Column("label", String(20), nullable=False),  # positive, mixed, negative
    Column("positive", Float, nullable=False),
    Column("mixed", Float, nullable=False),
    Column("negative", Float, nullable=False),
    Column("model", String(300), nullable=False),  # the embedder
    Column("version", String(64), nullable=False),  # model version and the corrections' digest
    Column("created", DateTime(timezone=True), nullable=False),
)

# Reviewers' corrections of a segment's sentiment; the latest per segment holds.
sentiment_reviews = Table(
    "sentiment_reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("segment_id", Integer, ForeignKey("segments.id"), nullable=False, index=True),
    Column("label", String(20), nullable=False),
    Column("user", String(200), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
)

learned_models = Table(
    "learned_models",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("codebook", String(200), nullable=False),
    Column("code_id", String(200), nullable=False),
    Column("model", String(300), nullable=False),
    Column("blob", LargeBinary, nullable=False),  # joblib-pickled estimator
    Column("card", JSON, nullable=False),  # examples used, date, cross-validated scores
    Column("created", DateTime(timezone=True), nullable=False),
)
Index("ix_learned_models_code", learned_models.c.codebook, learned_models.c.code_id)

discovery_runs = Table(
    "discovery_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("config", JSON, nullable=False),
    Column("model", String(300)),
    Column("stats", JSON),
    Column("user", String(200), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
)

candidates = Table(
    "candidates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("discovery_runs.id"), nullable=False, index=True),
    Column("topic", Integer, nullable=False),
    Column("label", Text, nullable=False),
    Column("keywords", JSON, nullable=False),
    Column("quotes", JSON, nullable=False),  # [{segment_id, text}]
    Column("segment_ids", JSON, nullable=False),
    Column("size", Integer, nullable=False),
    Column("sizes", JSON, nullable=False),  # by source kind and by attribute group
    Column("overlap", JSON, nullable=False),  # [{code_id, share}]
)

candidate_events = Table(
    "candidate_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("candidate_id", Integer, ForeignKey("candidates.id"), nullable=False, index=True),
    Column("action", String(20), nullable=False),  # promote, merge, dismiss
    Column("code_id", String(200)),
    Column("user", String(200), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
)

panel_quotes = Table(
    "panel_quotes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("codebook", String(200), nullable=False),
    Column("code_id", String(200), nullable=False, index=True),
    Column("segment_id", Integer, ForeignKey("segments.id"), nullable=False),
    Column("user", String(200), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
)

panel_responses = Table(
    "panel_responses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("codebook", String(200), nullable=False),
    Column("code_id", String(200), nullable=False, index=True),
    Column("verdict", String(20), nullable=False),  # rings_true, misses_something, wrong
    Column("rename", Text),
    Column("comment", Text),
    Column("user", String(200), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("round_id", Integer, ForeignKey("panel_rounds.id"), index=True),  # null: before rounds
)

# A panel round: which themes (codes) and which chosen quotes a panel sees, until when.
panel_rounds = Table(
    "panel_rounds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("codebook", String(200), nullable=False),
    Column("title", String(300), nullable=False),
    Column("code_ids", JSON, nullable=False),  # [code id, ...] in the order the panel sees them
    Column("quote_ids", JSON, nullable=False),  # [panel_quotes.id, ...]
    Column("closes", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
)

# One-time invitations to a round; only a hash of the code is kept.
panel_invitations = Table(
    "panel_invitations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("round_id", Integer, ForeignKey("panel_rounds.id"), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("created_by", String(200), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("used", DateTime(timezone=True)),
    Column("used_by", String(200)),
)

# People who may log in to `narratives serve`; passwords only as argon2 hashes.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(20), nullable=False),  # admin, researcher, panel
    Column("password_hash", Text, nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_by", String(200), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("password_changed", DateTime(timezone=True), nullable=False),
)

# Login sessions: a hash of the browser's session token, when it ends, and whether it was revoked.
login_sessions = Table(
    "login_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("expires", DateTime(timezone=True), nullable=False),
    Column("revoked", DateTime(timezone=True)),
)

# Every login attempt, for rate limiting (the audit log records failures too).
login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, index=True),
    Column("client", String(100), nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False, index=True),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(50), nullable=False, index=True),
    Column("user", String(200), nullable=False, index=True),
    Column("target", String(300)),
    Column("payload", JSON, nullable=False),
    Column("undoes", Integer, ForeignKey("events.id")),
    Column("created", DateTime(timezone=True), nullable=False, index=True),
)
