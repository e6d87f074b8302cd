"""Articles keep the words story grouping reads, so /latest does not read them again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30

`articles.story_words` is what `bot.news.grouping.story_words` makes of an item's title
and description, written at ingest. Rows stored before stay NULL and are read afresh
when grouped, as every row was before; lists and digests read the newest items, so
within a day of the upgrade they read stored words, and retention removes the rest.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("articles", sa.Column("story_words", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("articles", "story_words")
