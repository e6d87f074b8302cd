"""An installed newsbot, not the checkout: it seeds itself from whatever directory it starts in."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command, failing the test with its output if it fails."""
    done = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder a wheel of this checkout was installed into (as `pip install .` would)."""
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    # A copy, so the build leaves nothing in the checkout; the tests are not part of a wheel.
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".*", "tests", "bench", "data", "build", "*.egg-info", "__pycache__"
        ),
    )
    wheels = base / "wheels"
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check")
    run(*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", wheels, source, cwd=base)
    (wheel,) = wheels.glob("newsbot-*.whl")
    target = base / "site"
    run(*pip, "install", "--no-deps", "--no-index", "--target", target, wheel, cwd=base)
    return target


def test_installed_newsbot_seeds_from_an_empty_directory(installed: Path, tmp_path: Path) -> None:
    # The seed documents and the default source list travel inside the package.
    shipped = installed / "seeds"
    assert sorted(p.name for p in shipped.iterdir() if p.suffix in (".txt", ".opml")) == [
        "000_efc814114c7f461d.txt",
        "sources.opml",
    ]
    anywhere = tmp_path / "anywhere"
    anywhere.mkdir()
    environment = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SEEDS_", "SOURCES_", "DATABASE_", "TELEGRAM_", "PYTHON"))
        },
        "PYTHONPATH": str(installed),
    }
    newsbot = installed / "bin" / "newsbot"

    seeded = run(newsbot, "seed", cwd=anywhere, env=environment)
    listing = json.loads(
        run(newsbot, "latest", "-n", "50", "--json", cwd=anywhere, env=environment)
    )

    assert seeded.strip() == "000_efc814114c7f461d.txt: 17 items, 17 new"
    assert len(listing) == 17
    assert (anywhere / "data" / "newsbot.db").is_file()  # the default store, where it started
