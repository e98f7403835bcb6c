"""The real CloudTrail corpus in ../shared/real-trails, every record turned into a support event:
real identity shapes and CloudTrail's own duplicate deliveries (644 pairs in the SANS slice)
through the DynamoDB store and the offline Ledger."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from supportwatch import SUPPORT_EVENT_SOURCE
from supportwatch.aggregate import Ledger
from supportwatch.aws.local import deploy
from supportwatch.aws.store import SummaryStore
from supportwatch.decoding import UnreadableLog, decode
from supportwatch.decoding.records import extract
from supportwatch.export import export_document
from tests.helpers import REPO, TEMPLATE, MotoAccount

CORPUS = REPO.parent / "shared" / "real-trails"
SANS = CORPUS / "sans504-s3-ransomware-lab-slice"

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/real-trails is not beside the repository")


def as_support_records(path: Path) -> list:
    """The file's records, each claimed to come from Support Recommendations."""
    try:
        entries = decode(path.read_bytes(), 1 << 30)
    except UnreadableLog:
        return []
    return [{**entry, "eventSource": SUPPORT_EVENT_SOURCE} if isinstance(entry, dict) else entry for entry in entries]


def sans_events(folder: Path) -> dict[Path, list]:
    return {path: extract(as_support_records(path)).events for path in sorted(folder.rglob("*.json.gz"))}


def duplicates(files: dict[Path, list]) -> int:
    events = [event.event_id for found in files.values() for event in found]
    return len(events) - len(set(events))


def test_sans_slice_holds_cloudtrails_own_duplicates_and_the_ledger_counts_them_once():
    files = sans_events(SANS)
    assert duplicates(files) == 644  # CloudTrail delivered 644 events twice, in different files
    ledger = Ledger()
    counted = sum(ledger.commit(str(path), events).counted for path, events in files.items())
    assert counted == sum(map(len, files.values())) - 644
    assert sum(summary.total_calls for summary in ledger.identities()) == counted


def test_the_table_counts_real_duplicates_once_and_matches_the_ledger():
    """One day of the SANS slice through DynamoDB (moto copies the table on every transaction,
    so the whole slice would take minutes); its files share dozens of events."""
    files = sans_events(SANS / "us-west-1" / "2021" / "07" / "29")
    assert duplicates(files) >= 50
    ledger = Ledger()
    with mock_aws():
        store = SummaryStore(boto3.client("dynamodb"), deploy(MotoAccount(), TEMPLATE).table)
        counted = 0
        for path, events in files.items():
            counted += store.commit(path.as_uri(), events).counted
            ledger.commit(path.as_uri(), events)
        stored = export_document(store.identities())
    assert counted == sum(map(len, files.values())) - duplicates(files)
    assert stored == export_document(ledger.identities())


def test_every_real_file_decodes_and_every_identity_shape_summarises():
    ledger = Ledger()
    for path in sorted(CORPUS.rglob("*")):
        if path.suffix in (".json", ".gz", ".cloudtrail", ".jsonl"):
            ledger.commit(str(path), extract(as_support_records(path)).events)
    kinds = {summary.identity.split(":", 1)[0] for summary in ledger.identities()}
    assert {"arn", "service", "account"} <= kinds
    document = export_document(ledger.identities())
    assert json.loads(json.dumps(document)) == document
