"""Text and buttons for people: Telegram HTML, callback data, and what people type.

- `render`: ages, dates, headline lists, summaries; splitting under 4,096 characters.
- `callbacks`: inline buttons' callback data, short and checked when it comes back.
- `user_input`: typed text normalised (NFKC, no control or invisible characters).

May import: `bot.stories`, `bot.store`, `bot.schedule`, `bot.news`, the basics, `telegram`'s
types for buttons. Sends nothing.
"""
