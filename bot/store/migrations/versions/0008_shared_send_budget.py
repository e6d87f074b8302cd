"""One send budget for every instance, and tombstones that know when their feed last listed them.

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-30

Telegram's limits belong to the bot token, so instances on one PostgreSQL database count
their sends in `send_slots` and hold them all while `send_pause` says a 429 is being
waited out. `seen_keys.listed_at` lets retention drop a tombstone once its feed has
stopped listing the item.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("seen_keys") as batch:
        batch.add_column(sa.Column("listed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "send_slots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("group_key", sa.String(length=64), nullable=True),
    )
    op.create_index("ix_send_slots_sent_at", "send_slots", ["sent_at"])
    op.create_index("ix_send_slots_group", "send_slots", ["group_key", "sent_at"])
    op.create_table(
        "send_pause",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("send_pause")
    op.drop_index("ix_send_slots_group", table_name="send_slots")
    op.drop_index("ix_send_slots_sent_at", table_name="send_slots")
    op.drop_table("send_slots")
    with op.batch_alter_table("seen_keys") as batch:
        batch.drop_column("listed_at")
