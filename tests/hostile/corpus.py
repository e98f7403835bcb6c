"""A fuzz-style corpus of hostile log objects, generated deterministically (no randomness, no files needed).

`cases()` returns every case with what the function must do with it; `tests/integration/test_hostile.py`
puts them all in one bucket and runs the handler over all of them at once. To get the objects as
files (for `supportwatch scan`, or to upload somewhere): `python -m tests.hostile.corpus OUTDIR`.

The decompression bomb only makes sense with a small cap: `CAP` is the `MAX_DECOMPRESSED_BYTES`
the tests set (8 MiB), and the bomb is a 16 KiB gzip of 16 MiB of spaces (zeros are refused sooner: not JSON).
"""

from __future__ import annotations

import gzip
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supportwatch.decoding.records import KEY_BYTES, key_safe
from tests.helpers import support_record

CAP = 8 << 20
PREFIX = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/"
SOURCE = "supportrecommendations.amazonaws.com"
BIG = 2 << 20  # an "enormous" string: 2 MiB; three of them stay under the cap
LONG_ARN = "arn:aws:iam::111122223333:user/" + "x" * 3000


@dataclass(frozen=True)
class Case:
    """One hostile object and what the handler must make of it."""

    name: str
    key: str
    body: bytes | None  # None: nothing is stored (the notification names a key that cannot exist)
    outcome: str  # counted | skipped | unreadable
    reason: str | None = None  # a fragment of the logged reason (skipped/unreadable)
    counted: int = 0  # support events counted
    skipped_entries: int = 0
    identities: tuple[str, ...] = ()  # identity keys the counted events belong to

    @property
    def alert(self) -> bool:
        """Contract section 6: every unreadable object raises `unreadable-log`."""
        return self.outcome == "unreadable"


def _record(event_id: str, **overrides: Any) -> dict[str, Any]:
    record = support_record(event_id=event_id, arn="arn:aws:iam::111122223333:user/Hostile")
    record.update(overrides)
    return record


def _gz(value: Any) -> bytes:
    return gzip.compress(json.dumps(value).encode(), mtime=0)


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def cases() -> list[Case]:
    good = _gz(
        {
            "Records": [
                _record("hostile-good-1"),
                _record("hostile-good-2", eventName="GetSupportTroubleshootingResponse"),
            ]
        }
    )
    hostile = "arn:aws:iam::111122223333:user/Hostile"
    # The eventSource spelled with a JSON escape: the same string once decoded, so the same record.
    escaped = json.dumps({"Records": [_record("hostile-escaped")]}).replace(
        SOURCE, "supportrecommendations\\u002eamazonaws.com"
    )
    assert "\\u002e" in escaped
    big_record = _record(
        "hostile-big",
        userAgent="A" * BIG,
        requestParameters={"message": "B" * BIG},
        responseElements={"blob": ["C" * 1024] * 512},
    )
    big_other = {
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "eventTime": "2023-09-11T00:00:00Z",
        "requestParameters": {"bucketName": "D" * BIG},
    }
    deep_inside = _record("hostile-deep-ok", requestParameters={"a": json.loads(_nested(60))})
    return [
        Case("good", PREFIX + "good.json.gz", good, "counted", counted=2, identities=(hostile,)),
        Case(
            "corrupt-gzip",
            PREFIX + "corrupt.json.gz",
            b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4,
            "unreadable",
            "gzip",
        ),
        Case("truncated-gzip", PREFIX + "truncated.json.gz", good[: len(good) // 2], "unreadable", "truncated gzip"),
        Case("empty-object", PREFIX + "empty.json.gz", b"", "unreadable", "empty object"),
        Case(
            "plain-text",
            PREFIX + "plain-text.json.gz",
            b"Hello, this is not a CloudTrail log.\n" * 20,
            "unreadable",
            "not JSON",
        ),
        Case(
            "png",
            PREFIX + "image.json.gz",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
            b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82",
            "unreadable",
            "not JSON",
        ),
        Case("json-string", PREFIX + "json-string.json.gz", _gz("Records"), "unreadable", "where an object or array"),
        Case("json-number", PREFIX + "json-number.json.gz", _gz(42), "unreadable", "where an object or array"),
        Case(
            "records-not-list",
            PREFIX + "records-dict.json.gz",
            _gz({"Records": {"0": _record("x")}}),
            "unreadable",
            "`Records` is not a list",
        ),
        Case(
            "records-null",
            PREFIX + "records-null.json.gz",
            _gz({"Records": None}),
            "unreadable",
            "`Records` is not a list",
        ),
        Case(
            "junk-entries",
            PREFIX + "junk-entries.json.gz",
            _gz(
                {
                    "Records": [
                        "a string",
                        7,
                        3.5,
                        None,
                        True,
                        [],
                        {},
                        [_record("hostile-in-a-list")],
                        _record("hostile-junk-ok"),
                    ]
                }
            ),
            "counted",
            counted=1,
            skipped_entries=1,  # the record inside a list names the source; other junk is not tallied
            identities=(hostile,),
        ),
        Case(
            "user-identity-wrong-type",
            PREFIX + "user-identity.json.gz",
            _gz(
                {
                    "Records": [
                        _record(f"hostile-ui-{n}", userIdentity=value)
                        for n, value in enumerate(["root", 5, [], None, True])
                    ]
                }
            ),
            "counted",
            counted=5,
            identities=("Unknown:unknown",),
        ),
        Case(
            "event-time-bad",
            PREFIX + "event-time.json.gz",
            _gz(
                {
                    "Records": [
                        {key: value for key, value in _record("hostile-no-time").items() if key != "eventTime"},
                        _record("hostile-time-number", eventTime=1694450053),
                        _record("hostile-time-null", eventTime=None),
                        _record("hostile-time-list", eventTime=["2023-09-11T16:34:13Z"]),
                        _record("hostile-time-text", eventTime="yesterday"),
                        _record("hostile-time-ok"),
                    ]
                }
            ),
            "counted",
            counted=1,
            skipped_entries=5,
            identities=(hostile,),
        ),
        Case(
            "enormous-strings",
            PREFIX + "enormous.json.gz",
            _gz({"Records": [big_other, big_record]}),
            "counted",
            counted=1,
            identities=(hostile,),
        ),
        Case(
            "deep-nesting",
            PREFIX + "deep.json.gz",
            gzip.compress(b'{"Records": [' + _nested(100_000).encode() + b"]}", mtime=0),
            "unreadable",
            "nesting too deep",
        ),
        Case(
            "nested-but-fine",
            PREFIX + "nested-ok.json.gz",
            _gz({"Records": [deep_inside]}),
            "counted",
            counted=1,
            identities=(hostile,),
        ),
        Case(
            "bomb",
            PREFIX + "bomb.json.gz",
            gzip.compress(b" " * (16 << 20), compresslevel=9, mtime=0),
            "unreadable",
            "exceeds the cap",
        ),
        Case(
            "escaped-event-source",
            PREFIX + "escaped.json.gz",
            gzip.compress(escaped.encode(), mtime=0),
            "counted",
            counted=1,
            identities=(hostile,),
        ),
        Case(
            "oversized-key-values",  # longer than any DynamoDB key holds: kept as a prefix and a hash, counted
            PREFIX + "oversized.json.gz",
            _gz(
                {
                    "Records": [
                        _record("hostile-long-name", eventName="N" * 70_000),
                        _record("E" * 5000),
                        _record("hostile-long-error", errorCode="AccessDenied" * 100),
                        _record("hostile-next-to-them"),
                    ]
                }
            ),
            "counted",
            counted=4,
            identities=(hostile,),
        ),
        Case(
            "oversized-arn",
            PREFIX + "oversized-arn.json.gz",
            _gz({"Records": [_record("hostile-long-arn", userIdentity={"type": "IAMUser", "arn": LONG_ARN})]}),
            "counted",
            counted=1,
            identities=(key_safe(LONG_ARN, KEY_BYTES["identity"]),),
        ),
        Case(
            "long-non-key-values",  # never keys: counted, kept whole
            PREFIX + "long-values.json.gz",
            _gz(
                {
                    "Records": [
                        _record("hostile-long-ip", sourceIPAddress="2001:db8::" + "1" * 300),
                        _record("hostile-long-region", awsRegion="r" * 300),
                        _record("hostile-long-account", userIdentity={"arn": hostile, "accountId": "1" * 300}),
                        _record("hostile-long-type", userIdentity={"arn": hostile, "type": "T" * 300}),
                    ]
                }
            ),
            "counted",
            counted=4,
            identities=(hostile,),
        ),
        Case(
            "poison-records",  # each a skipped entry; the good record beside them counted
            PREFIX + "poison.json.gz",
            _gz(
                {
                    "Records": [
                        _record("poison-year-0-in-utc", eventTime="0001-01-01T00:30:00+01:00"),
                        _record("poison-year-10000-in-utc", eventTime="9999-12-31T23:30:00-01:00"),
                        _record("poison-no-offset", eventTime="2023-09-11T16:34:13"),
                        _record("poison-arn", userIdentity={"type": "IAMUser", "arn": hostile + "\ud800"}),
                        _record("poison-address", sourceIPAddress="198.51.100.7\udfff"),
                        _record("poison-region", awsRegion="us-east-1\ud800"),
                        _record("poison-id-\ud800"),
                        _record("poison-next-to-them"),
                    ]
                }
            ),
            "counted",
            counted=1,
            skipped_entries=7,
            identities=(hostile,),
        ),
        Case("zero-length-key", "", None, "skipped", "empty key"),
    ]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m tests.hostile.corpus OUTDIR\n")
        return 2
    out = Path(argv[0])
    for case in cases():
        if case.body is None:
            continue
        path = out / case.key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(case.body)
        print(f"{case.name:26} {len(case.body):>9} bytes  {case.outcome:10} {case.reason or ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
