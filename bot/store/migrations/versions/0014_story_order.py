"""A chat's story order: by how many outlets report a story (the default), or newest first.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

Digests and /latest rank stories by significance (independent outlets, each weighted by
how recent its report is); a chat that prefers a plain timeline switches it in /settings.
Every existing chat starts ranked, as a new one does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(
            sa.Column("newest_first", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("newest_first")
