"""How a message reaches Telegram within the bot token's limits.

The chain a digest goes through, from dispatch to the Bot API::

    bot.digests.dispatch
        -> digest_sender.DigestSender   (lean: JSON over aiohttp; else PTB's send_message)
        -> ratelimit.ChatFairRateLimiter
             - per group: Telegram's pace for a group or channel; a 429 waits for the
               request that got it alone
             - overall: pacer.Pacer (one process), or shared_budget.SharedBudget
               (every instance on one PostgreSQL takes its turns from the database)
             - retry_policy: how often and how long each kind of request is tried again
        -> the Bot API

Replies to commands take the same limiter through PTB. May import: `bot.store` (the
shared budget's table), `telegram`. Nothing here knows what a digest says.
"""
