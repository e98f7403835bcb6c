"""Read cost against table size (issue 11 item 6, issue 14): items read and time of the export, a
3-year range, its failed calls and its HTML report, on a table of N event markers.

`python bench/reads.py N [REPEATS]` prints one JSON row per read: a moto table (in-process) with 20 identities
active on 10 days each over 2022-2024 (200 day summaries, 20 identity summaries, 10 published
alerts, committed through SummaryStore) and N event markers in all, the rest loaded with
BatchWriteItem. Requests and items read (ScannedCount, what DynamoDB bills a Query for) are counted
by a botocore event hook; seconds are wall time on moto, best of REPEATS (3). moto answers an
index Query by going through every item of the table, so its seconds grow with the table where
DynamoDB's do not: the items read are the cost to look at.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
IDENTITIES, ACTIVE_DAYS, ALERTS = 20, 10, 10
SINCE, UNTIL = "2022-01-01", "2024-12-31"
BATCH = 25  # BatchWriteItem's limit


class Meter:
    """Requests and items read through one boto3 client (botocore's before/after-call events)."""

    def __init__(self, client: Any) -> None:
        self.requests: Counter[str] = Counter()
        self.items = 0
        client.meta.events.register("before-call.dynamodb.*", self._before)
        client.meta.events.register("after-call.dynamodb.*", self._after)

    def _before(self, model: Any, **_: Any) -> None:
        self.requests[model.name] += 1

    def _after(self, parsed: dict[str, Any], **_: Any) -> None:
        self.items += int(parsed.get("ScannedCount", parsed.get("Count", 0)))
        self.items += sum(len(found) for found in parsed.get("Responses", {}).values())  # BatchGetItem


def fill(client: Any, table: str, markers: int) -> None:
    """The active identities' events committed as the function would, then markers up to `markers`."""
    from tests.helpers import support_record

    from supportwatch.aws.store import SummaryStore
    from supportwatch.decoding.records import to_support_event
    from supportwatch.ledger import items
    from supportwatch.models import Alert

    store = SummaryStore(client, table, sleep=lambda seconds: None)
    events = []
    for who in range(IDENTITIES):
        for n in range(ACTIVE_DAYS):
            day = date.fromordinal(date(2022, 1, 1).toordinal() + (who * 37 + n * 109) % 1096)
            arn = f"arn:aws:iam::111122223333:user/u{who}"
            error = "AccessDeniedException" if n % 4 == 0 else None
            record = support_record(arn=arn, time=f"{day}T10:00:00Z", event_id=f"{who}-{n}", error=error)
            events.append(to_support_event(record))
    store.commit("bench.json.gz", events)
    for n in range(ALERTS):
        alert = Alert(rule="volume", severity="medium", window=f"2023-{n + 1:02d}-15", title="t", detail="d",
                      identity=f"arn:aws:iam::111122223333:user/u{n}")  # fmt: skip
        store.claim(alert, "bench")
        store.published(alert, "bench")
    expires = int(time.time()) + 400 * 86400
    filler = ({**items.marker_key(f"filler-{n}"), "source": {"S": "bench"}, "expiresAt": {"N": str(expires)}}
              for n in range(max(0, markers - len(events))))  # fmt: skip
    while batch := [next(filler, None) for _ in range(BATCH)]:
        puts = [{"PutRequest": {"Item": item}} for item in batch if item is not None]
        if not puts:
            break
        request = {table: puts}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def measure(markers: int, repeats: int = 3) -> list[dict[str, Any]]:
    os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"})
    sys.path.insert(0, str(REPO))
    import boto3
    from moto import mock_aws
    from tests.helpers import MotoAccount

    from supportwatch.aws.local import deploy
    from supportwatch.aws.store import SummaryStore
    from supportwatch.report.insights import read_period
    from supportwatch.report.page import Deployment, render_report

    def report(store: SummaryStore) -> int:
        period = read_period(store, date.fromisoformat(SINCE), date.fromisoformat(UNTIL))
        return len(render_report(period, store.alerts_between(SINCE, UNTIL), Deployment("table", "bench")))

    reads = {
        "export (summaries and alerts)": lambda store: len(store.identities()) + len(store.alerts()),
        "3-year range (day summaries)": lambda store: len(store.between(SINCE, UNTIL)),
        "3-year range, failed calls only": lambda store: len(store.between(SINCE, UNTIL, errors_only=True)),
        "3-year HTML report (read and render)": report,
    }
    rows = []
    with mock_aws():
        table = deploy(MotoAccount(), REPO / "template.yaml").table
        start = time.perf_counter()
        fill(boto3.client("dynamodb"), table, markers)
        loaded = time.perf_counter() - start
        count = boto3.client("dynamodb").describe_table(TableName=table)["Table"]["ItemCount"]
        for name, read in reads.items():
            best, meter, printed = float("inf"), None, 0
            for _ in range(repeats):
                client = boto3.client("dynamodb")
                meter = Meter(client)
                start = time.perf_counter()
                printed = read(SummaryStore(client, table))
                best = min(best, time.perf_counter() - start)
            assert meter is not None
            found = {"markers": markers, "tableItems": count, "loadSeconds": round(loaded, 1), "read": name}
            rows.append(found | {"requests": dict(meter.requests), "itemsRead": meter.items, "printed": printed})
            rows[-1]["seconds"] = round(best, 3)
    return rows


if __name__ == "__main__":
    print(json.dumps(measure(*map(int, sys.argv[1:3]))))
