"""The streaming fast path finds exactly what the exact path finds, on every input (issue 6)."""

from __future__ import annotations

import gzip
import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportwatch import SUPPORT_EVENT_SOURCE
from supportwatch.decoding import UnreadableLog, fastpath, inflate, read_events, read_events_exactly
from supportwatch.decoding.records import NOT_UTF8
from tests.helpers import CANARY, FIXTURES, bedrock_record, q_record, reveal_record, support_record

CAP = 2 << 30
TRAPS = FIXTURES / "traps"
FILES = sorted(
    path
    for folder in ("forms", "trails", "traps")
    for path in (FIXTURES / folder).iterdir()
    if path.name not in ("README.md", "expected.json")
)
STREAMED = ["records.json.gz", "multimember.json.gz", "array.json", "malformed-entries.json", "nested-records.json.gz"]


def outcome(read, data: bytes, cap: int = CAP, reveals: bool = False) -> tuple:
    try:
        found = read(data, cap, reveals=reveals)
    except UnreadableLog:
        return ("unreadable",)
    return found.events, found.entries, found.skipped, dict(found.reasons), found.reveals


def assert_same(data: bytes, cap: int = CAP) -> tuple:
    """Both paths agree, without and with the reveals (pseudonymous mode), which add nothing else."""
    exact = outcome(read_events_exactly, data, cap)
    assert outcome(read_events, data, cap) == exact
    with_reveals = outcome(read_events_exactly, data, cap, reveals=True)
    assert outcome(read_events, data, cap, reveals=True) == with_reveals
    assert exact == with_reveals or (exact[:-1], exact[-1]) == (with_reveals[:-1], [])
    return with_reveals


@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_every_fixture_file(path):
    assert_same(path.read_bytes())


def test_every_trap_is_listed_and_current():
    listed = (TRAPS / "README.md").read_text()
    names = {path.name for path in TRAPS.iterdir()} - {"README.md"}
    assert names and all(f"`{name}`" in listed for name in names)


@pytest.mark.parametrize("name", STREAMED)
def test_the_common_forms_stream(name):
    path = next(path for path in FILES if path.name == name)
    found = fastpath.scan(path.read_bytes(), CAP)  # no NotProven: the fast path itself answered
    assert found.entries


@pytest.mark.parametrize(
    "name",
    ["bom.json", "nan.json", "lone-surrogate.json", "big-integer.json", "deep-inside-record.json"],
)
def test_what_msgspec_and_json_disagree_on_goes_the_exact_way(name):
    with pytest.raises(fastpath.NotProven):
        fastpath.scan((TRAPS / name).read_bytes(), CAP)


def test_cap_is_reported_not_truncated():
    document = json.dumps({"Records": [support_record() for _ in range(50)]}).encode()
    for data in (document, gzip.compress(document)):
        assert assert_same(data, len(document))[1] == 50
        with pytest.raises(UnreadableLog, match="cap"):
            read_events(data, len(document) - 1)
    bomb = gzip.compress(b'{"Records": [' + b"[], " * 2_000_000 + b"[]]}")
    with pytest.raises(UnreadableLog, match="cap of 1048576 bytes"):
        read_events(bomb, 1 << 20)


@pytest.mark.parametrize("cut", [10, 100, -8, -1])
def test_truncated_gzip(cut):
    data = gzip.compress(json.dumps({"Records": [support_record() for _ in range(30)]}).encode())[:cut]
    assert assert_same(data) == ("unreadable",)


def test_multi_member_gzip_cut_everywhere(monkeypatch):
    small_pieces(monkeypatch)
    document = json.dumps({"Records": [support_record() for _ in range(12)]}, separators=(",", ":")).encode()
    for step in (1, 7, 100, 1000):
        data = b"".join(gzip.compress(document[i : i + step]) for i in range(0, len(document), step))
        assert len(assert_same(data)[0]) == 12


def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny chunks and pieces, so that small documents cross every boundary the fast path has."""
    monkeypatch.setattr(inflate, "CHUNK", 61)
    monkeypatch.setattr(fastpath, "CHUNK", 61)
    monkeypatch.setattr(fastpath, "PIECE", 40)


KEYS = [
    *("eventSource", "eventName", "eventTime", "eventID", "userIdentity", "errorCode", "eventVersion", "x"),
    *("sourceIPAddress", "recipientAccountId", "awsRegion", "userAgent", "accountId", "arn", "type"),
    *("requestParameters", "encryptionContext", "supportwatch:pseudonym"),
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [SUPPORT_EVENT_SOURCE, "ec2.amazonaws.com", "kms.amazonaws.com", "Decrypt", "", "2023-09-11T16:34:13Z", "x"]
    ),
    st.text(max_size=6),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)),
    max_leaves=12,
)
RECORDS = st.one_of(
    st.builds(
        lambda name, time, extra: {**support_record(name=name, time=time), **extra},
        st.sampled_from(["StartSupportTroubleshooting", "Other", ""]),
        st.sampled_from(["2023-09-11T16:34:13Z", "2023-02-30T00:00:00Z", "x"]),
        st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=3),
    ),
    st.builds(
        lambda error, extra: {**reveal_record("p-abc", error=error), **extra},
        st.sampled_from([None, "AccessDenied"]),
        st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=2),
    ),
    st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=6),
    VALUES,
)


def escaped(text: str, rng: random.Random) -> str:
    """JSON text with some characters of its strings written as `\\u00XX` escapes."""
    out, in_string, backslash = [], False, False
    for char in text:
        if in_string and not backslash and char.isalnum() and ord(char) < 128 and rng.random() < 0.2:
            out.append(f"\\u{ord(char):04x}")
            continue
        out.append(char)
        if backslash:
            backslash = False
        elif char == "\\":
            backslash = in_string
        elif char == '"':
            in_string = not in_string
    return "".join(out)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(RECORDS, max_size=8), seed=st.integers(0, 2**32), data=st.data())
def test_generated_documents(monkeypatch, records, seed, data):
    small_pieces(monkeypatch)
    rng = random.Random(seed)
    shape = data.draw(st.sampled_from(["records", "array", "lines", "single"]))
    indent = data.draw(st.sampled_from([None, 1, "\t"]))
    separators = (",", ":") if indent is None and rng.random() < 0.5 else None
    dump = lambda value: json.dumps(value, indent=indent, separators=separators, ensure_ascii=rng.random() < 0.5)  # noqa: E731
    if shape == "records":
        text = dump({"Records": records})
    elif shape == "array":
        text = dump(records)
    elif shape == "lines":
        text = "\n".join(json.dumps(record) for record in records)
    else:
        text = dump(records[0] if records else {})
    document = escaped(text, rng).encode()
    cuts = sorted(rng.sample(range(len(document) + 1), min(3, len(document))))
    members = [document[a:b] for a, b in zip([0, *cuts], [*cuts, len(document)], strict=True)]
    for encoded in (document, gzip.compress(document), b"".join(gzip.compress(member) for member in members)):
        assert_same(encoded)


def entry(kind: str, number: int) -> object:
    """One entry of a compact CloudTrail document: quiet ones are only validated, the rest are cut out."""
    other = {**support_record(event_id=f"o{number}"), "eventSource": "ec2.amazonaws.com"}
    return {
        "quiet": other,
        "support": support_record(event_id=f"s{number}", name=f"Name{number % 3}"),
        "no-id": {key: value for key, value in support_record(name="NoId").items() if key != "eventID"},
        "decoy": {**other, "requestParameters": {"eventSource": SUPPORT_EVENT_SOURCE}},
        "named-malformed": {"eventVersion": "1.09", "eventSource": SUPPORT_EVENT_SOURCE, "eventName": ""},
        "bad-time": {**support_record(event_id=f"t{number}"), "eventTime": "yesterday"},
        "junk": [None, 7, "x", [], {"eventName": ""}][number % 5],
        "nested": {**other, "responseElements": {"items": [support_record(event_id=f"n{number}")]}},
        # a record-like object between two others inside an entry: compact separators that are not between entries
        "nested-middle": {**other, "x": {"items": [other, support_record(event_id=f"m{number}"), other]}},
        "nested-grid": {**other, "x": [[other, support_record(event_id=f"g{number}"), other]]},
        "junk-grid": [[other, support_record(event_id=f"j{number}"), other]],
        "reveal": reveal_record(f"p-{number}", event_id=f"r{number}"),
        "refused-reveal": reveal_record(f"p-{number}", event_id=f"d{number}", error="AccessDenied"),
        "seal": reveal_record(f"p-{number}", event_id=f"e{number}", name="Encrypt"),  # the function's own
        "reveal-decoy": {**other, "requestParameters": {"supportwatch:pseudonym": "p-x"}},
    }[kind]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kinds=st.lists(
        st.sampled_from(
            ["quiet"] * 6
            + ["support", "no-id", "decoy", "named-malformed", "bad-time", "junk", "nested"]
            + ["nested-middle", "nested-grid", "junk-grid"]
            + ["reveal", "refused-reveal", "seal", "reveal-decoy"]
        ),
        max_size=40,
    ),
    seed=st.integers(0, 2**32),
    piece=st.sampled_from([300, 2000, 1 << 16]),
)
def test_records_around_hits_are_cut_out_exactly(monkeypatch, kinds, seed, piece):
    """Pieces that may name the source are split around each hit: the counts never change."""
    monkeypatch.setattr(fastpath, "PIECE", piece)
    rng = random.Random(seed)
    text = json.dumps({"Records": [entry(kind, number) for number, kind in enumerate(kinds)]}, separators=(",", ":"))
    document = (escaped(text, rng) if rng.random() < 0.3 else text).encode()
    assert_same(document)
    assert_same(gzip.compress(document))


def test_a_reveal_is_found_by_the_streaming_path_only_when_asked():
    quiet = [{**support_record(event_id=f"o{n}"), "eventSource": "ec2.amazonaws.com"} for n in range(200)]
    text = json.dumps({"Records": [*quiet, reveal_record("p-x", event_id="r"), *quiet]}, separators=(",", ":"))
    spelled = text.replace("supportwatch:pseudonym", "supportwatch:\\u0070seudonym")  # the same key, escaped
    for document in (text, spelled):
        data = gzip.compress(document.encode())
        assert [(r.pseudonym, r.call.event_id) for r in fastpath.scan(data, CAP, reveals=True).reveals] == [
            ("p-x", "r")
        ]
        assert fastpath.scan(data, CAP).reveals == []


NOT_UTF8_BYTES = [b"\xff", b"\x80", b"\xc0\xaf", b"\xe2\x82", b"\xf4\x90\x80\x80"]
NAMING = {"support", "no-id", "decoy", "named-malformed", "bad-time", "nested"}  # the kinds that name the source


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kinds=st.lists(st.sampled_from(["quiet"] * 4 + sorted(NAMING) + ["junk"]), min_size=2, max_size=30),
    seed=st.integers(0, 2**32),
    piece=st.sampled_from([300, 2000, 1 << 16]),
    shape=st.sampled_from(["records", "array", "lines"]),
)
def test_an_entry_that_is_not_utf8_is_one_skipped_entry(monkeypatch, kinds, seed, piece, shape):
    """Bytes that are not UTF-8 in a record's string (a typed message, an ARN) skip that record alone,
    tallied when it names the source; the fast path (each piece checked, one that is not split
    apart) finds what the exact path finds."""
    monkeypatch.setattr(fastpath, "PIECE", piece)
    rng = random.Random(seed)
    entries, broken = [], []
    for number, kind in enumerate(kinds):
        found = entry(kind, number)
        if isinstance(found, dict) and rng.random() < 0.4:
            found = {**found, "additionalEventData": {"message": "NOT-UTF8"}}
            broken.append(kind)
        entries.append(found)
    if shape == "lines":
        text = "\n".join(json.dumps(found) for found in entries)
    else:
        text = json.dumps({"Records": entries} if shape == "records" else entries, separators=(",", ":"))
    document = text.encode()
    while b"NOT-UTF8" in document:
        document = document.replace(b"NOT-UTF8", rng.choice(NOT_UTF8_BYTES) + b"typed", 1)
    exact = assert_same(document)
    assert assert_same(gzip.compress(document)) == exact
    if shape != "lines":  # the fast path itself answered (no NotProven)
        assert outcome(fastpath.scan, gzip.compress(document)) == exact
    assert exact[1] == len(kinds)
    assert exact[3].get(NOT_UTF8, 0) == sum(kind in NAMING for kind in broken)


WATCHED = [("support",), ("q",), ("bedrock",), ("q", "bedrock"), ("support", "q", "bedrock")]


def watching(read, data: bytes, services: tuple[str, ...], reveals: bool = False) -> tuple:
    try:
        found = read(data, CAP, reveals=reveals, services=services)
    except UnreadableLog:
        return ("unreadable",)
    return found.events, found.entries, found.skipped, dict(found.reasons), found.reveals


def assert_same_watching(data: bytes, services: tuple[str, ...]) -> tuple:
    """Both paths agree on the events of every watched service, without and with the reveals."""
    for reveals in (False, True):
        exact = watching(read_events_exactly, data, services, reveals)
        assert watching(read_events, data, services, reveals) == exact
    return exact


def service_entry(kind: str, number: int) -> object:
    """One entry of a compact document where more services than support may be watched."""
    other = {**support_record(event_id=f"o{number}"), "eventSource": "ec2.amazonaws.com"}
    return {
        "q": q_record(event_id=f"q{number}", name=f"Name{number % 2}"),
        "q-dry-run": q_record(event_id=f"c{number}", dry_run=True),
        "q-not-dry": q_record(event_id=f"a{number}", dry_run=False),
        "q-on-behalf": q_record(event_id=f"b{number}", invoked_by="q.amazonaws.com"),
        "q-no-id": {key: value for key, value in q_record().items() if key != "eventID"},
        "q-bad-time": q_record(event_id=f"t{number}", time="yesterday"),
        "bedrock": bedrock_record(event_id=f"m{number}", model_id=f"model-{number % 3}"),
        "bedrock-plane": bedrock_record(event_id=f"p{number}", name="ListFoundationModels", model_id=None),
        "bedrock-no-model": bedrock_record(event_id=f"u{number}", name="InvokeModel", model_id=None),
        "bedrock-odd-model": bedrock_record(event_id=f"x{number}", model_id=["not", "text"]),
        "mq": {**q_record(event_id=f"mq{number}"), "eventSource": "mq.amazonaws.com"},
        "mq-malformed": {"eventSource": "mq.amazonaws.com", "eventName": ""},
        "q-malformed": {"eventVersion": "1.09", "eventSource": "q.amazonaws.com", "eventTime": 5},
        "bedrock-malformed": {**bedrock_record(), "eventName": ""},
        "backspace": {"eventVersion": "1.09", "eventSource": "\bedrock.amazonaws.com", "eventName": ""},
        "hex": {"eventVersion": "1.09", "eventSource": "\u0abedrock.amazonaws.com", "eventName": ""},
        "decoy": {**other, "requestParameters": {"modelId": "bedrock.amazonaws.com"}},
    }.get(kind) or entry(kind, number)


SERVICE_KINDS = [
    *("q", "q-dry-run", "q-not-dry", "q-on-behalf", "q-no-id", "q-bad-time", "bedrock", "bedrock-plane"),
    *("bedrock-no-model", "bedrock-odd-model", "mq", "mq-malformed", "q-malformed", "bedrock-malformed"),
    *("backspace", "hex", "decoy", "support", "no-id", "named-malformed", "bad-time", "junk", "nested", "reveal"),
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kinds=st.lists(st.sampled_from(["quiet"] * 8 + SERVICE_KINDS), max_size=40),
    services=st.sampled_from(WATCHED),
    seed=st.integers(0, 2**32),
    piece=st.sampled_from([300, 2000, 1 << 16]),
    ascii_only=st.booleans(),
)
def test_mixed_services_fast_path_is_the_exact_path(monkeypatch, kinds, services, seed, piece, ascii_only):
    """With any services watched, pieces that may name one are split around each hit (escapes, Amazon MQ's
    source that holds Q's, a backspace before `edrock`, entries that are not UTF-8): the counts never change."""
    monkeypatch.setattr(fastpath, "PIECE", piece)
    rng = random.Random(seed)
    entries = [service_entry(kind, number) for number, kind in enumerate(kinds)]
    for found in entries:
        if isinstance(found, dict) and rng.random() < 0.1:
            found["additionalEventData"] = {"note": "NOT-UTF8"}
    text = json.dumps({"Records": entries}, separators=(",", ":"), ensure_ascii=ascii_only)
    document = (escaped(text, rng) if rng.random() < 0.3 else text).encode()
    while b"NOT-UTF8" in document:
        document = document.replace(b"NOT-UTF8", rng.choice(NOT_UTF8_BYTES), 1)
    exact = assert_same_watching(document, services)
    assert assert_same_watching(gzip.compress(document), services) == exact
    if services == ("support",):
        assert exact == assert_same(document)  # the default reads as it always did


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(RECORDS, max_size=6), services=st.sampled_from(WATCHED), seed=st.integers(0, 2**32))
def test_generated_documents_watching_more_services(monkeypatch, records, services, seed):
    """Arbitrary entries, some of them turned into another watched service's by their source."""
    small_pieces(monkeypatch)
    rng = random.Random(seed)
    sources = ["q.amazonaws.com", "bedrock.amazonaws.com", "mq.amazonaws.com"]
    for found in records:
        if isinstance(found, dict) and rng.random() < 0.6:
            found["eventSource"] = rng.choice(sources)
            if rng.random() < 0.5:
                found["requestParameters"] = rng.choice([{"dryRun": True}, {"modelId": "m"}, {"modelId": 1}, None])
            if rng.random() < 0.3:
                found["userIdentity"] = {"invokedBy": rng.choice(sources)}
            if rng.random() < 0.3:
                found["eventName"] = rng.choice(["Converse", "InvokeModel", "GetFoundationModel"])
    text = json.dumps({"Records": records}, ensure_ascii=rng.random() < 0.5)
    document = escaped(text, rng).encode()
    assert_same_watching(document, services)
    assert_same_watching(gzip.compress(document), services)


def test_every_fixture_file_watching_every_service():
    for path in FILES:
        assert_same_watching(path.read_bytes(), ("support", "q", "bedrock"))


def test_the_fast_path_itself_reads_every_service():
    quiet = [{**support_record(event_id=f"o{n}"), "eventSource": "ec2.amazonaws.com"} for n in range(300)]
    watched = [support_record(event_id="s"), q_record(event_id="q"), bedrock_record(event_id="b", model_id=None)]
    noise = [q_record(event_id="dry", dry_run=True), {**q_record(event_id="mq"), "eventSource": "mq.amazonaws.com"}]
    text = json.dumps({"Records": [*quiet, *watched, *noise, *quiet]}, separators=(",", ":"))
    found = fastpath.scan(gzip.compress(text.encode()), CAP, services=("support", "q", "bedrock"))
    assert [(e.event_id, e.service, e.model_id) for e in found.events] == [
        ("s", "support", None),
        ("q", "q", None),
        ("b", "bedrock", "unknown"),
    ]
    assert (found.entries, found.skipped) == (605, 0)
    assert CANARY not in repr(found)
    assert [e.event_id for e in fastpath.scan(gzip.compress(text.encode()), CAP).events] == ["s"]


@pytest.mark.parametrize("kind", ["nested-middle", "nested-grid", "junk-grid"])
def test_record_like_objects_side_by_side_inside_an_entry_are_not_entries(kind):
    """The records around a hit are cut at compact separators; inside another entry those fall between record-like
    objects of its arrays, and the cut-out text is a whole object that is no entry: never counted as one."""
    entries = [entry("quiet", 0), entry(kind, 1), entry("quiet", 2), entry("support", 3)]
    document = json.dumps({"Records": entries}, separators=(",", ":")).encode()
    assert len(assert_same(document)[0]) == 1
