"""DynamoDB write requests per log file against its support events: SummaryStore.commit on moto."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


class Account:
    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name="us-east-1")


def main(paths: list[str]) -> list[dict[str, Any]]:
    os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"})
    from moto import mock_aws

    sys.path.insert(0, str(REPO))
    from tests.integration.test_exactly_once import FaultyClient  # with no fault: it counts the writes

    from supportwatch.aws.local import deploy
    from supportwatch.aws.store import SummaryStore
    from supportwatch.decoding import read_events

    rows = []
    with mock_aws():
        stack = deploy(Account(), REPO / "template.yaml")
        for path in paths:
            events = read_events(Path(path).read_bytes(), 2 << 30).events
            client = FaultyClient(Account().client("dynamodb"))
            SummaryStore(client, stack.table, 400, sleep=lambda seconds: None).commit(path, events)
            rows.append({"file": Path(path).name, "events": len(events), "writes": client.writes})
    return rows


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
