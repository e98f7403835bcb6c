"""DynamoDB requests per log file, by case: SummaryStore.commit on moto, every request counted.

`python bench/writes.py [FILE...]` prints JSON rows: the three cases of issue 16 (no events, one
identity-day, N identity-days), each committed twice (a new file, then a redelivery of the same
file), then the files given (their events read by `read_events`).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def cases() -> dict[str, list[Any]]:
    from tests.helpers import support_record

    from supportwatch.decoding.records import to_support_event

    def events(identities: int, days: int, per_day: int) -> list[Any]:
        return [
            to_support_event(
                support_record(
                    arn=f"arn:aws:iam::111122223333:user/u{who}",
                    time=f"2024-05-{day + 1:02d}T10:{minute:02d}:00Z",
                    event_id=f"{who}-{day}-{minute}",
                )
            )
            for who in range(identities)
            for day in range(days)
            for minute in range(per_day)
        ]

    return {
        "no support events": [],
        "one identity-day (5 events)": events(1, 1, 5),
        "10 identity-days (2 identities x 5 days, 3 events each)": events(2, 5, 3),
        "50 identity-days (50 identities, 2 events each)": events(50, 1, 2),
    }


def main(paths: list[str]) -> list[dict[str, Any]]:
    os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1"})
    sys.path.insert(0, str(REPO))
    from moto import mock_aws
    from tests.helpers import CountingClient, MotoAccount

    from supportwatch.aws.local import deploy
    from supportwatch.aws.store import SummaryStore
    from supportwatch.decoding import read_events

    work = [(name, events, "new file") for name, events in cases().items()]
    work += [(name, events, "redelivered") for name, events in cases().items()]
    work += [(Path(path).name, read_events(Path(path).read_bytes(), 2 << 30).events, "new file") for path in paths]
    rows = []
    with mock_aws():
        stack = deploy(MotoAccount(), REPO / "template.yaml")
        for name, events, when in work:
            client = CountingClient(MotoAccount().client("dynamodb"))
            SummaryStore(client, stack.table, 400, sleep=lambda seconds: None).commit(f"{name}.json.gz", events)
            days = len({(event.identity, event.day) for event in events})
            rows.append({"case": name, "when": when, "events": len(events), "identity_days": days, **client.requests})
    return rows


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
