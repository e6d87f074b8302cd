"""Send turns that come when an instance can use them, and say when they were counted.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30

An instance turned a reserved slot's delay into its own clock's time from the moment it
read the answer. A busy event loop reads answers late, at times by hundreds of
milliseconds, so its slots fell that much later than the database had placed them, into
windows other instances had already filled; and the earliest free slot, handed to it,
was past by the time it was read. This function takes `lead_seconds`, how late the
instance expects to read the answer, and places no slot sooner than that; and it returns
`counted_at`, the database's clock (seconds since the epoch) the delays count from, which
an instance brackets between sending the ask and reading the answer. 0011's function,
without them, stays for instances of the previous release until they are stopped: both
take the same lock and count the same slots.
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# 0011's function with `lead_seconds` and `counted_at`; a migration keeps its own text, so
# later ones can never change what it did.
TAKE_SEND_TURNS = """
CREATE OR REPLACE FUNCTION newsbot_take_send_turns(
    wanted integer,
    max_sends integer,
    window_seconds double precision,
    gap_seconds double precision,
    horizon_seconds double precision,
    lead_seconds double precision,
    OUT wait double precision,
    OUT delays double precision[],
    OUT counted_at double precision
) LANGUAGE plpgsql AS $$
DECLARE
    now_at timestamptz;
    paused_until timestamptz;
    taken timestamptz[];
    slot timestamptz;
    span interval := make_interval(secs => window_seconds);
    gap interval := make_interval(secs => gap_seconds);
BEGIN
    PERFORM pg_advisory_xact_lock(31073811149516660);
    now_at := clock_timestamp();
    counted_at := extract(epoch FROM now_at)::double precision;
    delays := ARRAY[]::double precision[];
    wait := 0;
    slot := now_at + make_interval(secs => lead_seconds);
    SELECT until INTO paused_until FROM send_pause WHERE id = 1;
    IF paused_until IS NOT NULL AND paused_until > slot THEN
        slot := paused_until;
    END IF;
    -- Every slot that still counts in a window ending now or later, reserved ones too.
    SELECT coalesce(array_agg(sent_at ORDER BY sent_at), ARRAY[]::timestamptz[]) INTO taken
      FROM send_slots WHERE group_key IS NULL AND sent_at > now_at - span;
    IF cardinality(taken) > 0 THEN
        slot := greatest(slot, taken[cardinality(taken)] + gap);
    END IF;
    FOR i IN 1..greatest(wanted, 1) LOOP
        IF cardinality(taken) >= max_sends THEN
            slot := greatest(slot, taken[cardinality(taken) - max_sends + 1] + span);
        END IF;
        EXIT WHEN slot > now_at + make_interval(secs => lead_seconds + horizon_seconds);
        taken := taken || slot;
        delays := delays || extract(epoch FROM slot - now_at)::double precision;
        slot := slot + gap;
    END LOOP;
    IF cardinality(delays) = 0 THEN
        -- Nothing within the horizon: ask again when the first slot comes near.
        wait := greatest(
            extract(epoch FROM slot - now_at) - lead_seconds - horizon_seconds, 0.001
        );
        RETURN;
    END IF;
    DELETE FROM send_slots WHERE sent_at <= now_at - interval '60 seconds';
    INSERT INTO send_slots (sent_at)
    SELECT now_at + make_interval(secs => d) FROM unnest(delays) AS d;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(TAKE_SEND_TURNS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS newsbot_take_send_turns(integer, integer, "
            "double precision, double precision, double precision, double precision)"
        )
