"""The registry's tables (SQLAlchemy Core); the alembic migrations create exactly these."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

#: one row per model name; write transactions lock it to serialize changes to one model
models = Table(
    "models", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(255), nullable=False),
)

#: immutable numbered versions; each is one artifact digest
versions = Table(
    "versions", metadata,
    Column("model_id", Integer, ForeignKey("models.id"), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("digest", String(64), nullable=False),
    Column("flavor", String(64), nullable=False),
    Column("task", String(32), nullable=False),
    Column("archived", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(255), nullable=False),
    UniqueConstraint("model_id", "digest", name="uq_versions_model_digest"),
    Index("ix_versions_digest", "digest"),
)

#: movable names for versions (production, candidate, shadow, ...)
aliases = Table(
    "aliases", metadata,
    Column("model_id", Integer, primary_key=True),
    Column("alias", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(255), nullable=False),
    ForeignKeyConstraint(["model_id", "version"], ["versions.model_id", "versions.version"],
                         name="fk_aliases_version"),
)

#: free-form KEY=VALUE tags on versions
tags = Table(
    "tags", metadata,
    Column("model_id", Integer, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("value", Text, nullable=False),
    ForeignKeyConstraint(["model_id", "version"], ["versions.model_id", "versions.version"],
                         name="fk_tags_version"),
)

#: append-only: every change, what it was, from and to what, when, by whom and why
history = Table(
    "history", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_id", Integer, ForeignKey("models.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("who", String(255), nullable=False),
    Column("action", String(32), nullable=False),
    Column("version", Integer),
    Column("alias", String(64)),
    Column("from_version", Integer),
    Column("to_version", Integer),
    Column("reason", Text),
    Column("detail", Text),
    Index("ix_history_model", "model_id", "id"),
)

#: each endpoint's deployment plan (JSON, as ``EndpointPlan.to_dict`` writes it) and canary state;
#: ``revision`` grows with every plan change, so servers polling it see a change at once
endpoint_plans = Table(
    "endpoint_plans", metadata,
    Column("endpoint", String(128), primary_key=True),
    Column("plan", Text, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("state", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(255), nullable=False),
)

#: append-only: every plan change of an endpoint, the plan before and after, who and why
endpoint_history = Table(
    "endpoint_history", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("endpoint", String(128), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("who", String(255), nullable=False),
    Column("action", String(32), nullable=False),
    Column("plan", Text),
    Column("previous", Text),
    Column("reason", Text),
    Column("detail", Text),
    Index("ix_endpoint_history_endpoint", "endpoint", "id"),
)
