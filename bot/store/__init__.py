"""The store: SQLAlchemy 2 async over SQLite or PostgreSQL, one module per table family.

Queries live in the module that owns their table and are named for what they return:
`articles` (adding, newest first), `search` (full text), `tombstones` (what was pruned),
`chats`, `chat_sources`, `digests` (claims and deliveries), `sources`, `meta`,
`send_budget`; `batching` commits many tasks' small writes together; `db` is the engine,
sessions and migrations (`migrations/`, Alembic, applied on start).

May import: `bot.news` (text and indexing) and `bot.schedule.times`. Never
`telegram`, `bot.i18n` or Babel: the store is plain async Python, used from the CLI too.
"""
