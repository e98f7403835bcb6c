"""The function deployed with IdentityMode=pseudonymous over the demo and the fixture corpora, on moto:
no identity of a person, session name or source address in any table item, log line, metric, SNS
message, routed alert (Security Hub, EventBridge, chat), export, query or report, and the plain mode's
totals under pseudonyms (contract section 10)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import clear_caches
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from supportwatch import handler
from supportwatch.aws.local import LocalStack, RouteInboxes, Routes, deploy
from supportwatch.cli.inputs import discover
from supportwatch.cli.local import delivered_key, function_environment
from supportwatch.cli.main import main
from supportwatch.privacy import ModeConflict, Pseudonymizer
from tests.helpers import FIXTURES, REPO, TEMPLATE, MotoAccount, s3_event
from tests.integration.conftest import LambdaContext
from tests.privacy import KEY, as_pseudonymous, leaks, real_values

CORPORA = [REPO / "demo" / "trails", FIXTURES / "trails", FIXTURES / "traps", FIXTURES / "forms"]


@pytest.fixture
def pseudonymous(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    """The stack of IdentityMode=pseudonymous with KEY in its secret, every alert route on (Security Hub,
    EventBridge, chat); every alert rule fires."""
    with mock_aws():
        resources = deploy(MotoAccount(), TEMPLATE, Routes(True, True, True), pseudonym_key=KEY)
        for name, value in function_environment(resources, verbose=True).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("VOLUME_THRESHOLD", "1")
        handler.processor.cache_clear()
        clear_caches()  # Powertools' secrets provider and its client are per process: this AWS's afresh
        yield resources
        handler.processor.cache_clear()


def deliver(stack: LocalStack, paths: list[Path]) -> None:
    s3 = boto3.client("s3")
    for path, key in discover(paths).keyed(lambda relative: delivered_key(relative, stack)):
        s3.put_object(Bucket=stack.bucket, Key=key, Body=path.read_bytes())
        handler.lambda_handler(s3_event(stack.bucket, key), LambdaContext())


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[str, str]:
    """stdout and stderr of one command."""
    assert main(list(argv)) == 0
    out, err = capsys.readouterr()
    return out, err


def test_nothing_real_is_written_anywhere_and_totals_are_the_plain_ones(pseudonymous, handler_logs, capsys, tmp_path):
    plain = json.loads(cli(capsys, "scan", *map(str, CORPORA), "--format", "json", "--volume-threshold", "1")[0])
    secrets = real_values(plain)
    assert len(secrets) > 20  # the corpora name people, sessions and addresses

    inboxes = RouteInboxes.of(MotoAccount(), pseudonymous)
    deliver(pseudonymous, CORPORA)
    table = pseudonymous.table
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    topics = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].topics.values()  # the alert topic and the chat topic
    published = [
        text for topic in topics for _, message, subject, *_ in topic.sent_notifications for text in (message, subject)
    ]
    routed = inboxes.received(MotoAccount())
    metrics_and_prints = capsys.readouterr().out
    export, _ = cli(capsys, "query", "--table", table, "--format", "json")
    first, last = (
        min(s["firstSeen"] for s in plain["summaries"].values()),
        max(s["lastSeen"] for s in plain["summaries"].values()),
    )
    report = tmp_path / "report.html"
    report_notes = cli(
        capsys, "report", "--table", table, "--since", first[:10], "--until", last[:10], "-o", str(report)
    )
    outputs = {
        "table items": json.dumps(items, default=str),  # a sealed identity is KMS ciphertext (bytes)
        "log lines": json.dumps(handler_logs()),
        "metrics": metrics_and_prints,
        "SNS messages (JSON and email bodies, subjects)": json.dumps(published),
        "Security Hub findings, EventBridge events, chat notifications": json.dumps(routed),
        "export": export,
        "query tables": cli(capsys, "query", "--table", table, "--wide")
        + cli(capsys, "query", "--table", table, "--top", "100", "--wide"),
        "report": (*report_notes, report.read_text(encoding="utf-8")),
    }
    assert handler_logs() and metrics_and_prints and published and all(routed.values()) and len(routed) == 3
    texts = {name: "".join(text) if isinstance(text, tuple) else text for name, text in outputs.items()}
    assert {name: leaks(text, secrets) for name, text in texts.items()} == {name: [] for name in texts}

    shown = json.loads(export)
    assert shown["summaries"] == as_pseudonymous(plain)
    assert sorted((a["rule"], a["window"]) for a in shown["alerts"]) == sorted(
        (a["rule"], a["window"]) for a in plain["alerts"]
    )
    mode = boto3.client("dynamodb").get_item(
        TableName=table, Key={"pk": {"S": "TABLE#identity-mode"}, "sk": {"S": "MODE"}}
    )
    assert mode["Item"]["keyFingerprint"] == {"S": Pseudonymizer(KEY).fingerprint}


def test_a_plain_function_refuses_a_pseudonymous_table(pseudonymous, monkeypatch):
    deliver(pseudonymous, [REPO / "demo" / "trails"])
    monkeypatch.setenv("PSEUDONYM_KEY_SECRET", "")
    handler.processor.cache_clear()
    with pytest.raises(ModeConflict, match=r"holds pseudonymous identities .*, not identities in clear"):
        handler.processor()
