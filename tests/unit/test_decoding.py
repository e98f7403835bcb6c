"""Bytes -> entries, in every accepted form, and what is unreadable (CONTRACT section 6)."""

from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportwatch.decoding import UnreadableLog, decode
from supportwatch.decoding.records import NotUtf8, extract
from tests.helpers import FIXTURES

FORMS = FIXTURES / "forms"
EXPECTED = json.loads((FORMS / "expected.json").read_text())
CAP = 2 << 30
# What the reason of each unreadable form must say (the README's expected outcome, in the code's words).
REASONS = {
    "truncated.json.gz": "truncated gzip",
    "corrupt.json.gz": "corrupt gzip",
    "bad-crc.json.gz": "CRC",
    "empty.json.gz": "empty object",
    "plain-text.json.gz": "not JSON",
    "records-not-list.json": "`Records` is not a list",
    "not-object.json": "JSON int",
    "deep.json": "nesting too deep",
    "deep.json.gz": "nesting too deep",
}
RECORDS = [{"eventName": "A", "n": 1}, {"eventName": "B", "n": 2}, {"eventName": "C", "n": 3}]
DOCUMENT = json.dumps({"Records": RECORDS}).encode()


def test_every_form_file_has_an_expectation():
    files = {path.name for path in FORMS.iterdir()} - {"README.md", "expected.json"}
    assert files == set(EXPECTED["files"])
    assert {name for name, outcome in EXPECTED["files"].items() if "unreadable" in outcome} == set(REASONS)


@pytest.mark.parametrize("name", sorted(EXPECTED["files"]))
def test_form_file(name):
    expected = EXPECTED["files"][name]
    data = (FORMS / name).read_bytes()
    if "unreadable" in expected:
        with pytest.raises(UnreadableLog) as raised:
            decode(data, CAP)
        assert REASONS[name] in raised.value.reason
    else:
        found = extract(decode(data, CAP))
        assert (len(found.events), found.entries, found.skipped) == (
            expected["support_events"],
            expected["records"],
            expected["skipped"],
        )


@pytest.mark.parametrize("name", ["records.json", "records.json.gz", "multimember.json.gz", "lines.jsonl"])
def test_form_file_event_ids(name):
    events = extract(decode((FORMS / name).read_bytes(), CAP)).events
    assert [event.event_id for event in events] == EXPECTED["threeRecordForms"]["eventIDs"]


def test_cap_on_decompressed_size():
    bomb = gzip.compress(b'{"Records": [], "pad": "' + b" " * 10_000_000 + b'"}')
    assert len(bomb) < 20_000
    with pytest.raises(UnreadableLog, match="cap of 1048576 bytes"):
        decode(bomb, 1 << 20)


def test_cap_boundary_gzip_and_plain():
    for data in (DOCUMENT, gzip.compress(DOCUMENT)):
        assert decode(data, len(DOCUMENT)) == RECORDS
        with pytest.raises(UnreadableLog, match=f"cap of {len(DOCUMENT) - 1} bytes"):
            decode(data, len(DOCUMENT) - 1)


def test_multi_member_gzip():
    data = b"".join(gzip.compress(DOCUMENT[i : i + 7]) for i in range(0, len(DOCUMENT), 7))
    assert decode(data, CAP) == RECORDS


@pytest.mark.parametrize("cut", [2, 10, -8, -1])
def test_truncated_gzip(cut):
    with pytest.raises(UnreadableLog, match="truncated gzip"):
        decode(gzip.compress(DOCUMENT)[:cut], CAP)


@pytest.mark.parametrize(
    "data",
    [gzip.compress(DOCUMENT) + b"garbage", DOCUMENT + b"garbage", DOCUMENT + b"\ngarbage\n"],
    ids=["after-gzip", "after-json", "next-line"],
)
def test_trailing_garbage_is_unreadable(data):
    with pytest.raises(UnreadableLog):
        decode(data, CAP)


def test_bom_prefixed_json_is_read_like_without_bom():
    # json.loads(bytes) detects the UTF-8 BOM; a BOM-prefixed export is the same document.
    bom = b"\xef\xbb\xbf"
    assert decode(bom + DOCUMENT, CAP) == RECORDS
    assert decode(gzip.compress(bom + DOCUMENT), CAP) == RECORDS
    assert decode(bom + b"\n".join(json.dumps(r).encode() for r in RECORDS), CAP) == RECORDS


def test_an_entry_that_is_not_utf8_is_kept_apart_and_other_bad_bytes_are_unreadable():
    assert decode(b'{"Records": ["\xe9", 1]}', CAP) == [NotUtf8(b'"\xe9"'), 1]
    assert decode(b'[1, {"a": "\xe9"}]', CAP) == [1, NotUtf8(b'{"a": "\xe9"}')]
    for outside in (b'{"Records": [1], "x": "\xe9"}', b'{"Records": [1]\xe9}', b'"\xe9"', b"[1]\n\xe9"):
        with pytest.raises(UnreadableLog, match="not JSON"):
            decode(outside, CAP)


def test_json_lines_with_blank_lines():
    a, b, c = (json.dumps(r) for r in RECORDS)
    assert decode(f"\n{a}\n\n   \n{b}\r\n{c}\n\n".encode(), CAP) == RECORDS


def test_json_lines_of_records_documents():
    lines = [
        json.dumps({"Records": RECORDS[:2]}),
        json.dumps({"Records": []}),
        json.dumps({"Records": RECORDS[2:]}),
    ]
    assert decode("\n".join(lines).encode(), CAP) == RECORDS


def test_json_lines_bad_line_is_unreadable_as_a_whole():
    a, b, _ = (json.dumps(r) for r in RECORDS)
    with pytest.raises(UnreadableLog, match="line 3"):
        decode(f"{a}\n{b}\n{{broken\n".encode(), CAP)


records_strategy = st.lists(
    st.dictionaries(
        st.text("abcdeNRT", min_size=1, max_size=6),
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8)),
        max_size=4,
    ),
    min_size=1,
    max_size=6,
)


def plain_forms(records: list) -> list[bytes]:
    return [
        json.dumps({"Records": records}).encode(),
        json.dumps(records).encode(),
        "".join(json.dumps(record) + "\n" for record in records).encode(),
    ]


@settings(max_examples=100, deadline=None)
@given(records=records_strategy, data=st.data())
def test_every_form_decodes_to_the_same_entries(records, data):
    for plain in plain_forms(records):
        cuts = sorted(data.draw(st.lists(st.integers(0, len(plain)), max_size=4)))
        pieces = [plain[start:end] for start, end in zip([0, *cuts], [*cuts, len(plain)], strict=True)]
        multi = b"".join(gzip.compress(piece) for piece in pieces)
        for encoded in (plain, gzip.compress(plain), multi):
            assert decode(encoded, CAP) == records
