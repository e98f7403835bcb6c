"""Once per window across the workers of a backfill, its re-runs and a failed publish (issue 11 items
1-3), counted from the SNS side (an SQS queue subscribed to the topic) on moto's server. moto's
server answers one request at a time (see EmbeddedAws), which gives conditional writes the per-item
atomicity DynamoDB documents and moto in-process lacks."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from supportwatch.aws.local import received_alerts, subscribe_queue
from supportwatch.cli.main import main
from tests.helpers import embedded_stack, gzip_document, support_record

DAY = "trails/AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/{:02d}/"
ROOT = "arn:aws:iam::111122223333:root"
PEOPLE = [f"arn:aws:iam::111122223333:user/u{n}" for n in range(3)]


def put_corpus(s3: Any, bucket: str) -> None:
    """24 files over 3 days; every file carries every person (one refused call) and the root user,
    so the workers race for the same windows."""
    for number in range(24):
        day = 10 + number % 3
        records = [
            support_record(
                arn=who,
                time=f"2023-09-{day:02d}T1{number % 10}:00:0{index}Z",
                event_id=f"e-{number}-{index}",
                error="AccessDeniedException" if index == 0 else None,
            )
            for index, who in enumerate([ROOT, *PEOPLE])
        ]
        key = DAY.format(day) + f"111122223333_CloudTrail_us-east-1_2023090{day % 10}T1200Z_{number}.json.gz"
        s3.put_object(Bucket=bucket, Key=key, Body=gzip_document(records))


def backfill(capsys: Any, aws: Any, bucket: str, table: str, topic: str) -> tuple[int, dict[str, Any], str]:
    code = main(
        [
            "backfill",
            f"s3://{bucket}/trails",
            "--table",
            table,
            "--topic-arn",
            topic,
            "--workers",
            "8",
            "--format",
            "json",
            "--endpoint-url",
            aws.endpoint_url,
            "--region",
            "us-east-1",
        ]
    )
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def window_counts(alerts: list[dict[str, Any]]) -> Counter:
    return Counter((a["rule"], a["window"], a["identity"]) for a in alerts)


EXPECTED_WINDOWS = (
    {("new-identity", "ever", who) for who in [ROOT, *PEOPLE]}
    | {("root-usage", f"2023-09-{day}", ROOT) for day in (10, 11, 12)}
    | {("access-denied", f"2023-09-{day}", ROOT) for day in (10, 11, 12)}
)


def test_eight_workers_twice_publish_each_window_once(capsys, monkeypatch):
    with embedded_stack(monkeypatch) as (aws, resources):
        put_corpus(aws.client("s3"), resources.bucket)
        inbox = subscribe_queue(aws, resources.topic_arn)
        code, first, err = backfill(capsys, aws, resources.bucket, resources.table, resources.topic_arn)
        assert code == 0, err
        published = window_counts(received_alerts(aws, inbox))
        assert set(published) == EXPECTED_WINDOWS
        assert set(published.values()) == {1}  # each window once, whatever worker raised it
        assert first["alertsPublished"] == len(EXPECTED_WINDOWS)

        code, second, err = backfill(capsys, aws, resources.bucket, resources.table, resources.topic_arn)
        assert code == 0, err
        assert second["alertsPublished"] == 0 and received_alerts(aws, inbox) == []


def test_a_failed_publish_holds_no_window_and_fails_the_run(capsys, monkeypatch):
    with embedded_stack(monkeypatch) as (aws, resources):
        put_corpus(aws.client("s3"), resources.bucket)
        inbox = subscribe_queue(aws, resources.topic_arn)
        wrong = resources.topic_arn + "-missing"
        code, totals, err = backfill(capsys, aws, resources.bucket, resources.table, wrong)
        assert code == 1 and "run the same command again" in err
        assert totals["outcomes"]["failed"] > 0  # the files whose alerts could not be published
        assert received_alerts(aws, inbox) == []

        # At once, with the right topic: nothing is held by the failed run.
        code, again, err = backfill(capsys, aws, resources.bucket, resources.table, resources.topic_arn)
        assert code == 0, err
        published = window_counts(received_alerts(aws, inbox))
        assert set(published) == EXPECTED_WINDOWS and set(published.values()) == {1}
        assert again["counted"] == 0 and again["alertsPublished"] == len(EXPECTED_WINDOWS)

        # The table keeps what was sent: `query --format json` prints it, most severe first.
        assert main(["query", "--table", resources.table, "--format", "json", "--endpoint-url", aws.endpoint_url]) == 0
        exported = json.loads(capsys.readouterr().out)["alerts"]
        assert window_counts(exported) == published
        severities = [a["severity"] for a in exported]
        order = ["critical", "high", "medium", "low"]
        assert severities == sorted(severities, key=order.index)


@pytest.mark.parametrize("holder_publishes", [True, False], ids=["holder-publishes", "holder-fails"])
def test_a_window_held_by_another_attempt_is_awaited(holder_publishes):
    """The CLI's Alerting waits for a window another live attempt holds: AlertsPending is retried."""
    from supportwatch.alerting import Alerting, AlertsPending, CollectingPublisher, MemoryClaims
    from supportwatch.models import Alert

    alert = Alert(rule="root-usage", severity="high", window="2023-09-10", title="t", detail="d", identity=ROOT)

    class Held(MemoryClaims):
        def pending(self, found: Alert) -> bool:
            return found.claim_key in self.taken

    claims, publisher = Held(), CollectingPublisher()
    assert claims.claim(alert, "lambda-request")  # a live function invocation holds the window
    waiting = Alerting(claims, publisher, wait_for_others=True)
    with pytest.raises(AlertsPending):
        waiting.raise_alerts([alert], "backfill:file")
    if holder_publishes:
        claims.published(alert, "lambda-request")
        claims.pending = lambda found: False  # type: ignore[method-assign]
        assert waiting.raise_alerts([alert], "backfill:file") == []
    else:
        claims.release(alert, "lambda-request")
        assert waiting.raise_alerts([alert], "backfill:file") == [alert] == publisher.alerts
