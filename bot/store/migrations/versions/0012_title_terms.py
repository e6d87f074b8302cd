"""Articles keep how many of their search terms are the title's, so /topic does not
re-read titles to rank.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30

`articles.title_terms` counts the leading terms of `search_text` that come from the title
(search_document writes the title's terms first), written at ingest. Ranking a common
word's few hundred matches split their titles into terms again, a fifth of such a search.
Rows stored before stay NULL and are read from the title when ranked, as every row was
before; searches rank the newest matches, and retention removes the rest.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("articles", sa.Column("title_terms", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("articles", "title_terms")
