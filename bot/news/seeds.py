"""Seed documents: one article as paragraph lines, then one headline per line.

Either part may be missing. Lines are told apart by shape, not position: a paragraph
is prose (ends like a sentence, or is long), a headline is a short title line
without a closing period.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MAX_SEED_BYTES = 5 * 1024 * 1024
MAX_TITLE_CHARS = 120
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_FIRST_SENTENCE = re.compile(r"^(.+?[.!?])(?:[\"'”’)\]]*)(?=\s+[A-Z“\"']|$)")


class SeedError(Exception):
    """A seed file cannot be loaded; the message names the file and the reason."""


@dataclass(frozen=True)
class SeedArticle:
    """The article of a seed document: a derived title and its paragraphs."""

    title: str
    paragraphs: tuple[str, ...]

    @property
    def lead(self) -> str:
        """The first paragraph, which feeds use as the description."""
        return self.paragraphs[0]

    @property
    def body(self) -> str:
        """The whole text, one paragraph per line."""
        return "\n".join(self.paragraphs)


@dataclass(frozen=True)
class SeedDocument:
    """What one seed file holds."""

    name: str
    article: SeedArticle | None
    headlines: tuple[str, ...]


def is_paragraph(line: str) -> bool:
    """Whether a line reads as prose rather than as a headline."""
    words = line.split()
    return bool(_SENTENCE_END.search(line)) or len(words) > 30


def derive_title(lead: str) -> str:
    """A short, faithful title: the lead's first sentence, cut at a word if too long."""
    match = _FIRST_SENTENCE.match(lead)
    sentence = (match.group(1) if match else lead).strip()
    sentence = sentence.rstrip(".!?").rstrip()
    if len(sentence) <= MAX_TITLE_CHARS:
        return sentence
    cut = sentence[: MAX_TITLE_CHARS - 1]
    for mark in (",", ";", ":", " —", " –"):
        pos = cut.rfind(mark)
        if pos >= MAX_TITLE_CHARS // 2:
            return cut[:pos].rstrip() + "…"
    return cut.rsplit(" ", 1)[0].rstrip(",;:") + "…"


def read_seed_text(path: Path) -> str:
    """The text of a seed file, or SeedError saying why it cannot be read."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SeedError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SeedError(f"{path}: is a directory, not a seed file") from None
    except OSError as exc:
        raise SeedError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(raw) > MAX_SEED_BYTES:
        raise SeedError(f"{path}: larger than {MAX_SEED_BYTES // (1024 * 1024)} MB")
    if b"\x00" in raw:
        raise SeedError(f"{path}: binary file, not a text document")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SeedError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None
    if not text.strip():
        raise SeedError(f"{path}: empty file")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(3, len(text) // 100):
        raise SeedError(f"{path}: binary file, not a text document")
    return text


def parse_seed(text: str, *, name: str) -> SeedDocument:
    """Split a seed text into its article (consecutive prose lines) and its headlines."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    paragraphs: list[str] = []
    headlines: list[str] = []
    for line in lines:
        if not line:
            continue
        if is_paragraph(line) and not headlines:
            paragraphs.append(line)
        else:
            headlines.append(line)
    article = SeedArticle(derive_title(paragraphs[0]), tuple(paragraphs)) if paragraphs else None
    return SeedDocument(name=name, article=article, headlines=tuple(dict.fromkeys(headlines)))


def load_seed_file(path: Path) -> SeedDocument:
    """Read and parse one seed file."""
    document = parse_seed(read_seed_text(path), name=path.name)
    if document.article is None and not document.headlines:
        raise SeedError(f"{path}: holds neither an article nor headlines")
    return document


def seed_files(directory: Path) -> list[Path]:
    """The seed documents shipped in a directory, in name order."""
    return sorted(p for p in directory.glob("*.txt") if p.is_file())
