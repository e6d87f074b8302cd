"""What the bot's operators manage and watch.

- `admin`: feeds added and removed by administrators, the figures of /stats, notices to
  administrators.
- `watchdog`: which jobs have stalled, from their heartbeats.

May import: `bot.ingest`, `bot.ui`, `bot.store`, the basics, `telegram`.
"""
