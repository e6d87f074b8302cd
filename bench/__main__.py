"""`python -m bench` (`make bench`): every benchmark, one after another, each in its own process."""

from __future__ import annotations

import subprocess
import sys
import time

BENCHES = [
    "ingest",
    "query",
    "fanout",
    "memory",
    "summary",
    "summary_quality",
    "language",
    "parsers",
    "rules",
    "alerts",
]


def main() -> int:
    """Run each bench as `python -m bench.<name>` so peak-memory figures stay separate."""
    failed = []
    started = time.monotonic()
    for name in sys.argv[1:] or BENCHES:
        print(f"\n===== bench.{name} =====", flush=True)
        if subprocess.run([sys.executable, "-m", f"bench.{name}"]).returncode != 0:
            failed.append(name)
    print(
        f"\nall benches done in {time.monotonic() - started:.0f} s"
        + (f"; failed to run: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
