"""The image as operators run it, on request: `make container-test` takes a minute or more."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.support import ROOT

TOOLS = ("make", "podman", "runc", "mmdebstrap")


@pytest.mark.slow
def test_the_image_starts_healthy_and_serves_the_playground_without_a_token() -> None:
    if os.environ.get("NEWSBOT_CONTAINER_TEST") != "1":
        pytest.skip(
            "builds and runs the image (a minute or more): set NEWSBOT_CONTAINER_TEST=1; "
            "CI runs `make container-test` as a step of its own"
        )
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install podman runc mmdebstrap)")
    result = subprocess.run(
        ["make", "--no-print-directory", "container-test"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "container-test: 1 passed, 0 failed" in result.stdout
