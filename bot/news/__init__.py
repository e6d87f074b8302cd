"""News processing without a store or a bot: feeds, pages, text, language, summaries.

- `feeds/`: fetch one feed and parse its bytes; freshness and poll intervals.
- `http/`: the safe fetcher for untrusted URLs (no private addresses, size caps).
- `extract` (HTML page to text), `extractive` and `abstractive` (summaries), `grouping`
  (one story across outlets), `trending`, `query` (what /topic words mean), `text`,
  `language`, `indexing` (search terms), `seeds`, `opml`.

May import: nothing of the bot's own outside `bot.news`. Never `telegram`.
"""
