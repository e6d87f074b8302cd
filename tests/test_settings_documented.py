"""Every setting an operator can give is documented where operators look for it."""

from __future__ import annotations

import re

import pytest

from bot.config import Settings
from tests.support import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
ENV_EXAMPLE = (ROOT / ".env.example").read_text(encoding="utf-8")
NAMES = sorted((field.alias or name).upper() for name, field in Settings.model_fields.items())


@pytest.mark.parametrize("name", NAMES)
def test_each_setting_is_in_the_readme_and_env_example(name: str) -> None:
    assert re.search(rf"\b{name}\b", README), f"README.md does not document {name}"
    assert f"\n{name}=" in ENV_EXAMPLE or f"\n#{name}=" in ENV_EXAMPLE, (
        f".env.example does not list {name}"
    )
