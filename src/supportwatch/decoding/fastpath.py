"""The streaming fast path: a `{"Records": [...]}` document (or a bare array) read in pieces.

Each piece of decompressed text is cut at a likely record boundary. A piece in which no entry can
name a watched source (neither the name of one nor a `\\u00` escape appears) is only validated and its
entries counted, by simdjson (the fastest validator: contract section 1 needs no tally of the other
malformed entries). In a piece that may name it, the records around each hit are decoded by msgspec
into a Struct of the few fields the counts need, and simdjson validates the whole piece in one pass,
which with msgspec proves that each cut falls between two entries (`Pieces._split`). No dict is
built for a dropped record and the whole document is never held. A wrong cut (a record nested
inside another's array) fails, and the piece is decoded whole or grows. Whatever this module cannot
prove equal to a full `json` parse raises NotProven and the caller takes the exact path: another
input form, a BOM, NaN, lone surrogates, nesting near the recursion limit, an integer longer than
Python's digit limit, trailing data.

Every byte's UTF-8 is checked on the way: simdjson checks what it validates, and text is checked
before msgspec decodes it (msgspec does not check the strings it passes over). A document whose bytes
are not all UTF-8 is read a second time, each piece checked on its own: the entries of a piece that is
not are split apart, and each entry that is not UTF-8 is skipped (`records.NotUtf8`), as the exact
path does.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from functools import cache, cached_property, reduce
from typing import Any

import msgspec
import simdjson

from supportwatch.decoding.inflate import CHUNK, GZIP_MAGIC, ContentHash, OverCap, pieces
from supportwatch.decoding.instants import parse_event_time
from supportwatch.decoding.literals import Search, searcher
from supportwatch.decoding.records import (
    KMS_SOURCE,
    NOT_UTF8,
    Extraction,
    NotUtf8,
    Texts,
    Who,
    add_event,
    bounded,
    is_utf8,
    is_well_formed,
    names_source,
    skip_reason,
    sources_of,
    support_event,
    to_reveal,
    who,
)
from supportwatch.privacy.seals import CONTEXT_KEY
from supportwatch.services import DEFAULT_SERVICES, SUPPORT

WRAP = 64  # extra array levels around each piece: msgspec gives up nesting well before json would
HOLD = 64 << 20  # a piece that still has no provable cut at this size goes to the exact path
WS = rb"[ \t\n\r]*"  # JSON's whitespace, exactly
RECORDS_HEAD = re.compile(WS + rb"\{" + WS + rb'"Records"' + WS + rb":" + WS + rb"\[")
ARRAY_HEAD = re.compile(WS + rb"\[")
COMPACT_CUT = b'},{"eventVersion":'  # how CloudTrail itself separates records
CUTS = (
    re.compile(rb"\}" + WS + rb"," + WS + rb"(\{)" + WS + rb'"eventVersion"'),
    re.compile(rb"\}" + WS + rb"," + WS + rb"(\{)"),
)
CUT_WINDOW = 1 << 16
PIECE = 1 << 17  # records are validated in pieces of about this size (64 KiB cost 3-7 % more, 256 KiB no less)
HEAD_BYTES = 64
IDENTITY_CACHE = 4096  # distinct `userIdentity` texts decoded once per document (they repeat)
REVEAL_MARKER = CONTEXT_KEY.encode()  # what a reveal's encryption context names (pseudonymous mode only)
ESCAPE = b"\\u00"
ESCAPED = frozenset(b'"\\/bfnrtu0123456789abcdefABCDEF')  # what may follow a backslash in an escape
SPLIT_HITS = 64  # a piece with more hits than this is decoded whole by msgspec
DEEP = 256  # simdjson reads 1,024 levels, json fewer: pieces go this deep, so simdjson refuses first
DEEP_OPEN, DEEP_CLOSE, DEEP_POINTER = b"[" * (DEEP + 1), b"]" * (DEEP + 1), "/0" * DEEP
SIBLINGS_POINTER = "/0" * (DEEP - 1)  # the array that holds the entries' array (and its siblings, `_entries`)
ABSENT = msgspec.Raw(b"")


class NotProven(Exception):
    """This document needs the exact path."""


class NotUtf8Document(NotProven):
    """This document's bytes are not all UTF-8: it is read again, piece by piece."""


def _field(name: str) -> Any:
    return msgspec.field(name=name, default=ABSENT)


class Fields(Texts, kw_only=True, gc=False):
    """A well-formed record with the fields of its support event; its strings decoded by msgspec (an
    entry where one of them is another type fails, and its piece is read as Loose). msgspec refuses a
    lone surrogate, so every string it gives is Unicode text."""

    source: str = msgspec.field(name="eventSource")
    id: str | None = msgspec.field(name="eventID", default=None)
    who: msgspec.Raw = _field("userIdentity")


class Loose(msgspec.Struct, gc=False, kw_only=True):
    """Any object entry, the fields that make it well-formed undecoded."""

    source: msgspec.Raw = _field("eventSource")
    name: msgspec.Raw = _field("eventName")
    time: msgspec.Raw = _field("eventTime")


Other = None | bool | int | float | str | list[msgspec.Raw]
Raws = Callable[[], list[msgspec.Raw]]  # the JSON texts of a piece's entries, decoded when asked


class Nesting:
    """msgspec decoders of a list of entries wrapped in `levels` extra arrays, and how to wrap and unwrap."""

    def __init__(self, levels: int) -> None:
        def decoder(item: Any) -> msgspec.json.Decoder:
            return msgspec.json.Decoder(reduce(lambda inner, _: list[inner], range(levels + 1), item))

        self.levels = levels
        self.fields, self.loose, self.raw = decoder(Fields), decoder(Loose | Other), decoder(msgspec.Raw)
        self.open, self.close = b"[" * (levels + 1), b"]" * (levels + 1)

    def unwrap(self, value: Any) -> list[Any]:
        for _ in range(self.levels):
            value = value[0]
        return value


# Wrapped pieces nest deeper than json would ever be asked to, so msgspec gives up first. Text with
# fewer brackets than SHALLOW cannot nest near the limit: it is read flat, which is much cheaper.
WRAPPED, FLAT = Nesting(WRAP), Nesting(0)
SHALLOW = 400


SHALLOW_SCAN = 1 << 14  # longer text is wrapped without counting its brackets


def _nesting(text: bytes | memoryview) -> Nesting:
    if len(text) < SHALLOW:
        return FLAT
    if len(text) > SHALLOW_SCAN:
        return WRAPPED
    data = bytes(text)
    return FLAT if data.count(b"[") + data.count(b"{") < SHALLOW else WRAPPED


def _string(raw: msgspec.Raw) -> bool:
    return bytes(raw).startswith(b'"')


class Watched:
    """The watched services as the bytes name them: the JSON string of each eventSource, and the rare
    literals a piece is searched for (each source's whole name: the longest needle is the fastest)."""

    def __init__(self, services: tuple[str, ...]) -> None:
        self.sources = sources_of(services)  # eventSource -> service
        self.spelled = {json.dumps(source).encode(): name for source, name in self.sources.items()}
        self.markers = [text[1:-1] for text in self.spelled]
        # a name that begins with what an escape ends in (`\\b`, `\\u0abe`) may be in a text that names no source
        self.ambiguous = any(marker[0] in ESCAPED for marker in self.markers)

    @cached_property
    def _find(self) -> Search:
        return searcher([*self.markers, ESCAPE])  # one pass over the bytes, whatever is watched

    @cached_property
    def _find_revealing(self) -> Search:
        return searcher([*self.markers, ESCAPE, REVEAL_MARKER])

    def service(self, head: Loose) -> str | None:
        """The watched service of a record whose eventSource is a JSON string, if any."""
        text = bytes(head.source)
        if (found := self.spelled.get(text)) is not None or b"\\" not in text:
            return found
        return self.sources.get(json.loads(text))

    def named(self, text: bytes) -> bool:
        """Whether an entry's JSON text names a watched source, in any spelling."""
        if any(marker in text for marker in self.markers):
            if not (self.ambiguous and b"\\" in text):
                return True
        elif ESCAPE not in text:
            return False
        return names_source(json.loads(text), self.sources)

    def hits(self, text: bytes, reveals: bool) -> list[int]:
        """Where `text` may name a watched source (or with `reveals` a reveal's context key): their names, and
        any `\\u00` escape (which can spell any of their letters), found in one pass. Elsewhere no entry can
        name one, so only its syntax needs checking."""
        return self._find_revealing(text) if reveals else self._find(text)


@cache
def watching(services: tuple[str, ...]) -> Watched:
    """The services' names as the bytes spell them, each set built once (its automaton at its first search)."""
    return Watched(services)


ANY = msgspec.json.Decoder()


def _value(text: bytes) -> Any:
    """A JSON value as `json.loads(bytes)` reads it: msgspec's reading, json's where msgspec refuses the text (a
    lone surrogate, NaN, a number beyond a float: where the two read it differently)."""
    try:
        return ANY.decode(text)
    except msgspec.MsgspecError:
        return json.loads(text)


def _shape(head: Any) -> Any:
    """What `skip_reason` reads of a malformed entry: its three fields, strings and null decoded, others as 0."""
    if not isinstance(head, Loose):
        return head
    fields = {"eventSource": head.source, "eventName": head.name, "eventTime": head.time}
    return {key: _value(text) if text[:1] in b'"n' else 0 for key, raw in fields.items() if (text := bytes(raw))}


def _from_kms(head: Any) -> bool:
    if isinstance(head, Fields):
        return head.source == KMS_SOURCE
    return isinstance(head, Loose) and _string(head.source) and _value(bytes(head.source)) == KMS_SOURCE


def _may_reveal(text: bytes, hits: list[int]) -> bool:
    """Whether one of `hits` in `text` is a reveal's context key or an escape (which can spell it): a record that
    names neither is no reveal (`to_reveal`)."""
    return any(text.startswith(REVEAL_MARKER, hit) or text.startswith(ESCAPE, hit) for hit in hits)


def _reveals(texts: Raws, heads: list[Any], found: Extraction) -> None:
    """The reveals among decoded entries (`to_reveal`): each KMS record read whole, as the exact path reads it."""
    for index, head in enumerate(heads):
        record = json.loads(bytes(texts()[index])) if _from_kms(head) else None
        if is_well_formed(record) and (reveal := to_reveal(record)) is not None:
            found.reveals.append(reveal)


def _sum_of_siblings(siblings: Any, expected: int) -> int | None:
    """The entries of `expected` sibling arrays, or None when there are not that many. (The proxies die here: a
    simdjson parser cannot parse again while one of them lives.)"""
    if len(siblings) != expected:
        return None
    return sum(len(part) for part in siblings)


def _merge(into: Extraction, found: Extraction) -> None:
    into.entries += found.entries
    into.skipped += found.skipped
    into.events += found.events
    into.reveals += found.reveals
    if found.skipped:
        into.reasons.update(found.reasons)


class Pieces:
    """Decoding state of one document: the counts so far, and the parser and caches it reuses."""

    def __init__(self, watched: Watched, reveals: bool = False, apart: bool = False) -> None:
        self.watched = watched
        self.apart = apart  # check each piece's UTF-8 (the document's is not): split those that are not
        self.found = Extraction()
        self.reveals = reveals  # pseudonymous mode: also find the KMS Decrypts that revealed an identity
        self.identities: dict[bytes, Who] = {}  # `userIdentity` texts repeat: each decoded once
        self.parser = simdjson.Parser()  # one per document: a parser is not shared between threads
        self.digits = sys.get_int_max_str_digits()
        self.long_digits = re.compile(rb"[0-9]{%d}" % max(self.digits // 2, 1))

    def take(self, first: bytes, piece: bytes | memoryview) -> bool:
        """Count the entries of `first` + `piece` (records separated by commas); False when they do not parse.

        A piece that cannot name a watched source is only validated (simdjson) and its entries counted. In
        one that may, the records around each hit are cut out and decoded by msgspec, the whole piece
        validated by simdjson in one pass that proves each cut falls between two of its entries. Whatever
        simdjson refuses, a piece dense with hits, or one where a record cannot be cut out, msgspec decodes whole.
        """
        if self.apart and not (is_utf8(first) and is_utf8(bytes(piece))):
            return self._apart(first + bytes(piece))
        wrapped = b"".join((DEEP_OPEN, first, piece, DEEP_CLOSE))  # the brackets hold no hit
        hits = self.watched.hits(wrapped, self.reveals)
        reveals = self.reveals and _may_reveal(wrapped, hits)
        if not hits:
            if (entries := self._count(wrapped)) is not None:
                self.found.entries += entries
                return True
        elif len(hits) <= SPLIT_HITS and (found := self._split(wrapped, hits, reveals)) is not None:
            _merge(self.found, found)
            return True
        if (found := self._records(wrapped, named=bool(hits), margin=len(DEEP_OPEN), reveals=reveals)) is None:
            return False
        _merge(self.found, found)
        return True

    def _apart(self, text: bytes) -> bool:
        """Count the entries of a piece that is not UTF-8 one by one; False when they do not parse."""
        nesting = _nesting(text)
        try:
            raws = nesting.unwrap(nesting.raw.decode(b"".join((nesting.open, text, nesting.close))))
        except msgspec.DecodeError:
            return False
        except RecursionError:
            raise NotProven("nesting near the recursion limit") from None
        found = Extraction()
        for raw in raws:
            if is_utf8(entry := bytes(raw)):
                if (part := self._records(entry, named=True, reveals=self.reveals)) is None:
                    return False
                _merge(found, part)
            else:
                found.entries += 1
                if NotUtf8(entry).names_source(self.watched.sources):
                    found.skip(NOT_UTF8)
        _merge(self.found, found)
        return True

    def _count(self, wrapped: bytes | bytearray) -> int | None:
        """The entries of `wrapped` (DEEP_OPEN, comma-separated entries, DEEP_CLOSE) counted, every byte
        validated by simdjson; None if it refuses them (not JSON, too deep, an integer beyond 64 bits:
        none of which it accepts where json would refuse)."""
        try:
            return len(self.parser.parse(wrapped).at_pointer(DEEP_POINTER))
        except (ValueError, RuntimeError):
            return None

    def _split(self, wrapped: bytes, hits: list[int], reveals: bool) -> Extraction | None:
        """The records around `hits` decoded (with `reveals` the reveals among them), every entry counted; None if
        a cut does not fall between entries.

        Each record around a hit is cut out at the compact separators (`},{"eventVersion":`) before and after
        it, whose commas valid JSON holds outside any string. `_entries` proves that each cut before one
        falls between entries. Then the records cut out, joined by commas, parse as a list only if each
        ends between entries too: each begins at an entry and never closes more than it opens, so one that
        stops inside an entry leaves a bracket open to the end.
        """
        first, stop = len(DEEP_OPEN), len(wrapped) - len(DEEP_CLOSE)
        position, cuts, records = first, [], []
        with memoryview(wrapped) as view:
            for hit in hits:
                if hit < position:
                    continue  # in the record just read
                before = wrapped.rfind(COMPACT_CUT, position, hit)
                start = before + 2 if before >= 0 else position
                after = wrapped.find(COMPACT_CUT, hit, stop)
                end = after + 1 if after >= 0 else stop
                if start > first:
                    cuts.append(start - 1)
                records.append(view[start:end])
                position = end + 1
            text = b",".join(records)
        if (entries := self._entries(wrapped, cuts)) is None:
            return None
        if (found := self._records(text, named=True, reveals=reveals, shallow=True)) is not None:
            found.entries = entries
        return found

    def _entries(self, wrapped: bytes, cuts: list[int]) -> int | None:
        """`_count` of `wrapped` whose commas at `cuts` are each made `],[`: its parts validated by simdjson in one
        pass as sibling arrays. A comma between two of the piece's entries adds a sibling; one nested inside
        an entry (a record-like object in another's array) splits that inner array or breaks the text, never
        adds a sibling. None unless there is one sibling more than cuts: every cut falls between entries."""
        bounds = zip([-1, *cuts], [*cuts, len(wrapped)], strict=True)
        with memoryview(wrapped) as view:
            text = b"],[".join([view[begin + 1 : end] for begin, end in bounds])
        try:
            return _sum_of_siblings(self.parser.parse(text).at_pointer(SIBLINGS_POINTER), len(cuts) + 1)
        except (ValueError, RuntimeError):
            return None

    def _records(
        self, text: bytes, named: bool, margin: int = 0, reveals: bool = False, shallow: bool = False
    ) -> Extraction | None:
        """Decode every entry of `text` (msgspec); None when it does not parse. `named`: it may name a
        watched source; `reveals`: a reveal's context key. `margin`: `text` is already wrapped in that many
        brackets (DEEP_OPEN, DEEP_CLOSE), of which the decoder's are a view, not a copy. `shallow`: simdjson
        validated it with the depth guard (DEEP), so it nests less deep than json's limit and is read flat."""
        if not is_utf8(text):  # what simdjson reads it checks itself; msgspec does not check what it passes over
            raise NotUtf8Document("not UTF-8")
        view = memoryview(text)
        body = view[margin : len(text) - margin]
        self._check_digits(body)
        nesting = FLAT if shallow else _nesting(body)
        if margin:
            wrapped: bytes | memoryview = view[margin - nesting.levels - 1 : len(text) - margin + nesting.levels + 1]
        else:
            wrapped = b"".join((nesting.open, text, nesting.close))
        found = Extraction()
        entries: list[msgspec.Raw] | None = None

        def texts() -> list[msgspec.Raw]:  # decoded once, when first asked
            nonlocal entries
            if entries is None:
                entries = nesting.unwrap(nesting.raw.decode(wrapped))
            return entries

        try:
            try:
                heads: list[Any] = nesting.unwrap(nesting.fields.decode(wrapped))
                sources = self.watched.sources
                watched = [
                    (index, service) for index, head in enumerate(heads) if (service := sources.get(head.source))
                ]
            except msgspec.ValidationError:  # some entry is not a well-formed record
                heads = nesting.unwrap(nesting.loose.decode(wrapped))
                watched = self._classify(heads, texts if named else None, found)
        except msgspec.DecodeError:
            return None
        except RecursionError:
            raise NotProven("nesting near the recursion limit") from None
        found.entries = len(heads)
        if watched:
            self._events(texts, heads, watched, found)
        if reveals:
            _reveals(texts, heads, found)
        return found

    def _classify(self, heads: list[Any], texts: Raws | None, found: Extraction) -> list[tuple[int, str]]:
        """Count the malformed entries that name a watched source (`texts`: theirs, when they may); the records
        of the watched services, with their service."""
        watched = []
        raws: list[msgspec.Raw] | None = None
        for index, head in enumerate(heads):
            if not (
                isinstance(head, Loose)
                and _string(head.source)
                and _string(head.name)
                and bytes(head.name) != b'""'
                and _string(head.time)
            ):
                if texts is not None:
                    raws = raws or texts()
                    if self.watched.named(bytes(raws[index])):
                        found.skip(skip_reason(_shape(head)))
            elif (service := self.watched.service(head)) is not None:
                watched.append((index, service))
        return watched

    def _who(self, text: bytes) -> Who:
        """What a record's `userIdentity` text gives its event; each text decoded once (they repeat)."""
        if (found := self.identities.get(text)) is None:
            found = who(_value(text) if text else None)
            if len(self.identities) < IDENTITY_CACHE:
                self.identities[text] = found
        return found

    def _events(self, texts: Raws, heads: list[Any], watched: list[tuple[int, str]], found: Extraction) -> None:
        """The events of the records of watched services among `heads`. A support record msgspec read whole
        gives its event here, except where it takes the exact reading (no eventID to hash it by, a time that
        names no instant, an identity that is not Unicode text): that record, and every record of the
        other services (what they never count is in fields msgspec did not read), is read again by json."""
        records: list[Any] | None = None
        identities, keep, who_of = self.identities, found.events.append, self._who
        for index, service in watched:
            head = heads[index]
            if (
                service == SUPPORT
                and isinstance(head, Fields)
                and head.id
                and (moment := parse_event_time(head.event_time)) is not None
            ):
                user = identities.get(text := bytes(head.who)) or who_of(text)
                if user.unicode:
                    keep(bounded(support_event(head.id, head, moment, user)))
                    continue
            records = records or texts()
            add_event(json.loads(bytes(records[index])), service, found)

    def _check_digits(self, piece: bytes | memoryview) -> None:
        """json refuses integers longer than Python's digit limit, msgspec does not: find any such run."""
        if not self.digits or len(piece) < self.digits:
            return
        stride, half = self.digits, self.digits // 2
        for position in range(0, len(piece), stride):
            if 48 <= piece[position] <= 57 and (
                self.long_digits.match(piece, position) or self.long_digits.match(piece, max(position - half + 1, 0))
            ):
                raise NotProven("a run of digits as long as Python's integer limit")


def _text(data: bytes, max_bytes: int, content: ContentHash | None) -> Iterator[bytes]:
    if data.startswith(GZIP_MAGIC):
        yield from pieces(data, max_bytes, content)
        return
    if len(data) > max_bytes:
        raise OverCap(f"size exceeds the cap of {max_bytes} bytes")
    view = memoryview(data)
    for start in range(0, len(data), CHUNK):
        yield bytes(view[start : start + CHUNK])


def _cut(text: bytes, low: int, high: int) -> tuple[int, int] | None:
    """The last likely record boundary in text[low:high]: (end of the records before it, next record)."""
    if (found := text.rfind(COMPACT_CUT, low, high)) >= 0:
        return found + 1, found + 2
    for pattern in CUTS:
        last = None
        for last in pattern.finditer(text, max(low, high - CUT_WINDOW), high):  # noqa: B007
            pass
        if last is not None:
            return last.start() + 1, last.start(1)
    return None


def _head(text: bytes) -> tuple[int, bytes]:
    """Where the first entry starts, and the bytes the document must end with after the last one."""
    if found := RECORDS_HEAD.match(text):
        return found.end(), b"]}"
    if found := ARRAY_HEAD.match(text):
        return found.end(), b"]"
    raise NotProven("not a Records document or array")


def _pieces(state: Pieces, rest: bytes, chunk: bytes) -> bytes:
    """Count the records of `rest` + `chunk` piece by piece, without joining them; the unread text."""
    start = 0
    with memoryview(chunk) as view:
        while len(chunk) - start > PIECE:
            found = _cut(chunk, start, start + PIECE) or _cut(chunk, start, len(chunk))
            if not found or not state.take(rest, view[start : found[0]]):
                found = _cut(chunk, start, len(chunk))  # a record nested in another's array: try the longest
                if not found or not state.take(rest, view[start : found[0]]):
                    break
            rest, start = b"", found[1]
    return rest + chunk[start:] if rest else chunk[start:]


def scan(
    data: bytes,
    max_bytes: int,
    content: ContentHash | None = None,
    reveals: bool = False,
    services: tuple[str, ...] = DEFAULT_SERVICES,
) -> Extraction:
    """The events of the watched `services` and the entry counts of a log object (with `reveals` its reveals
    too), exactly as the full parse finds them (`content` sees every inflated piece)."""
    watched = watching(services)
    try:
        return _scan(data, max_bytes, content, Pieces(watched, reveals))
    except NotUtf8Document:
        if content is not None:
            content.restart()
        return _scan(data, max_bytes, content, Pieces(watched, reveals, apart=True))


def _scan(data: bytes, max_bytes: int, content: ContentHash | None, state: Pieces) -> Extraction:
    rest, closing = b"", b""
    for chunk in _text(data, max_bytes, content):
        if not closing:
            rest += chunk
            if len(rest) < HEAD_BYTES:
                continue
            begin, closing = _head(rest)
            rest, chunk = b"", rest[begin:]
        rest = _pieces(state, rest, chunk)
        if len(rest) > HOLD:
            raise NotProven("no provable record boundary")
    if not closing:
        begin, closing = _head(rest)
        rest = rest[begin:]
    return _finish(state, rest, closing)


def _finish(state: Pieces, text: bytes, closing: bytes) -> Extraction:
    body = text.rstrip(b" \t\n\r")
    for byte in reversed(closing):
        if not body.endswith(bytes([byte])):
            raise NotProven("the document does not end where its record list does")
        body = body[:-1].rstrip(b" \t\n\r")
    if not body:
        if state.found.entries:  # `[..., ]`: a trailing comma
            raise NotProven("trailing comma")
        return state.found
    if not state.take(body, b""):
        raise NotProven("the last records do not parse")
    return state.found
