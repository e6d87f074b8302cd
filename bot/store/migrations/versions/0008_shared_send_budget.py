"""One send budget for every instance, and tombstones that know when their feed last listed them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

Telegram's limits belong to the bot token, so instances on one PostgreSQL database count
their sends in `send_slots` and hold them all while `send_pause` says a 429 is being
waited out. `seen_keys.unlisted_at` lets retention drop a tombstone once its feed has
stopped listing the item.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


# One round trip per send: the lock, the window's count and the slot taken inside the
# database (each statement of a volatile function sees what committed before it, so the
# count is read after the lock is held). bot.store.send_budget calls it.
TAKE_SEND_TURN = """
CREATE OR REPLACE FUNCTION newsbot_take_send_turn(
    max_sends integer, window_seconds double precision, gap_seconds double precision
) RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE
    now_at timestamptz;
    paused_until timestamptz;
    sends integer;
    oldest timestamptz;
    newest timestamptz;
    wait double precision := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(31073811149516660);
    now_at := clock_timestamp();
    SELECT until INTO paused_until FROM send_pause WHERE id = 1;
    IF paused_until IS NOT NULL THEN
        wait := extract(epoch FROM paused_until - now_at);
    END IF;
    SELECT count(*), min(sent_at), max(sent_at) INTO sends, oldest, newest
      FROM send_slots
     WHERE group_key IS NULL AND sent_at > now_at - make_interval(secs => window_seconds);
    IF sends >= max_sends THEN
        wait := greatest(wait, extract(epoch FROM oldest - now_at) + window_seconds);
    END IF;
    IF newest IS NOT NULL THEN
        wait := greatest(wait, extract(epoch FROM newest - now_at) + gap_seconds);
    END IF;
    IF wait > 0 THEN
        RETURN wait;
    END IF;
    DELETE FROM send_slots WHERE sent_at <= now_at - interval '60 seconds';
    INSERT INTO send_slots (sent_at) VALUES (now_at);
    RETURN 0;
END
$$
"""


def upgrade() -> None:
    with op.batch_alter_table("seen_keys") as batch:
        batch.add_column(sa.Column("unlisted_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_seen_keys_unlisted_at", "seen_keys", ["unlisted_at"])
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
    if op.get_bind().dialect.name == "postgresql":
        op.execute(TAKE_SEND_TURN)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS newsbot_take_send_turn")
    op.drop_table("send_pause")
    op.drop_index("ix_send_slots_group", table_name="send_slots")
    op.drop_index("ix_send_slots_sent_at", table_name="send_slots")
    op.drop_table("send_slots")
    op.drop_index("ix_seen_keys_unlisted_at", table_name="seen_keys")
    with op.batch_alter_table("seen_keys") as batch:
        batch.drop_column("unlisted_at")
