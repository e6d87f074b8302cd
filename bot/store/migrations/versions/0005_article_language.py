"""Articles know their language: the feed's declared one, else detected from the text.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

Search terms are stemmed in an article's own language from now on. Every row before
this one was stemmed as English, which is what a NULL language means (unknown, read as
English), so the existing search text stays valid and nothing needs reindexing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("articles", sa.Column("language", sa.String(8), nullable=True))


def downgrade() -> None:
    op.drop_column("articles", "language")
