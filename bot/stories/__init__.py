"""Views derived from stored articles, worked out on read and cached where many share them.

- `lines`: headline lists with one line per story (near-duplicates folded).
- `cache`: story lines and topic matches shared by every digest of a pass.
- `context`: a story's other reports and items on the same topic.
- `trends`: trending topics over the last hours, recomputed every few minutes.
- `summary`: the full summary of one article, from its body or its page.

May import: `bot.store`, `bot.news`, `bot.config`, `bot.i18n`. No Telegram.
"""
