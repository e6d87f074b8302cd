"""`newsbot run` and `newsbot playground`: the commands that load the Telegram wiring."""

from __future__ import annotations

import argparse
import sys

from bot.config import Settings
from bot.logs import configure_logging

TOKEN_HELP = (
    "newsbot: no bot token. Create a bot with @BotFather in Telegram (/newbot), then put "
    "TELEGRAM_BOT_TOKEN=<token> in .env (see .env.example) or the environment."
)

PLAYGROUND_INSTEAD = (
    "newsbot: no bot token, so starting the playground: the real bot on a local chat page. "
    "To go live, create a bot with @BotFather in Telegram (/newbot), put "
    "TELEGRAM_BOT_TOKEN=<token> in .env and run `make run` again."
)


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot until interrupted, or say how to get a token (or start the playground)."""
    if not settings.telegram_bot_token.strip():
        if args.playground_if_no_token:
            print(PLAYGROUND_INSTEAD, file=sys.stderr)
            return start_playground(
                settings, host=args.playground_host, port=args.playground_port, fresh=False
            )
        print(TOKEN_HELP, file=sys.stderr)
        return 2
    configure_logging(settings.log_level, secrets=[settings.telegram_bot_token])
    from bot.app import run_bot  # the Telegram wiring is only loaded to run the bot

    try:
        return run_bot(settings)
    except KeyboardInterrupt:
        return 0


def start_playground(settings: Settings, *, host: str, port: int, fresh: bool) -> int:
    """Serve the bot on a local chat page until interrupted."""
    configure_logging(settings.log_level)
    from bot.playground.run import run_playground  # loads the Telegram wiring, as `run` does

    return run_playground(settings, host=host, port=port, fresh=fresh)
