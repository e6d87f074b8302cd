"""The `newsbot` command line: run the bot, and read or manage the store without Telegram."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.bootstrap import import_feeds, load_seeds, open_database, prepare_store
from bot.clock import SystemClock
from bot.config import Settings, SettingsError, load_settings
from bot.digests.content import build_digest
from bot.ingest.poller import IngestReport, SourceReport, ingest_all
from bot.logs import configure_logging
from bot.news.language import ENGLISH, normalise_language
from bot.news.opml import OPMLError, OutlineFeed, parse_opml, render_opml
from bot.news.query import parse_query
from bot.news.seeds import SeedError, seed_files
from bot.news.text import truncate
from bot.ops.admin import add_feed
from bot.schedule.times import zone_info
from bot.services import make_abstractive, make_fetcher
from bot.store.articles import Headline, get_article, latest_articles
from bot.store.chats import get_chat
from bot.store.db import Database
from bot.store.digests import preview_digest
from bot.store.search import search_articles
from bot.store.sources import SourceExists, remove_source, source_statuses
from bot.stories.cache import StoryCache
from bot.stories.summary import article_summary
from bot.stories.trends import current_trends
from bot.ui.render import age_text, local_time_text, more_sources_text

TOKEN_HELP = (
    "newsbot: no bot token. Create a bot with @BotFather in Telegram (/newbot), then put "
    "TELEGRAM_BOT_TOKEN=<token> in .env (see .env.example) or the environment."
)

PLAYGROUND_INSTEAD = (
    "newsbot: no bot token, so starting the playground: the real bot on a local chat page. "
    "To go live, create a bot with @BotFather in Telegram (/newbot), put "
    "TELEGRAM_BOT_TOKEN=<token> in .env and run `make run` again."
)


def _headline_json(headline: Headline) -> dict[str, object]:
    return {
        "id": headline.id,
        "title": headline.title,
        "url": headline.url,
        "source": headline.source,
        "published_at": headline.published_at.isoformat(),
        "description": headline.description,
    }


def _print_headlines(
    headlines: Sequence[Headline],
    *,
    as_json: bool,
    now: datetime,
    notes: dict[int, str] | None = None,
) -> None:
    if as_json:
        print(json.dumps([_headline_json(h) for h in headlines], ensure_ascii=False, indent=2))
        return
    width = len(str(len(headlines)))
    for number, headline in enumerate(headlines, 1):
        print(f"{number:>{width}}. {headline.title}")
        details = f"{headline.source} · {age_text(headline.published_at, now)} · id {headline.id}"
        if notes and headline.id in notes:
            details += f" · {notes[headline.id]}"
        print(f"{' ' * width}  {details}")
        if headline.url:
            print(f"{' ' * width}  {headline.url}")


async def _ready_store(settings: Settings) -> Database:
    database = await open_database(settings)
    await prepare_store(database, settings, now=SystemClock().now())
    return database


async def cmd_latest(args: argparse.Namespace, settings: Settings) -> int:
    """Print the newest items."""
    database = await _ready_store(settings)
    try:
        async with database.session() as session:
            headlines = await latest_articles(session, limit=args.n)
    finally:
        await database.dispose()
    _print_headlines(headlines, as_json=args.json, now=SystemClock().now())
    return 0


async def cmd_topic(args: argparse.Namespace, settings: Settings) -> int:
    """Print the best matches for some words."""
    query = parse_query(" ".join(args.words), languages=[*args.language, ENGLISH])
    now = SystemClock().now()
    database = await _ready_store(settings)
    try:
        async with database.session() as session:
            result = await search_articles(session, query, limit=args.n, now=now)
    finally:
        await database.dispose()
    if not args.json:
        if query.is_empty:
            print("Nothing to search for: give some words.", file=sys.stderr)
        elif result.mode == "none":
            print(f"No headlines match {query.text!r}.", file=sys.stderr)
        elif result.mode == "any":
            print(
                f"No headline has all of {query.text!r}; these have some of the words:",
                file=sys.stderr,
            )
    _print_headlines(result.headlines, as_json=args.json, now=now)
    return 0


async def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    """Load seed documents (default: the shipped ones) into the store."""
    paths = [Path(p) for p in args.paths] or seed_files(settings.seeds_path)
    if not paths:
        print(f"newsbot: no seed documents in {settings.seeds_path}", file=sys.stderr)
        return 1
    database = await open_database(settings)
    try:
        report = await load_seeds(database, paths, now=SystemClock().now())
    finally:
        await database.dispose()
    for name, items, new in report.files:
        print(f"{name}: {items} items, {new} new")
    return 0


async def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Apply pending migrations."""
    database = await open_database(settings)
    await database.dispose()
    print("Database schema is up to date.")
    return 0


async def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    """List, add, remove, import or export feeds."""
    now = SystemClock().now()
    # Read the file before opening the store: a bad file changes nothing.
    feeds = _read_opml(args.file) if args.action == "import" else []
    database = await _ready_store(settings)
    try:
        if args.action == "add":
            return await _add_source(database, args.url.strip(), settings, now)
        async with database.session() as session:
            if args.action == "import":
                added, known = await import_feeds(
                    session, feeds, now=now, interval_seconds=settings.feed_poll_interval
                )
                print(f"Imported {args.file}: {added} new sources, {known} already known.")
                return 0
            if args.action == "remove":
                removed = await remove_source(session, args.id)
                if removed is None:
                    print(f"newsbot: no source with id {args.id}", file=sys.stderr)
                    return 1
                print(f"Removed source {removed.id}: {removed.url}")
                return 0
            statuses = await source_statuses(session)
    finally:
        await database.dispose()
    if args.action == "export":
        feeds = [OutlineFeed(url=s.url, title=s.title) for s in statuses if s.kind == "feed"]
        sys.stdout.write(render_opml(feeds))
        return 0
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": s.id,
                        "title": s.title,
                        "url": s.url,
                        "source": s.title or s.url,
                        "kind": s.kind,
                        "active": s.active,
                        "error_count": s.error_count,
                        "last_error": s.last_error,
                        "articles": s.articles,
                        "published_at": None,
                        "last_ok_at": s.last_ok_at.isoformat() if s.last_ok_at else None,
                    }
                    for s in statuses
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    for s in statuses:
        health = "ok" if s.error_count == 0 else f"{s.error_count} errors: {s.last_error}"
        if not s.active:
            health = f"inactive ({s.last_error or 'stopped'})"
        print(f"{s.id:>4}  {s.kind:<4}  {s.articles:>6} items  {health}")
        print(f"      {s.title or '(untitled)'} — {s.url}")
    return 0


async def _add_source(database: Database, url: str, settings: Settings, now: datetime) -> int:
    if not url.startswith(("http://", "https://")):
        print(f"newsbot: {url!r} is not an http(s) feed URL", file=sys.stderr)
        return 1
    try:
        source, new = await add_feed(
            database, url, now=now, added_by=None, interval_seconds=settings.feed_poll_interval
        )
    except SourceExists as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 1
    print(
        f"Added source {source.id}: {source.url}"
        if new
        else f"Source {source.id} was switched off after failing; it is back on: {source.url}"
    )
    return 0


def _read_opml(path: str) -> list[OutlineFeed]:
    try:
        content = Path(path).read_bytes()
    except OSError as exc:
        raise OPMLError(f"cannot read {path}: {exc.strerror or exc}") from None
    feeds = parse_opml(content)
    if not feeds:
        raise OPMLError(f"{path} lists no http(s) feeds (outlines with an xmlUrl)")
    return feeds


async def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """Fetch every active feed once, now; failing feeds are reported, not fatal."""
    database = await _ready_store(settings)
    try:
        async with make_fetcher(settings) as fetcher:
            progress = _Progress(sys.stderr)
            report = await ingest_all(
                database, fetcher, settings, now=SystemClock().now(), progress=progress.step
            )
            progress.done()
    finally:
        await database.dispose()
    if args.json:
        print(
            json.dumps(
                [_source_report_json(s) for s in report.sources], ensure_ascii=False, indent=2
            )
        )
    else:
        _print_ingest_table(report)
    return 0


class _Progress:
    """A bar redrawn in place on a terminal; a plain line per feed anywhere else."""

    WIDTH = 20

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.drawn = False

    def step(self, source: SourceReport, done: int, total: int) -> None:
        if not self.tty:
            print(
                f"{done}/{total} {source.name}: {_outcome_text(source)}",
                file=self.stream,
                flush=True,
            )
            return
        filled = self.WIDTH * done // total
        self.stream.write(f"\r[{'#' * filled}{'-' * (self.WIDTH - filled)}] {done}/{total} sources")
        self.stream.flush()
        self.drawn = True

    def done(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def _outcome_text(source: SourceReport) -> str:
    if source.outcome == "error":
        return f"error: {source.error}" + (" (turned off)" if source.newly_deactivated else "")
    if source.outcome == "not_modified":
        return "not modified"
    return f"{source.new} new, {source.unchanged} unchanged"


def _print_ingest_table(report: IngestReport) -> None:
    if not report.sources:
        print("No active feeds. Add one with `newsbot sources add URL`.")
        return
    print(f"{'id':>4}  {'source':<40}  {'new':>5}  {'unchanged':>9}  error")
    for s in sorted(report.sources, key=lambda s: s.id):
        error = truncate(s.error or "", 70) + (" (turned off)" if s.newly_deactivated else "")
        print(
            f"{s.id:>4}  {truncate(s.name, 40):<40}  {s.new:>5}  {s.unchanged:>9}  {error}".rstrip()
        )
    print(f"{len(report.sources)} feeds: {report.new} new items, {len(report.failed)} failed.")


def _source_report_json(source: SourceReport) -> dict[str, object]:
    return {
        "id": source.id,
        "url": source.url,
        "title": source.title,
        "outcome": source.outcome,
        "new": source.new,
        "unchanged": source.unchanged,
        "skipped": source.skipped,
        "error": source.error,
        "turned_off": source.newly_deactivated,
    }


async def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    """Print the digest a chat would get now (or a new subscriber's); nothing is recorded."""
    now = SystemClock().now()
    database = await _ready_store(settings)
    try:
        async with database.session() as session:
            chat = await get_chat(session, args.chat) if args.chat is not None else None
            if args.chat is not None and chat is None:
                print(f"newsbot: no chat {args.chat} in the store", file=sys.stderr)
                return 1
            snapshot = preview_digest(
                chat, now=now, size=settings.default_digest_size, zone=settings.default_timezone
            )
            content = await build_digest(session, snapshot, StoryCache())
    finally:
        await database.dispose()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        **_headline_json(s.lead),
                        "extra_sources": s.extra_sources,
                        "followed": s.followed,
                    }
                    for s in content.stories
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    who = f"chat {args.chat}" if args.chat is not None else "a new subscriber"
    print(f"Digest for {who} · {local_time_text(now, zone_info(snapshot.timezone))}")
    if not content.stories:
        print("No new headlines.")
        return 0
    _print_headlines(
        [s.lead for s in content.stories],
        as_json=False,
        now=now,
        notes={
            s.lead.id: more_sources_text(s.extra_sources)
            for s in content.stories
            if s.extra_sources
        },
    )
    return 0


async def cmd_summary(args: argparse.Namespace, settings: Settings) -> int:
    """Print the full summary of one article, fetching its page if only a headline is stored."""
    database = await _ready_store(settings)
    abstractive = make_abstractive(settings)
    try:
        async with make_fetcher(settings) as fetcher:
            summary = await article_summary(
                database,
                args.id,
                fetcher=fetcher,
                allow_private=settings.fetch_allow_private,
                abstractive=abstractive,
            )
    finally:
        if abstractive is not None:
            await abstractive.aclose()
        await database.dispose()
    if summary is None:
        print(f"newsbot: no article {args.id}", file=sys.stderr)
        return 1
    if args.json:
        print(
            json.dumps(
                {
                    "id": summary.article_id,
                    "title": summary.title,
                    "url": summary.url,
                    "source": summary.source,
                    "published_at": summary.published_at.isoformat(),
                    "summary": summary.summary,
                    "note": summary.note or None,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    print(summary.title)
    print(f"{summary.source} · {summary.published_at:%d %b %Y %H:%M} UTC")
    print()
    if summary.summary:
        print(summary.summary)
    if summary.note:
        print(f"({summary.note})")
    if summary.url:
        print(summary.url)
    return 0


async def cmd_article(args: argparse.Namespace, settings: Settings) -> int:
    """Print a stored article with its whole body and its summary."""
    database = await _ready_store(settings)
    try:
        summary = await article_summary(database, args.id, fetcher=None)
        async with database.session() as session:
            article = await get_article(session, args.id)
            source = (article.source.title or article.source.url) if article else ""
    finally:
        await database.dispose()
    if article is None or summary is None:
        print(f"newsbot: no article {args.id}", file=sys.stderr)
        return 1
    if args.json:
        print(
            json.dumps(
                {
                    "id": article.id,
                    "title": article.title,
                    "url": article.url,
                    "source": source,
                    "published_at": article.published_at.isoformat(),
                    "language": article.language,
                    "description": article.description,
                    "body": article.body,
                    "summary": summary.summary,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    print(article.title)
    print(f"{source} · {article.published_at:%d %b %Y %H:%M} UTC · id {article.id}")
    if article.url:
        print(article.url)
    print()
    print(article.body or article.description or "(no text stored)")
    return 0


async def cmd_topics(args: argparse.Namespace, settings: Settings) -> int:
    """Print the trending topics of the last hours with their counts."""
    database = await _ready_store(settings)
    try:
        topics = await current_trends(database, settings, now=SystemClock().now())
    finally:
        await database.dispose()
    if args.json:
        print(
            json.dumps(
                [{"topic": t.label, "count": t.count, "query": t.query} for t in topics],
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    if not topics:
        print(f"Nothing trending in the last {settings.trending_window_hours} hours.")
    for topic in topics:
        print(f"{topic.count:>4}  {topic.label}")
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="newsbot",
        description="A Telegram bot for news headline digests, topic lookups and summaries.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser("run", help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    run.add_argument(
        "--playground-if-no-token",
        action="store_true",
        help="without a token, start the playground instead of stopping (what `make run` does)",
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

    seed = commands.add_parser("seed", help="load seed documents into the store")
    seed.add_argument("paths", nargs="*", metavar="PATH", help="seed files (default: seeds/*.txt)")
    seed.set_defaults(handler=cmd_seed)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply pending schema migrations")
    upgrade.set_defaults(handler=cmd_db_upgrade)

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

    ingest = commands.add_parser("ingest", help="fetch every active feed once, now")
    ingest.add_argument("--json", action="store_true", help="print a JSON array")
    ingest.set_defaults(handler=cmd_ingest)

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

    article = commands.add_parser("article", help="a stored article with its whole body")
    article.add_argument("id", type=int, metavar="ID")
    article.add_argument("--json", action="store_true", help="print a JSON object")
    article.set_defaults(handler=cmd_article)

    topics = commands.add_parser("topics", help="what is trending in the last hours")
    topics.add_argument("--json", action="store_true", help="print a JSON array")
    topics.set_defaults(handler=cmd_topics)
    return parser


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.telegram_bot_token.strip():
        if args.playground_if_no_token:
            print(PLAYGROUND_INSTEAD, file=sys.stderr)
            return _playground(settings, host="127.0.0.1", port=args.playground_port, fresh=False)
        print(TOKEN_HELP, file=sys.stderr)
        return 2
    configure_logging(settings.log_level, secrets=[settings.telegram_bot_token])
    from bot.app import run_bot  # the Telegram wiring is only loaded to run the bot

    try:
        return run_bot(settings)
    except KeyboardInterrupt:
        return 0


def _playground(settings: Settings, *, host: str, port: int, fresh: bool) -> int:
    configure_logging(settings.log_level)
    from bot.playground.run import run_playground  # loads the Telegram wiring, as `run` does

    return run_playground(settings, host=host, port=port, fresh=fresh)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `newsbot` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"newsbot: {exc}", file=sys.stderr)
        return 2
    if args.command == "run":
        return _run(args, settings)
    if args.command == "playground":
        return _playground(settings, host=args.host, port=args.port, fresh=args.fresh)
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


if __name__ == "__main__":
    sys.exit(main())
