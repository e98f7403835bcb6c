"""Log object bytes -> list of entries (contract section 6), or UnreadableLog.

Accepted forms: CloudTrail's `{"Records": [...]}`, a bare JSON array of records, a single record
object and JSON Lines, each plain or gzip-compressed (detected by magic bytes, multi-member too).
"""

from __future__ import annotations

import io
import json
import zlib
from typing import Any

from supportwatch.records import Extraction, extract

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


def decompress(data: bytes, max_bytes: int) -> bytes:
    """Gunzip every member of `data`, refusing to inflate beyond `max_bytes`."""
    parts: list[bytes] = []
    size = 0
    try:
        with gzip_impl.GzipFile(fileobj=io.BytesIO(data)) as stream:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise UnreadableLog(f"decompressed size exceeds the cap of {max_bytes} bytes")
                parts.append(chunk)
    except EOFError:
        raise UnreadableLog("truncated gzip: the stream ends before its end-of-stream marker") from None
    except (OSError, zlib.error, _IsalError) as error:
        raise UnreadableLog(f"corrupt gzip: {error}") from None
    return b"".join(parts)


def _json_lines(document: bytes) -> list[Any]:
    entries: list[Any] = []
    for number, line in enumerate(document.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            raise UnreadableLog(f"not JSON: line {number} of a JSON Lines document does not parse") from None
        records = value.get("Records") if isinstance(value, dict) else None
        entries.extend(records) if isinstance(records, list) else entries.append(value)
    return entries


def parse_entries(document: bytes) -> list[Any]:
    """The record list of a decompressed document, whatever its form."""
    if not document.strip():
        raise UnreadableLog("empty object")
    try:
        value = json.loads(document)
    except RecursionError:
        raise UnreadableLog("nesting too deep to parse") from None
    except json.JSONDecodeError as error:
        if error.msg != "Extra data":
            raise UnreadableLog(f"not JSON: {error.msg} at byte {error.pos}") from None
        return _json_lines(document)
    except ValueError as error:  # undecodable bytes (UnicodeDecodeError)
        raise UnreadableLog(f"not JSON: {error.__class__.__name__}") from None
    if isinstance(value, list):
        return value
    if not isinstance(value, dict):
        raise UnreadableLog(f"JSON {type(value).__name__} where an object or array was expected")
    if "Records" not in value:
        return [value]
    if not isinstance(records := value["Records"], list):
        raise UnreadableLog("`Records` is not a list")
    return records


def decode(data: bytes, max_bytes: int) -> list[Any]:
    """Bytes of a log object -> its entries; raises UnreadableLog."""
    if not data:
        raise UnreadableLog("empty object")
    if data.startswith(GZIP_MAGIC):
        data = decompress(data, max_bytes)
    elif len(data) > max_bytes:
        raise UnreadableLog(f"size exceeds the cap of {max_bytes} bytes")
    return parse_entries(data)


def read_events(data: bytes, max_bytes: int) -> Extraction:
    """The support events of one log object's bytes; raises UnreadableLog (nothing is half-counted)."""
    return extract(decode(data, max_bytes))
