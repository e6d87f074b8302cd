"""A chat's interface language, and the languages of news it wants.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

chats.language: the language replies and digests are written in. Until the chat chooses
one with /language (chats.language_chosen), a private chat follows the language Telegram
reports for its user, and a group keeps the language of whoever subscribed it. Digests are
sent by a job with no user at hand, so the language is stored rather than read per update.

chats.news_languages: a comma list of ISO codes the chat's digests and /latest keep to
(None: every language); items of unknown language always pass.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(
            sa.Column("language", sa.String(length=8), nullable=False, server_default="en")
        )
        batch.add_column(
            sa.Column("language_chosen", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("news_languages", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("news_languages")
        batch.drop_column("language_chosen")
        batch.drop_column("language")
