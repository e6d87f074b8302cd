"""Indexes for digest dispatch: unseen items by arrival, and claims by state.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_articles_fetched", "articles", ["fetched_at"])
    op.create_index("ix_digests_status", "digests", ["status", "claimed_at"])


def downgrade() -> None:
    op.drop_index("ix_digests_status", table_name="digests")
    op.drop_index("ix_articles_fetched", table_name="articles")
