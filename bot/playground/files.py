"""Files as Telegram keeps them: what a user sends and what the bot uploads, by id and path.

A user's document reaches the bot as a message naming a `file_id`; the bot asks
`getFile` for its `file_path` and downloads it from the file server, and a bot's
`sendDocument` upload becomes a file Telegram keeps under a new id. The limits are the
Bot API's: a bot downloads at most 20 MB and uploads at most 50 MB.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Final

MAX_DOWNLOAD_BYTES: Final[int] = 20 * 1024 * 1024
MAX_UPLOAD_BYTES: Final[int] = 50 * 1024 * 1024


@dataclass(frozen=True)
class StoredFile:
    """One kept file and what its Document object says of it."""

    file_id: str
    file_unique_id: str
    file_path: str
    file_name: str | None
    mime_type: str | None
    data: bytes = field(repr=False)

    def document(self) -> dict[str, Any]:
        """The Bot API's Document object for this file."""
        described = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": len(self.data),
        }
        return {key: value for key, value in described.items() if value is not None}

    def file(self) -> dict[str, Any]:
        """The Bot API's File object, as getFile answers."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request, as the bot uploaded it."""

    filename: str | None
    content_type: str | None
    data: bytes = field(repr=False)


class FileStore:
    """Every file of the playground's life, in memory."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._numbers = itertools.count(1)

    def keep(self, data: bytes, *, file_name: str | None, mime_type: str | None) -> StoredFile:
        """Keep a file under a fresh id and path."""
        number = next(self._numbers)
        suffix = file_name.rsplit(".", 1)[-1] if file_name and "." in file_name else ""
        stored = StoredFile(
            file_id=f"BQACAgIAAxkBAAI{number:06d}",
            file_unique_id=f"AgAD{number:06d}",
            file_path=f"documents/file_{number}" + (f".{suffix}" if suffix else ""),
            file_name=file_name,
            mime_type=mime_type,
            data=bytes(data),
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def by_id(self, file_id: object) -> StoredFile | None:
        """The file with this id, if any."""
        return self._by_id.get(str(file_id or ""))

    def by_path(self, file_path: str) -> StoredFile | None:
        """The file getFile named with this path, if any."""
        return self._by_path.get(file_path)
