"""Exactly-once counting under crashes, transaction conflicts and concurrency."""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

from supportwatch import handler
from supportwatch.alerting import Alerting
from supportwatch.aws.local import deploy
from supportwatch.aws.notify import SnsPublisher
from supportwatch.aws.objects import S3Objects
from supportwatch.aws.store import CONFLICT_RETRIES, SummaryStore
from supportwatch.config import Settings
from supportwatch.export import export_document
from supportwatch.pipeline import Processor
from tests.helpers import (
    TEMPLATE,
    MotoAccount,
    comparable,
    embedded_stack,
    expected_totals,
    gzip_document,
    random_support_records,
    s3_event,
)
from tests.integration.conftest import LambdaContext

# The requests a crash is injected at: every write, and the read of first/last seen between them.
WRITES = {"transact_write_items", "update_item", "put_item", "batch_get_item"}
KEY_A = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/a.json.gz"
KEY_B = "AWSLogs/111122223333/CloudTrail/eu-west-1/2023/09/11/b.json.gz"


class FaultyClient:
    """Wraps a DynamoDB client: fails write number `fail_at` before it runs (`lost_response` False)
    or after it ran, as if the response were lost on the way back (`lost_response` True)."""

    def __init__(self, client: Any, fail_at: int | None = None, lost_response: bool = False) -> None:
        self._client = client
        self.fail_at = fail_at
        self.lost_response = lost_response
        self.writes = 0
        self.failed: dict[str, Any] | None = None

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._client, name)
        if name not in WRITES:
            return call

        def write(**request: Any) -> Any:
            self.writes += 1
            if self.writes != self.fail_at:
                return call(**request)
            self.failed = request
            if self.lost_response:
                with contextlib.suppress(ClientError):  # refused or not, the answer never arrives
                    call(**request)
            raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

        return write


def use_store(monkeypatch: pytest.MonkeyPatch, store: SummaryStore) -> None:
    """Run the handler with `store` (summaries and alert claims) in place of the one it builds."""
    settings = Settings.from_env()
    publisher = SnsPublisher(boto3.client("sns"), settings.topic_arn, store)
    processor = Processor(
        S3Objects(boto3.client("s3")).read, store, Alerting(store, publisher), settings.alerts, 1 << 30
    )
    monkeypatch.setattr(handler, "processor", lambda: processor)


def run_once(monkeypatch, client: Any, table: str, bucket: str, *keys: str) -> dict:
    use_store(monkeypatch, SummaryStore(client, table, 400, sleep=lambda seconds: None))
    return handler.lambda_handler(s3_event(bucket, *keys), LambdaContext())


def deployed(monkeypatch, files: dict[str, list]) -> tuple[str, str]:
    resources = deploy(MotoAccount(), TEMPLATE)
    for name, value in resources.function_environment.items():
        monkeypatch.setenv(name, value)
    for key, records in files.items():
        boto3.client("s3").put_object(Bucket=resources.bucket, Key=key, Body=gzip_document(records))
    return resources.table, resources.bucket


def table_summaries(table: str) -> dict:
    return export_document(SummaryStore(boto3.client("dynamodb"), table).identities())


# 110 events over 2 identities and 2 days: two transactions (one holds at most 100 items) and
# 12 conditional first/last-seen updates.
CRASH_RECORDS = random_support_records(110, seed=7, identities=2, days=2)
SHARED = CRASH_RECORDS[:20]  # also delivered in an earlier file: CloudTrail's own duplicates


def count_writes(monkeypatch) -> int:
    with mock_aws():
        table, bucket = deployed(monkeypatch, {KEY_A: SHARED, KEY_B: CRASH_RECORDS})
        run_once(monkeypatch, boto3.client("dynamodb"), table, bucket, KEY_A)
        counter = FaultyClient(boto3.client("dynamodb"))
        run_once(monkeypatch, counter, table, bucket, KEY_B)
        return counter.writes


@pytest.mark.usefixtures("light_transactions")  # single-threaded: one request at a time
@pytest.mark.parametrize("lost_response", [False, True], ids=["crash-before-write", "response-lost"])
def test_a_crash_after_every_write_then_a_retry_gives_exact_totals(monkeypatch, lost_response):
    total_writes = count_writes(monkeypatch)
    assert total_writes >= 14  # cancelled transactions (events counted by file A) are writes too
    expected = expected_totals(CRASH_RECORDS)
    for fail_at in range(1, total_writes + 1):
        with mock_aws():
            table, bucket = deployed(monkeypatch, {KEY_A: SHARED, KEY_B: CRASH_RECORDS})
            run_once(monkeypatch, boto3.client("dynamodb"), table, bucket, KEY_A)
            faulty = FaultyClient(boto3.client("dynamodb"), fail_at, lost_response)
            try:
                run_once(monkeypatch, faulty, table, bucket, KEY_B)
            except handler.ObjectsFailed:
                pass
            else:  # only the record of a sent alert is written again at once (store.RECORD_ROUNDS)
                assert ":published" in faulty.failed["ExpressionAttributeValues"], f"write {fail_at} failed silently"
            retry = run_once(monkeypatch, boto3.client("dynamodb"), table, bucket, KEY_B)
            assert retry["reports"][0]["outcome"] == "counted"
            assert comparable(table_summaries(table)) == expected, f"after a failure at write {fail_at}"


class ConflictingClient:
    """Cancels the first `conflicts` transactions as DynamoDB does when another one holds an item."""

    def __init__(self, client: Any, conflicts: int) -> None:
        self._client = client
        self.conflicts = conflicts

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **request: Any) -> Any:
        if self.conflicts:
            self.conflicts -= 1
            reasons = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}]
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
                    "CancellationReasons": reasons * len(request["TransactItems"]),
                },
                "TransactWriteItems",
            )
        return self._client.transact_write_items(**request)


def test_transaction_conflicts_are_retried(monkeypatch):
    records = random_support_records(30, seed=8)
    with mock_aws():
        table, bucket = deployed(monkeypatch, {KEY_A: records})
        report = run_once(monkeypatch, ConflictingClient(boto3.client("dynamodb"), 3), table, bucket, KEY_A)
        assert report["reports"][0]["counted"] == 30
        assert comparable(table_summaries(table)) == expected_totals(records)


def test_endless_conflicts_fail_the_invocation_for_a_retry(monkeypatch):
    records = random_support_records(5, seed=9)
    with mock_aws():
        table, bucket = deployed(monkeypatch, {KEY_A: records})
        client = ConflictingClient(boto3.client("dynamodb"), CONFLICT_RETRIES)
        with pytest.raises(handler.ObjectsFailed, match="1 of 1 objects failed"):
            run_once(monkeypatch, client, table, bucket, KEY_A)
        assert table_summaries(table)["summaries"] == {}


def test_files_for_the_same_identities_processed_concurrently(monkeypatch):
    """Through moto's server, one request at a time (see EmbeddedAws): DynamoDB's isolation."""
    records = random_support_records(240, seed=10, identities=4, days=2)
    files = {f"AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/f{n}.json.gz": [] for n in range(12)}
    names = list(files)
    for number, record in enumerate(records):
        files[names[number % 12]].append(record)
        if number % 5 == 0:  # a fifth of the events delivered twice, in another file
            files[names[(number + 5) % 12]].append(record)
    with embedded_stack(monkeypatch) as (aws, resources):
        s3 = aws.client("s3")
        for key, body in files.items():
            s3.put_object(Bucket=resources.bucket, Key=key, Body=gzip_document(body))
        handler.processor.cache_clear()
        with ThreadPoolExecutor(max_workers=8) as pool:
            reports = list(
                pool.map(
                    lambda key: handler.lambda_handler(s3_event(resources.bucket, key), LambdaContext()),
                    names + names[:4],  # and a few redeliveries racing the first ones
                )
            )
        handler.processor.cache_clear()
        counted = sum(response["reports"][0]["counted"] for response in reports)
        assert counted == len(records)
        stored = export_document(SummaryStore(aws.client("dynamodb"), resources.table).identities())
        assert comparable(stored) == expected_totals(records)


def test_a_file_processed_again_after_its_markers_expired_counts_nothing(monkeypatch):
    """Issue 11 item 10. DynamoDB deletes items whose TTL has passed; moto never does, so the test
    deletes the expired ones itself, as DynamoDB would after the clock moved 401 days on."""
    records = random_support_records(5, seed=3, identities=1, days=1)
    with mock_aws():
        table, bucket = deployed(monkeypatch, {KEY_A: records})
        now = [1_700_000_000.0]
        client = boto3.client("dynamodb")
        store = SummaryStore(client, table, 400, clock=lambda: now[0], sleep=lambda seconds: None)
        use_store(monkeypatch, store)
        first = handler.lambda_handler(s3_event(bucket, KEY_A), LambdaContext())["reports"][0]
        before = table_summaries(table)
        assert first["counted"] == 5 and before["summaries"]

        now[0] += 401 * 86400
        expired = [
            item
            for item in client.scan(TableName=table)["Items"]
            if "expiresAt" in item and int(item["expiresAt"]["N"]) < now[0]
        ]
        assert len(expired) == 5  # the markers; claims and object records never expire
        for item in expired:
            client.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
        again = handler.lambda_handler(s3_event(bucket, KEY_A), LambdaContext())["reports"][0]
        assert (again["counted"], again["duplicates"], again["alerts"]) == (0, 5, 0)
        assert table_summaries(table) == before


def test_an_object_put_again_with_more_events_counts_only_the_new_ones(monkeypatch):
    """Issue 20 item 1: the same key put three times (a re-upload, a versioned bucket): v1 with 2
    events, v2 with those and one more, v2 again. The object record holds the content it counted, so
    v2 is not taken for v1; after the markers expired, v1 put back still counts nothing."""
    records = random_support_records(3, seed=5, identities=1, days=1)
    with mock_aws():
        table, bucket = deployed(monkeypatch, {KEY_A: records[:2]})
        now = [1_700_000_000.0]
        client = boto3.client("dynamodb")
        use_store(monkeypatch, SummaryStore(client, table, 400, clock=lambda: now[0], sleep=lambda seconds: None))

        def put_and_count(version: list) -> tuple[int, int]:
            boto3.client("s3").put_object(Bucket=bucket, Key=KEY_A, Body=gzip_document(version))
            report = handler.lambda_handler(s3_event(bucket, KEY_A), LambdaContext())["reports"][0]
            return report["counted"], report["duplicates"]

        assert [put_and_count(version) for version in (records[:2], records, records)] == [(2, 0), (1, 2), (0, 3)]
        assert comparable(table_summaries(table)) == expected_totals(records)

        now[0] += 401 * 86400
        for item in client.scan(TableName=table)["Items"]:
            if "expiresAt" in item and int(item["expiresAt"]["N"]) < now[0]:
                client.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
        assert put_and_count(records[:2]) == (0, 2)
        assert comparable(table_summaries(table)) == expected_totals(records)
