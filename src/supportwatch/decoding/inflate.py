"""Gzip decompression in bounded pieces (python-isal where its wheel exists, stdlib gzip elsewhere).

Every member of a multi-member file is read; a stream that ends early, fails its CRC or inflates
beyond the cap raises UnreadableLog — never a silently shortened document.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Iterator

try:  # python-isal: the same gzip format, several times faster; stdlib gzip where it is missing.
    from isal import igzip as gzip_impl
    from isal.igzip_lib import IsalError as _IsalError
except ImportError:  # pragma: no cover - exercised only where the wheel is unavailable
    import gzip as gzip_impl

    _IsalError = zlib.error

GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1 << 20


class UnreadableLog(Exception):
    """A log object that cannot be decoded: none of it is counted."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OverCap(UnreadableLog):
    """The document is larger than the bytes it may inflate to."""


class ContentHash:
    """SHA-256 and size of a document's uncompressed content, taken from the pieces as they are
    inflated (no second pass over the bytes); `complete` once the stream was read to its end."""

    def __init__(self) -> None:
        self.restart()

    def restart(self) -> None:
        """Start over: a new pass over the same object."""
        self._sha256 = hashlib.sha256()
        self.size = 0
        self.complete = False

    def feed(self, piece: bytes) -> None:
        self._sha256.update(piece)
        self.size += len(piece)

    def hexdigest(self) -> str:
        return self._sha256.hexdigest()


def pieces(data: bytes, max_bytes: int, content: ContentHash | None = None) -> Iterator[bytes]:
    """The decompressed bytes of every member of gzip `data`, at most CHUNK at a time, capped;
    `content` sees every piece."""
    size = 0
    try:
        with gzip_impl.GzipFile(fileobj=io.BytesIO(data)) as stream:
            while piece := stream.read(CHUNK):
                size += len(piece)
                if size > max_bytes:
                    raise OverCap(f"decompressed size exceeds the cap of {max_bytes} bytes")
                if content is not None:
                    content.feed(piece)
                yield piece
        if content is not None:
            content.complete = True
    except EOFError:
        raise UnreadableLog("truncated gzip: the stream ends before its end-of-stream marker") from None
    except (OSError, zlib.error, _IsalError) as error:
        raise UnreadableLog(f"corrupt gzip: {error}") from None


def decompress(data: bytes, max_bytes: int, content: ContentHash | None = None) -> bytes:
    """Gunzip every member of `data` into one document, refusing to inflate beyond `max_bytes`."""
    return b"".join(pieces(data, max_bytes, content))
