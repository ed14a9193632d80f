"""The first registry schema: models, versions, aliases, tags and the append-only history.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "models",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
    )
    op.create_table(
        "versions",
        sa.Column("model_id", sa.Integer, sa.ForeignKey("models.id"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("flavor", sa.String(64), nullable=False),
        sa.Column("task", sa.String(32), nullable=False),
        sa.Column("archived", sa.Boolean, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.UniqueConstraint("model_id", "digest", name="uq_versions_model_digest"),
    )
    op.create_index("ix_versions_digest", "versions", ["digest"])
    op.create_table(
        "aliases",
        sa.Column("model_id", sa.Integer, primary_key=True),
        sa.Column("alias", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.Column("updated_by", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(["model_id", "version"], ["versions.model_id", "versions.version"],
                                name="fk_aliases_version"),
    )
    op.create_table(
        "tags",
        sa.Column("model_id", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(["model_id", "version"], ["versions.model_id", "versions.version"],
                                name="fk_tags_version"),
    )
    op.create_table(
        "history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_id", sa.Integer, sa.ForeignKey("models.id"), nullable=False),
        sa.Column("at", _TZ, nullable=False),
        sa.Column("who", sa.String(255), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer),
        sa.Column("alias", sa.String(64)),
        sa.Column("from_version", sa.Integer),
        sa.Column("to_version", sa.Integer),
        sa.Column("reason", sa.Text),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_history_model", "history", ["model_id", "id"])


def downgrade() -> None:
    for table in ("history", "tags", "aliases", "versions", "models"):
        op.drop_table(table)
