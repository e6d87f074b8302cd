"""Feeds: a claim is a short lease of its own, so next_fetch_at keeps when the feed was due.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

A claim used to push next_fetch_at 15 minutes ahead: a process killed mid-fetch delayed
that feed by a full interval, and the time the feed had been due was lost, so the next
poll could only be scheduled from when the pass ran. `claimed_until` holds the lease;
next_fetch_at stays the due time until the fetch is recorded.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("claimed_until")
