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


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("image_url", sa.String(2048), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("image_url")
