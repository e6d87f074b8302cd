"""`seed` and `db upgrade`: the store's documents and schema."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.bootstrap import load_seeds, open_database
from bot.clock import SystemClock
from bot.config import Settings
from bot.news.seeds import seed_files


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
