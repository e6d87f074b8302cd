"""A chat's rules: chat_topics also holds include rules, regular expressions, a source and a
field.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-09

Every follow and mute stays as it was: words (`pattern_type`), of every source, in the
title and text (`field` both). A rule is unique per chat by everything it says; a rule
of all sources counts its source as 0 there, as NULLs would never be equal.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # chat_topics has no triggers, so SQLite's copy of it in a batch loses nothing.
    with op.batch_alter_table("chat_topics") as batch_op:
        batch_op.add_column(
            sa.Column("pattern_type", sa.String(8), nullable=False, server_default="words")
        )
        batch_op.add_column(
            sa.Column(
                "source_id",
                sa.Integer(),
                sa.ForeignKey("sources.id", name="fk_chat_topics_source_id", ondelete="CASCADE"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("field", sa.String(8), nullable=False, server_default="both"))
        batch_op.drop_constraint("uq_chat_topics", type_="unique")
    op.create_index(
        "uq_chat_rules",
        "chat_topics",
        [
            "chat_id",
            "kind",
            "phrase",
            "pattern_type",
            sa.text("coalesce(source_id, 0)"),
            "field",
        ],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_chat_rules", table_name="chat_topics")
    # What an older release cannot read goes: rules other than plain follows and mutes.
    op.execute(
        "DELETE FROM chat_topics WHERE kind NOT IN ('follow', 'mute') "
        "OR pattern_type <> 'words' OR source_id IS NOT NULL OR field <> 'both'"
    )
    with op.batch_alter_table("chat_topics") as batch_op:
        batch_op.drop_column("field")
        batch_op.drop_column("source_id")
        batch_op.drop_column("pattern_type")
        batch_op.create_unique_constraint("uq_chat_topics", ["chat_id", "kind", "phrase"])
