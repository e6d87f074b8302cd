"""What comes into the store and what leaves it.

- `poller`: feeds fetched as they come due, their new items stored, the next poll planned.
- `retention`: articles older than RETENTION_DAYS pruned, their tombstones later.

May import: `bot.store`, `bot.news`, the basics. No Telegram.
"""
