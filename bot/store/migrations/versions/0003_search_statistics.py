"""PostgreSQL: finer statistics on the search vector, so rare words are planned as rare.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

/topic asks for the newest matches (ORDER BY id DESC LIMIT n). PostgreSQL either walks
the primary key backwards, checking each row, or collects the matches from the GIN index
and sorts them; it picks by its estimate of how many rows match. With the default
statistics target it keeps the 1,000 commonest words of the search vector and guesses
every other word as fairly common, so a rare or unknown word was answered by walking
the whole table: over a second on a million articles, for a handful of matches or none.
With 10,000 words tracked (statistics target 1000) rare words are estimated as rare and
fetched through the GIN index in about a millisecond; common words still walk the
newest rows. ANALYZE once here so an existing store benefits at once (a few seconds per
million articles); autovacuum keeps it up after that. SQLite plans FTS5 queries without
statistics: nothing to do there.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE articles ALTER COLUMN search_vector SET STATISTICS 1000")
        op.execute("ANALYZE articles")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE articles ALTER COLUMN search_vector SET STATISTICS -1")
