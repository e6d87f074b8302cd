"""One digest pass: claim what is due, choose each chat's stories, render, send, record.

- `dispatch`: the pass and its order of steps (claimed before sending, recorded after),
  so that a digest is never missed and never sent twice.
- `content`: which stories a chat's digest holds (unseen, unmuted, followed first).
- `render`: the digest's heading, lines, buttons and link preview, each distinct one made
  once a pass.

May import: `bot.services`, `bot.sending`, `bot.ui`, `bot.stories`, `bot.store`,
`bot.schedule`, the basics, `telegram`.
"""
