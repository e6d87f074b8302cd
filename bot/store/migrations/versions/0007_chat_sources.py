"""A chat chooses its sources: feeds it hides, and feeds of its own.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

`hidden_sources` holds the bot's feeds a chat switched off (every chat keeps all by
default, so a new feed reaches everyone). `sources.user_feed` marks a feed a chat added
with /addfeed: only the chats listed for it in `chat_feeds` see its items.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "sources", sa.Column("user_feed", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_table(
        "hidden_sources",
        sa.Column(
            "chat_id",
            sa.BigInteger(),
            sa.ForeignKey("chats.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "source_id",
            sa.Integer(),
            sa.ForeignKey("sources.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("chat_id", "source_id"),
    )
    op.create_table(
        "chat_feeds",
        sa.Column(
            "chat_id",
            sa.BigInteger(),
            sa.ForeignKey("chats.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "source_id",
            sa.Integer(),
            sa.ForeignKey("sources.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "source_id"),
    )
    op.create_index("ix_chat_feeds_source_id", "chat_feeds", ["source_id"])


def downgrade() -> None:
    op.drop_index("ix_chat_feeds_source_id", table_name="chat_feeds")
    op.drop_table("chat_feeds")
    op.drop_table("hidden_sources")
    # Not a batch: SQLite drops a plain column in place, whereas the batch's copy and
    # DROP TABLE sources stopped at "database table is locked" in a downgrade to 0004.
    op.drop_column("sources", "user_feed")
