"""The `newsbot` argument parser: every subcommand, its options, help texts and value types."""

from __future__ import annotations

import argparse
from typing import TypeAlias

from bot.cli.articles import cmd_article, cmd_story, cmd_summary
from bot.cli.headlines import (
    cmd_alerts,
    cmd_digest,
    cmd_latest,
    cmd_rules,
    cmd_topic,
    cmd_topics,
)
from bot.cli.ingest import cmd_ingest
from bot.cli.maintenance import cmd_db_upgrade, cmd_seed
from bot.cli.sources import cmd_sources
from bot.news.language import normalise_language

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="newsbot",
        description="A Telegram bot for news headline digests, topic lookups and summaries.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    # In the order `newsbot --help` lists them.
    _add_bot_commands(commands)
    _add_store_commands(commands)
    _add_search_commands(commands)
    _add_sources_command(commands)
    _add_ingest_command(commands)
    _add_reading_commands(commands)
    return parser


def _add_bot_commands(commands: Commands) -> None:
    """`run` and `playground`: the bot on Telegram or on a local page."""
    run = commands.add_parser("run", help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    run.add_argument(
        "--playground-if-no-token",
        action="store_true",
        help="without a token, start the playground instead of stopping (what `make run` does)",
    )
    run.add_argument(
        "--playground-host",
        default="127.0.0.1",
        metavar="HOST",
        help="its address (127.0.0.1: this machine only; 0.0.0.0 in a container)",
    )
    run.add_argument(
        "--playground-port", type=_port, default=8080, metavar="PORT", help="its port (8080)"
    )
    run.set_defaults(handler=None)

    playground = commands.add_parser(
        "playground", help="the bot on a local chat page, without Telegram or a token"
    )
    playground.add_argument("--port", type=_port, default=8080, help="port (default 8080)")
    playground.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    playground.add_argument(
        "--fresh", action="store_true", help="a temporary store with only the seeds"
    )
    playground.set_defaults(handler=None)


def _add_store_commands(commands: Commands) -> None:
    """`seed` and `db upgrade`: the store's documents and schema."""
    seed = commands.add_parser("seed", help="load seed documents into the store")
    seed.add_argument("paths", nargs="*", metavar="PATH", help="seed files (default: seeds/*.txt)")
    seed.set_defaults(handler=cmd_seed)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply pending schema migrations")
    upgrade.set_defaults(handler=cmd_db_upgrade)


def _add_search_commands(commands: Commands) -> None:
    """`latest` and `topic`: headlines by date or by words."""
    latest = commands.add_parser("latest", help="print the newest headlines")
    latest.add_argument("-n", type=_positive, default=10, help="how many (default 10)")
    latest.add_argument("--json", action="store_true", help="print a JSON array")
    latest.set_defaults(handler=cmd_latest)

    topic = commands.add_parser("topic", help="search headlines and articles")
    topic.add_argument("words", nargs="+", metavar="WORDS", help='words or "a phrase"')
    topic.add_argument("-n", type=_positive, default=10, help="how many (default 10)")
    topic.add_argument("--json", action="store_true", help="print a JSON array")
    topic.add_argument(
        "--language",
        type=_language,
        action="append",
        default=[],
        metavar="CODE",
        help="also read the words as this language (ISO code: de, ru, fr...); English always",
    )
    topic.set_defaults(handler=cmd_topic)


def _add_sources_command(commands: Commands) -> None:
    """`sources` and its actions; a bare `sources` lists them."""
    sources = commands.add_parser("sources", help="list, add, remove, import or export feeds")
    source_commands = sources.add_subparsers(dest="action", metavar="ACTION")
    listing = source_commands.add_parser("list", help="every source with its health")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    add = source_commands.add_parser("add", help="add a feed by URL")
    add.add_argument("url", metavar="URL")
    remove = source_commands.add_parser("remove", help="remove a source and its items")
    remove.add_argument("id", type=int, metavar="ID")
    opml_import = source_commands.add_parser("import", help="add the feeds of an OPML file")
    opml_import.add_argument("file", metavar="FILE.opml")
    source_commands.add_parser("export", help="print every feed as OPML")
    sources.add_argument("--json", action="store_true", help="print a JSON array")
    sources.set_defaults(handler=cmd_sources, action="list")


def _add_ingest_command(commands: Commands) -> None:
    """`ingest`: every active feed fetched once."""
    ingest = commands.add_parser("ingest", help="fetch every active feed once, now")
    ingest.add_argument("--json", action="store_true", help="print a JSON array")
    ingest.set_defaults(handler=cmd_ingest)


def _add_reading_commands(commands: Commands) -> None:
    """`digest`, `summary`, `story`, `article`, `topics`, `rules` and `alerts`: what a chat would be
    shown, printed."""
    digest = commands.add_parser("digest", help="print a digest without sending or recording it")
    who = digest.add_mutually_exclusive_group(required=True)
    who.add_argument("--chat", type=int, metavar="ID", help="the digest this chat would get now")
    who.add_argument("--preview", action="store_true", help="the digest of a new subscriber")
    digest.add_argument("--json", action="store_true", help="print a JSON array")
    digest.set_defaults(handler=cmd_digest)

    summary = commands.add_parser("summary", help="the full summary of one article")
    summary.add_argument("id", type=int, metavar="ID")
    summary.add_argument("--json", action="store_true", help="print a JSON object")
    summary.set_defaults(handler=cmd_summary)

    story = commands.add_parser("story", help="one story: every outlet's report and a summary")
    story.add_argument("id", type=int, metavar="ID", help="any of the story's article ids")
    story.add_argument("--json", action="store_true", help="print a JSON object")
    story.set_defaults(handler=cmd_story)

    article = commands.add_parser("article", help="a stored article with its whole body")
    article.add_argument("id", type=int, metavar="ID")
    article.add_argument("--json", action="store_true", help="print a JSON object")
    article.set_defaults(handler=cmd_article)

    topics = commands.add_parser("topics", help="what is trending in the last hours")
    topics.add_argument("--json", action="store_true", help="print a JSON array")
    topics.set_defaults(handler=cmd_topics)

    rules = commands.add_parser("rules", help="a chat's rules (/filter) and their day's matches")
    rules.add_argument("--chat", type=int, metavar="ID", required=True, help="the chat's id")
    rules.add_argument("--json", action="store_true", help="print a JSON array")
    rules.set_defaults(handler=cmd_rules)
    alerts = commands.add_parser(
        "alerts", help="a chat's alerts (/alert), quiet hours and what waits to be sent"
    )
    alerts.add_argument("--chat", type=int, metavar="ID", required=True, help="the chat's id")
    alerts.add_argument("--json", action="store_true", help="print a JSON object")
    alerts.set_defaults(handler=cmd_alerts)


def _language(value: str) -> str:
    code = normalise_language(value)
    if code is None:
        raise argparse.ArgumentTypeError(f"{value!r} is not a language code such as de or pt-BR")
    return code


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def _port(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"{number} is not a port (0 to 65535; 0 picks a free one)")
    return number
