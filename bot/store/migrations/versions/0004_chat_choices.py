"""Two chat choices: the channel a private chat manages, and a preview of the top story.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

A channel's administrators set its digests up from a private chat with the bot: they
pick the channel with Telegram's chat picker, and from then on the settings commands in
that private chat change the channel until they switch back. Which channel that is must
survive a restart, so it is a column, not memory. No foreign key: the channel's row may
be removed (or move) while the private chat still points at it; a stale id reads as none.

chats.link_preview: whether a digest shows Telegram's link preview of its top story;
on for every chat until it switches it off in /settings.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("managed_chat_id", sa.BigInteger(), nullable=True))
        batch.add_column(
            sa.Column("link_preview", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("link_preview")
        batch.drop_column("managed_chat_id")
