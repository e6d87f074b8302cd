"""`newsbot playground`: the real application against a Bot API served locally, and a chat page.

- `botapi`: the Bot API methods newsbot calls, answered as Telegram answers them.
- `telegram_html`: Telegram's HTML parse mode, markup to text and entities.
- `page`, `chats`, `digest_now`, `run`: the chat page, its people and chats, its buttons.

May import: `bot.app` and everything below it.
"""
