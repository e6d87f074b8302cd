"""Text people type, made fit to store and compare: NFKC, no control or invisible characters.

"ir\u200ban" looks like "iran" on screen but never matches it, and a NUL byte in a
follow is stored for good; so every argument a user gives passes through here first.
"""

from __future__ import annotations

import re
import unicodedata

# Control, format (zero-width, bidi marks), private-use, surrogate and unassigned.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})
# Letters and symbols that render as nothing, and the emoji variation selectors.
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800") | frozenset(
    chr(c) for c in range(0xFE00, 0xFE10)
)
_SPACES = re.compile(r"\s+")


def normalize_input(text: str) -> str:
    """NFKC with control and invisible characters removed and runs of spaces made one."""
    text = unicodedata.normalize("NFKC", text)
    kept = "".join(
        " " if char.isspace() else char
        for char in text
        if char.isspace()
        or (unicodedata.category(char) not in _DROPPED_CATEGORIES and char not in _INVISIBLE)
    )
    return _SPACES.sub(" ", kept).strip()
