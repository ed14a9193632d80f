"""Endpoint plans: each endpoint's current deployment plan and canary state, and their history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "endpoint_plans",
        sa.Column("endpoint", sa.String(128), primary_key=True),
        sa.Column("plan", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("state", sa.Text),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.Column("updated_by", sa.String(255), nullable=False),
    )
    op.create_table(
        "endpoint_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("endpoint", sa.String(128), nullable=False),
        sa.Column("at", _TZ, nullable=False),
        sa.Column("who", sa.String(255), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("plan", sa.Text),
        sa.Column("previous", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_endpoint_history_endpoint", "endpoint_history", ["endpoint", "id"])


def downgrade() -> None:
    op.drop_index("ix_endpoint_history_endpoint", "endpoint_history")
    for table in ("endpoint_history", "endpoint_plans"):
        op.drop_table(table)
