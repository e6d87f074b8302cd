"""Feed bytes declared as UTF-8 with a few broken bytes: mend them before feedparser sees them.

Given one invalid UTF-8 byte, feedparser gives up on the declared encoding and decodes the
whole document as windows-1252, so every correct "ü" in it becomes "Ã¼". A document that is
mostly valid UTF-8 loses only its broken bytes instead (each becomes U+FFFD). One with no
valid multi-byte characters at all is more likely windows-1252 mislabelled as UTF-8, and
feedparser's fallback reads that one right, so it is left alone.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping

REPLACEMENT = "\ufffd"
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)""")
_NON_ASCII = bytes(range(0x80, 0x100))


def mend_utf8(data: bytes, headers: Mapping[str, str]) -> bytes:
    """`data` with its invalid UTF-8 sequences replaced, when it is declared and mostly UTF-8."""
    if not declared_utf8(data, headers):
        return data
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return data
    text = data.decode("utf-8", "replace")
    broken = text.count(REPLACEMENT) - data.count(REPLACEMENT.encode("utf-8"))
    # Bytes of valid multi-byte characters: every non-ASCII byte less at least one per break.
    valid = len(data) - len(data.translate(None, _NON_ASCII)) - broken
    # Two bytes per valid character at least: at least one good character per broken one.
    if broken > valid // 2:
        return data
    return text.encode("utf-8")


def declared_utf8(data: bytes, headers: Mapping[str, str]) -> bool:
    """Whether the response says UTF-8: its charset, else its XML declaration, else the default."""
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    header = _CHARSET.search(content_type)
    if header is not None:
        name = header.group(1)
    elif data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # a UTF-16 byte order mark
        return False
    else:
        declaration = _XML_ENCODING.match(data[:512].removeprefix(codecs.BOM_UTF8))
        if declaration is None:
            return True  # XML without a declaration is UTF-8
        name = declaration.group(1).decode("ascii")
    try:
        return codecs.lookup(name).name == "utf-8"
    except LookupError:
        return False
