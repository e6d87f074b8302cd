"""RSS/Atom feeds: parse the bytes, fetch one feed, read freshness, schedule the next poll."""
