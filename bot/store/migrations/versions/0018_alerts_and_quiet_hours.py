"""Instant alerts and quiet hours.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-10

`alerts` is the outbox of alerts: one row per item a chat's alert rule caught (unique per
chat and item), due at once, after the chat's quiet hours, or when the hour's cap frees;
claimed with a lease and marked sent once Telegram accepted it. `chats.quiet_hours` holds
"HH:MM-HH:MM" in the chat's zone; `chats.quiet_digests_silent` sends digests that fall in
them without a notification sound.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, never a batch's copy of chats: on SQLite dropping the old table
    # would take every chat's rules, follows and deliveries with it (ON DELETE CASCADE).
    op.add_column("chats", sa.Column("quiet_hours", sa.String(11), nullable=True))
    op.add_column(
        "chats",
        sa.Column("quiet_digests_silent", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "chat_id",
            sa.BigInteger(),
            sa.ForeignKey("chats.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "rule_id",
            sa.Integer(),
            sa.ForeignKey("chat_topics.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("alone", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.UniqueConstraint("chat_id", "article_id", name="uq_alerts_chat_article"),
    )
    op.create_index("ix_alerts_rule_id", "alerts", ["rule_id"])
    op.create_index("ix_alerts_due", "alerts", ["sent_at", "due_at"])


def downgrade() -> None:
    op.drop_table("alerts")
    op.execute("DELETE FROM chat_topics WHERE kind = 'alert'")
    # SQLite has dropped columns in place since 3.35.
    op.drop_column("chats", "quiet_digests_silent")
    op.drop_column("chats", "quiet_hours")
