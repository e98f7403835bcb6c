"""Log object bytes -> the watched services' events and entry counts (contract sections 1, 6, 12), or UnreadableLog.

Accepted forms: CloudTrail's `{"Records": [...]}`, a bare JSON array of records, a single record
object and JSON Lines, each plain or gzip-compressed (detected by magic bytes, multi-member too).

Two paths with one result: `fastpath.scan` streams the common forms without building a dict for a
record it drops; the exact path below (the whole document through `json`) takes every document the
fast path cannot prove, and is the fast path's test oracle.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from supportwatch.decoding.fastpath import NotProven, scan
from supportwatch.decoding.inflate import GZIP_MAGIC, ContentHash, OverCap, UnreadableLog, pieces
from supportwatch.decoding.records import Extraction, NotUtf8, extract, is_utf8
from supportwatch.services import DEFAULT_SERVICES

# The structure of a text that is not all UTF-8: msgspec passes over strings without checking them.
_TOP = msgspec.json.Decoder(list[msgspec.Raw] | dict[str, msgspec.Raw])
_ENTRIES = msgspec.json.Decoder(list[msgspec.Raw])


def _json_lines(document: bytes) -> list[Any]:
    entries: list[Any] = []
    for number, line in enumerate(document.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except UnicodeDecodeError:
            entries += _apart(line, f"line {number} of a JSON Lines document")
            continue
        except (ValueError, RecursionError):
            raise UnreadableLog(f"not JSON: line {number} of a JSON Lines document does not parse") from None
        records = value.get("Records") if isinstance(value, dict) else None
        entries.extend(records) if isinstance(records, list) else entries.append(value)
    return entries


def _entry(text: bytes) -> Any:
    """One entry's JSON text as json reads it, or NotUtf8."""
    try:
        return json.loads(text)
    except UnicodeDecodeError:
        return NotUtf8(text)
    except RecursionError:
        raise UnreadableLog("nesting too deep to parse") from None
    except ValueError as error:
        raise UnreadableLog(f"not JSON: {error}") from None


def _apart(text: bytes, what: str = "the document") -> list[Any]:
    """The entries of a JSON text whose bytes are not all UTF-8 (a Records object, an array, one
    object), each read by json on its own: an entry that is not UTF-8 is NotUtf8, not its file's end.
    Bytes that are not UTF-8 outside every entry leave the text unreadable."""
    try:
        value = _TOP.decode(text)
        if isinstance(value, dict) and "Records" in value:
            records = _ENTRIES.decode(bytes(value.pop("Records")))
            for other in value.values():
                if not is_utf8(bytes(other)):
                    raise UnreadableLog(f"not JSON: {what} holds bytes that are not UTF-8 outside its records")
                _entry(other)  # what json would refuse in the rest of the document
        elif isinstance(value, dict):
            return [NotUtf8(text)]  # a single record
        else:
            records = value
    except (msgspec.DecodeError, RecursionError):
        raise UnreadableLog(f"not JSON: {what} is not UTF-8") from None
    return [_entry(bytes(raw)) for raw in records]


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
    except UnicodeDecodeError:  # bytes that are not UTF-8: in one record, or in JSON Lines
        try:
            return _apart(document)
        except UnreadableLog:
            if len(document.strip().splitlines()) < 2:
                raise
            return _json_lines(document)
    except ValueError as error:
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


JSON_STARTS = frozenset('{["-0123456789tfn')  # what a JSON value (or a JSON Lines document) can begin with


def _opening(first: bytes) -> None:
    """Refuse, from its first piece, a document that cannot be JSON (a bomb of zeros), before inflating it all."""
    text = first[:4096].decode(json.detect_encoding(first), errors="ignore").lstrip(" \t\n\r\ufeff")
    if text and text[0] not in JSON_STARTS:
        raise UnreadableLog(f"not JSON: the document begins with {text[0]!r}")


def inflate(data: bytes, max_bytes: int, content: ContentHash | None = None) -> bytes:
    """Gunzip `data` for the exact path, capped, refusing at its first piece a document that is not JSON."""
    document: list[bytes] = []
    for piece in pieces(data, max_bytes, content):
        if not document:
            _opening(piece)
        document.append(piece)
    return b"".join(document)


def decode(data: bytes, max_bytes: int, content: ContentHash | None = None) -> list[Any]:
    """Bytes of a log object -> its entries; raises UnreadableLog."""
    if not data:
        raise UnreadableLog("empty object")
    if data.startswith(GZIP_MAGIC):
        data = inflate(data, max_bytes, content)
    elif len(data) > max_bytes:
        raise OverCap(f"size exceeds the cap of {max_bytes} bytes")
    return parse_entries(data)


def read_events_exactly(
    data: bytes, max_bytes: int, reveals: bool = False, services: tuple[str, ...] = DEFAULT_SERVICES
) -> Extraction:
    """The exact path: the whole document parsed by `json`, every entry examined."""
    return extract(decode(data, max_bytes), reveals, services)


def read_events(
    data: bytes,
    max_bytes: int,
    exact_max_bytes: int | None = None,
    content: ContentHash | None = None,
    reveals: bool = False,
    services: tuple[str, ...] = DEFAULT_SERVICES,
) -> Extraction:
    """The events of the watched `services` in one log object's bytes; raises UnreadableLog (nothing is
    half-counted).

    The exact path holds the whole document and json's objects of it (several times its size):
    `exact_max_bytes` bounds what it may inflate, so a document the fast path cannot read (a
    decompression bomb of zeros, say) cannot exhaust the function's memory. `content` takes the
    SHA-256 of the uncompressed content from the pass that reads it to the end. `reveals` (pseudonymous
    mode) also finds the KMS Decrypts that revealed a sealed identity: one more search per piece.
    """
    inflated = content if data.startswith(GZIP_MAGIC) else None
    if content is not None and inflated is None:  # not compressed: the bytes are the content
        content.restart()
        content.feed(data)
        content.complete = True
    try:
        if inflated is not None:
            inflated.restart()
        return scan(data, max_bytes, inflated, reveals, services)
    except NotProven:
        pass
    budget = min(max_bytes, exact_max_bytes or max_bytes)
    try:
        if inflated is not None:
            inflated.restart()
        return extract(decode(data, budget, inflated), reveals, services)
    except OverCap:
        if budget == max_bytes:
            raise
        raise UnreadableLog(
            f"not a streamable CloudTrail document, and larger than the {budget} bytes the exact decoder may "
            "hold in memory (an eighth of the function's memory; --exact-max-bytes offline)"
        ) from None
