"""The `newsbot` command line: run the bot, and read or manage the store without Telegram.

- `parser`: every subcommand with its options, help texts and argument types.
- `run`: `run` and `playground`, the only commands that load the Telegram wiring.
- `store`: the store opened and prepared as the bot finds it.
- `headlines`: `latest`, `topic`, `digest` and `topics`: lists read from the store.
- `articles`: `summary` and `article`: one article.
- `sources`: `sources` list, add, remove, import and export.
- `ingest`: `ingest`, one pass over every feed with its progress and report.
- `maintenance`: `seed` and `db upgrade`.

`main` lives here because it is the console script (`bot.cli:main`).

May import: every part of the bot; `bot.app` and `bot.playground` only inside the
commands that run them, so the others start without the handlers and jobs.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from bot.cli.parser import build_parser
from bot.cli.run import run_command, start_playground
from bot.config import SettingsError, load_settings
from bot.logs import configure_logging
from bot.news.opml import OPMLError
from bot.news.seeds import SeedError


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `newsbot` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 2
    if args.command == "run":
        return run_command(args, settings)
    if args.command == "playground":
        return start_playground(settings, host=args.host, port=args.port, fresh=args.fresh)
    configure_logging("WARNING")
    try:
        return asyncio.run(args.handler(args, settings))
    except (SeedError, OPMLError) as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`newsbot latest | head`): not an error worth a traceback.
        sys.stderr.close()
        return 0
