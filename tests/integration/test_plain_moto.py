"""backfill against a moto server a user started: exact totals however many workers are asked for.

A plain moto server serves requests in parallel threads and applies a DynamoDB transaction to the
live table item by item (restoring a snapshot on failure), so concurrent transactions are not
isolated as DynamoDB documents: several files processed at the same time count events twice.
backfill therefore processes one file at a time against any endpoint that is not AWS, and says so.
"""

from __future__ import annotations

import json
from typing import Any

from supportwatch.aws.clients import client
from supportwatch.aws.local import deploy
from supportwatch.aws.store import SummaryStore
from supportwatch.cli.main import main
from supportwatch.export import export_document
from tests.helpers import TEMPLATE, comparable, expected_totals, gzip_document, random_support_records

FILES = 12


class Account:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def client(self, service: str) -> Any:
        return client(service, endpoint_url=self.endpoint, region_name="us-east-1")


def test_backfill_with_8_workers_against_plain_moto_counts_exactly_on_every_run(moto_server, capsys):
    account = Account(moto_server)
    stack = deploy(account, TEMPLATE)
    records = random_support_records(FILES * 25, seed=11, identities=2, days=2)  # every file hits the same items
    s3 = account.client("s3")
    for number in range(FILES):
        key = (
            f"AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/"
            f"111122223333_CloudTrail_us-east-1_20230911T12{number:02d}Z_f{number}.json.gz"
        )
        s3.put_object(Bucket=stack.bucket, Key=key, Body=gzip_document(records[number::FILES]))
    command = [
        "backfill",
        f"s3://{stack.bucket}",
        "--table",
        stack.table,
        "--topic-arn",
        stack.topic_arn,
        "--workers",
        "8",
        "--endpoint-url",
        moto_server,
        "--format",
        "json",
    ]
    for run in range(3):
        code = main(command)
        captured = capsys.readouterr()
        assert code == 0, captured.err
        assert f"{moto_server} is not AWS: one file at a time instead of 8" in captured.err
        totals = json.loads(captured.out)
        assert totals["counted"] == (len(records) if run == 0 else 0)
        export = export_document(SummaryStore(account.client("dynamodb"), stack.table).identities())
        assert comparable(export) == expected_totals(records)
