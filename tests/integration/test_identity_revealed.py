"""Seal and reveal through the deployed function on moto (contract section 10): the handler of a
pseudonymous stack seals each new identity under the stack's reveal key, `supportwatch reveal` gives it
back, and a delivered log holding that reveal's KMS Decrypt raises `identity-revealed` once per pseudonym
and UTC day, however often and in however many files it is delivered."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import clear_caches
from moto import mock_aws

from supportwatch import handler
from supportwatch.aws.local import LocalStack, deploy, subscribe_queue
from supportwatch.cli.local import function_environment
from supportwatch.cli.main import main
from supportwatch.privacy import Pseudonymizer
from tests.faults import received_alerts
from tests.helpers import TEMPLATE, MotoAccount, gzip_document, reveal_record, s3_event, support_record
from tests.integration.conftest import LambdaContext, serve_one_request_at_a_time

KEY = b"revealed-test-key"
ALICE = "arn:aws:sts::111122223333:assumed-role/Support/alice@example.com"
BOB = "arn:aws:sts::111122223333:assumed-role/Security/bob@example.com"
P_ALICE = Pseudonymizer(KEY).of(ALICE)
# the logs of the reveal key's account and region (moto's), the only ones that can hold its reveals
LOG = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/12/06/123456789012_CloudTrail_us-east-1_{}.json.gz"
ELSEWHERE = "AWSLogs/123456789012/CloudTrail/eu-west-1/2026/12/06/123456789012_CloudTrail_eu-west-1_{}.json.gz"


@pytest.fixture
def pseudonymous(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    serve_one_request_at_a_time(monkeypatch)
    with mock_aws():
        resources = deploy(MotoAccount(), TEMPLATE, pseudonym_key=KEY)
        for name, value in function_environment(resources, verbose=True).items():
            monkeypatch.setenv(name, value)
        handler.processor.cache_clear()
        clear_caches()  # Powertools' secrets provider is per process: this AWS's afresh
        yield resources
        handler.processor.cache_clear()


def deliver(stack: LocalStack, name: str, records: list, context: LambdaContext | None = None, log: str = LOG) -> None:
    key = log.format(name)
    boto3.client("s3").put_object(Bucket=stack.bucket, Key=key, Body=gzip_document(records))
    handler.lambda_handler(s3_event(stack.bucket, key), context or LambdaContext())


def test_the_function_seals_reveal_reveals_and_a_delivered_reveal_raises_identity_revealed_once(
    pseudonymous: LocalStack, capsys
) -> None:
    inbox = subscribe_queue(MotoAccount(), pseudonymous.topic_arn)
    deliver(pseudonymous, "a", [support_record(arn=ALICE, time="2026-12-06T08:00:00Z")])
    items = boto3.client("dynamodb").scan(TableName=pseudonymous.table)["Items"]
    (seal,) = [item for item in items if item["pk"]["S"].startswith("SEAL#")]
    assert seal["pk"]["S"] == f"SEAL#{P_ALICE}" and "alice" not in json.dumps(items, default=str)

    capsys.readouterr()  # the function's own log lines and metrics
    assert main(["reveal", P_ALICE, "--table", pseudonymous.table]) == 0
    assert capsys.readouterr().out == ALICE + "\n"

    retried = LambdaContext()
    deliver(pseudonymous, "b", [reveal_record(P_ALICE, event_id="r1")], retried)
    deliver(pseudonymous, "b", [reveal_record(P_ALICE, event_id="r1")], retried)  # Lambda's retry
    deliver(pseudonymous, "c", [reveal_record(P_ALICE, time="2026-12-06T23:00:00Z", event_id="r2")])
    # another region's log cannot hold a Decrypt of this key: it is not even searched for one
    deliver(pseudonymous, "d", [reveal_record(P_ALICE, time="2026-12-07T01:00:00Z", event_id="r3")], log=ELSEWHERE)
    revealed = [alert for alert in received_alerts(inbox) if alert["rule"] == "identity-revealed"]
    assert [(a["identity"], a["revealedBy"], a["eventId"], a["window"]) for a in revealed] == [
        (P_ALICE, BOB, "r1", "2026-12-06")
    ]
    assert revealed[0]["sourceIp"] == Pseudonymizer(KEY).of("203.0.113.50")
