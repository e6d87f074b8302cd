"""Followed stories and their updates.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-09

`story_follows` holds each story a chat follows with what it knows of it (report ids,
outlets), the news held back by the day's cap and the day's count; `story_updates` is the
outbox of updates, one row per update with a unique key, claimed with a lease and marked
sent once Telegram accepted it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "story_follows",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "chat_id",
            sa.BigInteger(),
            sa.ForeignKey("chats.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("known_ids", sa.Text(), nullable=False),
        sa.Column("outlets", sa.Text(), nullable=False),
        sa.Column("held_ids", sa.Text(), nullable=False),
        sa.Column("checked_through", sa.Integer(), nullable=False),
        sa.Column("last_news_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updates_in_window", sa.Integer(), nullable=False),
        sa.Column("updates_made", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("chat_id", "article_id", name="uq_story_follows"),
    )
    op.create_index("ix_story_follows_chat_id", "story_follows", ["chat_id"])
    op.create_table(
        "story_updates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "follow_id",
            sa.Integer(),
            sa.ForeignKey("story_follows.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("article_ids", sa.Text(), nullable=False),
        sa.Column("outlets", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_story_updates_follow_id", "story_updates", ["follow_id"])
    op.create_index("ix_story_updates_due", "story_updates", ["sent_at", "claimed_until"])


def downgrade() -> None:
    op.drop_table("story_updates")
    op.drop_table("story_follows")
