"""Each article's picture: the image its feed names, or its page's og:image.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

Digests show the top story's picture, and story cards and summaries their article's. The
URL is kept, not the image: Telegram fetches it when a message shows it. Rows stored
before this have none, as items of feeds without pictures.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


# A plain ADD COLUMN, not a batch: on SQLite a batch may copy the table, and the search
# index's triggers on articles would not survive the copy.
def upgrade() -> None:
    op.add_column("articles", sa.Column("image_url", sa.String(2048), nullable=True))


def downgrade() -> None:
    op.drop_column("articles", "image_url")
