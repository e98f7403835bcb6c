"""Identity key, type and principal (CONTRACT section 2)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from supportwatch.decoding.identity import identify
from supportwatch.decoding.records import to_support_event
from tests.helpers import FIXTURES, support_record

CASES = json.loads((FIXTURES / "identities.json").read_text())
REAL_TRAILS = Path("/work/shared/real-trails")


def record_for(case: dict[str, Any]) -> dict[str, Any]:
    record = support_record()
    if "userIdentity" in case:
        record["userIdentity"] = case["userIdentity"]
    else:
        del record["userIdentity"]
    return record


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_identity_fixture(case):
    event = to_support_event(record_for(case))
    assert event is not None
    assert (event.identity, event.identity_type, event.principal) == (
        case["expected_identity"],
        case["expected_identity_type"],
        case["expected_principal"],
    )


def test_fixture_covers_every_rule():
    assert {case["name"].split("-")[0] for case in CASES} == {f"rule{n}" for n in range(1, 7)}


def trail_records(folder: Path) -> list[dict[str, Any]]:
    """Every record of every file below `folder`, read with the stdlib only."""
    records = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".json" in p.name):
        data = path.read_bytes()
        document = json.loads(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
        records.extend(document["Records"] if isinstance(document, dict) else document)
    return records


@pytest.mark.skipif(not REAL_TRAILS.is_dir(), reason="/work/shared/real-trails is not present")
def test_real_trail_shapes():
    invoked = [
        r["userIdentity"]
        for r in trail_records(REAL_TRAILS / "invictus-ir-aws_dataset")
        if isinstance(r.get("userIdentity"), dict)
        and "invokedBy" in r["userIdentity"]
        and "type" not in r["userIdentity"]
    ]
    accounts = [
        r["userIdentity"]
        for r in trail_records(REAL_TRAILS / "flaws2-cloud-logs")
        if (r.get("userIdentity") or {}).get("type") == "AWSAccount"
    ]
    assert (len(invoked), len(accounts)) == (42, 22)
    for user_identity in invoked:
        assert identify(user_identity).key == f"service:{user_identity['invokedBy']}"
    for user_identity in accounts:
        assert identify(user_identity).key == f"account:{user_identity['accountId']}"
