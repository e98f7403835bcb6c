"""The hostile corpus (tests/hostile) through the handler on moto, all objects in one notification."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import boto3
import pytest

from supportwatch import handler
from supportwatch.aws.store import SummaryStore
from tests.faults import received_alerts
from tests.helpers import s3_event
from tests.hostile.corpus import CAP, Case, cases
from tests.integration.conftest import LambdaContext

CASES = cases()


@pytest.fixture
def corpus(stack, monkeypatch):
    """Every case in the bucket, the function's cap lowered to the corpus's (so the bomb is one)."""
    monkeypatch.setenv("MAX_DECOMPRESSED_BYTES", str(CAP))
    handler.processor.cache_clear()
    for case in CASES:
        if case.body is not None:
            stack.put(case.key, case.body)
    return stack


def emitted_metrics(stdout: str) -> Counter:
    """Sum of every metric in Powertools' EMF lines on stdout."""
    totals: Counter = Counter()
    for line in stdout.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                totals[metric["Name"]] += sum(value) if isinstance(value, list) else value
    return totals


def expected_calls() -> Counter:
    calls: Counter = Counter()
    for case in CASES:
        for identity in case.identities:  # the corpus's counted cases each have one identity
            calls[identity] += case.counted
    return calls


def check_outcome(stack, reports: list[dict[str, Any]], logs: list[dict[str, Any]], stdout: str, inbox: str) -> None:
    by_key = {report["key"]: report for report in reports}
    assert set(by_key) == {case.key for case in CASES}
    lines = {line["key"]: line for line in logs if "key" in line and "outcome" in line}
    for case in CASES:
        report, line = by_key[case.key], lines[case.key]
        assert report["outcome"] == case.outcome, case.name
        assert line["bucket"] == stack.bucket and line["outcome"] == case.outcome, case.name
        if case.reason:
            assert case.reason in report["reason"] and line["reason"] == report["reason"], case.name
        assert line["level"] == (
            "ERROR" if case.outcome == "unreadable" else ("WARNING" if case.skipped_entries else "INFO")
        )
        assert (report["counted"], report["skippedEntries"]) == (case.counted, case.skipped_entries), case.name
    metrics = emitted_metrics(stdout)
    outcomes = Counter(case.outcome for case in CASES)
    assert metrics["ObjectsUnreadable"] == outcomes["unreadable"]
    assert metrics["ObjectsProcessed"] == outcomes["counted"]
    assert metrics["ObjectsSkipped"] == outcomes["skipped"]
    assert metrics["EventsCounted"] == sum(case.counted for case in CASES)
    assert metrics["SkippedEntries"] == sum(case.skipped_entries for case in CASES)
    unreadable = [alert for alert in received_alerts(inbox) if alert["rule"] == "unreadable-log"]
    assert sorted(alert["key"] for alert in unreadable) == sorted(case.key for case in CASES if case.alert)
    assert all(alert["bucket"] == stack.bucket and alert["window"] == "object" for alert in unreadable)
    stored = {
        summary.identity: summary.total_calls
        for summary in SummaryStore(boto3.client("dynamodb"), stack.resources.table).identities()
    }
    assert stored == dict(expected_calls())


def test_every_hostile_object_in_one_notification(corpus, handler_logs, capsys):
    inbox = corpus.inbox()
    capsys.readouterr()
    response = corpus.invoke(*(case.key for case in CASES))
    check_outcome(corpus, response["reports"], handler_logs(), capsys.readouterr().out, inbox)
    # Delivered again: nothing changes, and no alert is raised twice.
    again = corpus.invoke(*(case.key for case in CASES))
    assert sum(report["counted"] for report in again["reports"]) == 0
    assert [alert for alert in received_alerts(inbox) if alert["rule"] == "unreadable-log"] == []


def sqs_message(number: int, body: str) -> dict[str, Any]:
    return {
        "messageId": f"hostile-{number}",
        "receiptHandle": f"receipt-{number}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1694450053000"},
        "messageAttributes": {},
        "md5OfBody": "0",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:supportwatch-notifications",
        "awsRegion": "us-east-1",
    }


def test_every_hostile_object_in_one_sqs_batch(corpus, handler_logs, capsys):
    inbox = corpus.inbox()
    capsys.readouterr()
    bodies = [json.dumps(s3_event(corpus.bucket, case.key)) for case in CASES]
    event = {"Records": [sqs_message(number, body) for number, body in enumerate(bodies)]}
    response = handler.lambda_handler(event, LambdaContext())
    assert response == {"batchItemFailures": []}
    reports = [line for line in handler_logs() if "outcome" in line]  # each message answers with its reports
    check_outcome(corpus, reports, handler_logs(), capsys.readouterr().out, inbox)


def test_cases_cover_the_issue() -> None:
    names = {case.name for case in CASES}
    assert len(names) == len(CASES)
    assert {"corrupt-gzip", "truncated-gzip", "empty-object", "zero-length-key", "plain-text", "png", "bomb"} <= names
    assert all(isinstance(case, Case) for case in CASES)
