"""When digests are due: time arithmetic, and reading the times and zones people type.

- `times`: a stored zone's tzinfo and the next instant a digest is due. Plain arithmetic
  with no interface text: the store uses it to move `next_digest_at`.
- `reading`: times of day and zones as people write them, refused in the reader's language.
- `zones`: zones offered by city, language and abbreviation (CLDR through Babel).

May import: the basics (`bot.config`, `bot.i18n`). `times` imports neither i18n nor Babel.
"""
