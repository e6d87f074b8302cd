"""Starting the playground from the command line: `make run` without a token, and its refusals."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support import ROOT

FRESH_CHECKOUT_FILES = ["Makefile", "pyproject.toml", ".env.example", "seeds"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fresh_checkout(tmp_path: Path) -> Path:
    """What a clone holds that `make run` reads, using this checkout's installed venv."""
    checkout = tmp_path / "newsbot"
    checkout.mkdir()
    for name in FRESH_CHECKOUT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, checkout / name)
        else:
            shutil.copy2(source, checkout / name)
    # Older than the venv's install stamp, so make reuses the venv instead of reinstalling.
    os.utime(checkout / "pyproject.toml", (0, 0))
    return checkout


def wait_for_line(log: Path, needle: str, process: subprocess.Popen[bytes], seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if needle in text:
            return text
        if process.poll() is not None:
            pytest.fail(f"make run exited with {process.returncode}:\n{text}")
        time.sleep(0.2)
    pytest.fail(f"no {needle!r} within {seconds:.0f}s:\n{log.read_text(errors='replace')}")


def test_make_run_without_a_token_serves_the_playground(tmp_path: Path) -> None:
    if shutil.which("make") is None or not (ROOT / ".venv" / ".installed").exists():
        pytest.skip("needs make and an installed .venv (`make install`)")
    checkout = fresh_checkout(tmp_path)
    no_sources = tmp_path / "no-sources.opml"
    no_sources.write_text('<opml version="2.0"><head/><body/></opml>', encoding="utf-8")
    port = free_port()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))},
        # Feeds on the internet are not this test's business.
        "SOURCES_OPML": str(no_sources),
    }
    log = tmp_path / "make-run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                "make",
                "--no-print-directory",
                "run",
                f"VENV={ROOT / '.venv'}",
                f"PLAYGROUND_PORT={port}",
            ],
            cwd=checkout,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches make and the bot alike
        )
        try:
            url = f"http://127.0.0.1:{port}/"
            text = wait_for_line(log, f"open {url}", process, seconds=90)
            with urllib.request.urlopen(url, timeout=10) as response:
                page = response.read().decode()
            with urllib.request.urlopen(url + "api/state", timeout=10) as response:
                state = json.load(response)
        finally:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=60)

    assert "no bot token, so starting the playground" in text
    assert "TELEGRAM_BOT_TOKEN=<token> in .env" in text
    assert "<title>newsbot playground</title>" in page and 'id="text"' in page
    assert {"latest", "subscribe"} <= {c["command"] for c in state["commands"]}
    assert (checkout / ".env").exists() and (checkout / "data" / "newsbot.db").exists()
    final = log.read_text(errors="replace")
    assert "Application.stop() complete" in final and "Traceback" not in final


def fetch(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def test_run_in_a_container_serves_the_playground_and_health_on_every_address(
    tmp_path: Path,
) -> None:
    no_sources = tmp_path / "no-sources.opml"
    no_sources.write_text('<opml version="2.0"><head/><body/></opml>', encoding="utf-8")
    page_port, health_port = free_port(), free_port()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "HEALTH_"))},
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'newsbot.db'}",
        "SOURCES_OPML": str(no_sources),
        "HEALTH_PORT": str(health_port),
        "HEALTH_HOST": "0.0.0.0",
    }
    log = tmp_path / "run.log"
    # The Dockerfile's command: the container's published ports reach its own address only.
    command = ["run", "--playground-if-no-token", "--playground-host", "0.0.0.0"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", *command, "--playground-port", str(page_port)],
            cwd=tmp_path,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            text = wait_for_line(log, "newsbot playground: open", process, seconds=90)
            # 127.0.0.2 reaches a socket bound to every address, not one on 127.0.0.1 alone.
            status, page = fetch(f"http://127.0.0.2:{page_port}/")
            health = fetch(f"http://127.0.0.2:{health_port}/healthz")
            ready = fetch(f"http://127.0.0.2:{health_port}/readyz")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)

    assert status == 200 and "<title>newsbot playground</title>" in page
    assert health == (200, "ok\n") and ready == (200, "ready\n")
    assert "anyone who can reach port" in text
    assert process.returncode == 0, log.read_text(errors="replace")


def test_a_taken_port_and_a_public_address_are_said_plainly(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        environment = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
        result = subprocess.run(
            [sys.executable, "-m", "bot", "playground", "--host", "0.0.0.0", "--port", str(port)],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode == 2
    assert "anyone who can reach port" in result.stderr
    assert f"cannot listen on 0.0.0.0:{port}" in result.stderr
    assert "Traceback" not in result.stderr
