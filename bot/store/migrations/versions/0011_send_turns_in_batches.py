"""Send turns taken in batches: an instance reserves the next few slots in one round trip.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30

Paid broadcasts allow 1,000 messages a second, but one round trip to the shared budget
per message holds an instance to about 550. `newsbot_take_send_turns` reserves up to
`wanted` slots at once, each at the earliest time that keeps every window of the budget
(reserved slots included) within the limit and the slots `gap` apart, and returns how far
ahead each one is, by the database's clock. The one-turn function of 0008 stays for
instances of the previous release until they are stopped.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The same lock as 0008's function, so old and new instances count against each other.
TAKE_SEND_TURNS = """
CREATE OR REPLACE FUNCTION newsbot_take_send_turns(
    wanted integer,
    max_sends integer,
    window_seconds double precision,
    gap_seconds double precision,
    horizon_seconds double precision,
    OUT wait double precision,
    OUT delays double precision[]
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
    delays := ARRAY[]::double precision[];
    wait := 0;
    slot := now_at;
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
        EXIT WHEN slot > now_at + make_interval(secs => horizon_seconds);
        taken := taken || slot;
        delays := delays || extract(epoch FROM slot - now_at)::double precision;
        slot := slot + gap;
    END LOOP;
    IF cardinality(delays) = 0 THEN
        -- Nothing within the horizon: ask again when the first slot comes near.
        wait := greatest(extract(epoch FROM slot - now_at) - horizon_seconds, 0.001);
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
        op.execute("DROP FUNCTION IF EXISTS newsbot_take_send_turns")
