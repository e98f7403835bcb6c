"""Alerts routed to Security Hub, EventBridge and the chat topic through the handler on moto (contract
section 11): one finding, one event and one chat notification per alert, whatever is retried or redriven.

moto's BatchImportFindings takes findings whether or not Security Hub is enabled; AWS answers
InvalidAccessException then. The tests that need that refusal raise it as AWS documents it."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from supportwatch import handler
from supportwatch.aws.local import (
    Routes,
    chat_inbox,
    event_inbox,
    imported_findings,
    received_alerts,
    received_chat,
    received_events,
)
from supportwatch.aws.store import SummaryStore
from supportwatch.findings.asff import finding_id
from supportwatch.findings.events import DETAIL_TYPE, SOURCE
from supportwatch.models import Alert
from tests.asff_model import invalid
from tests.helpers import CANARY, REPO, MotoAccount, gzip_document, random_support_records, s3_event, support_record
from tests.integration.conftest import LambdaContext, Stack, deployed
from tests.integration.test_alerts import FlakySns, with_sns

ALL = Routes(security_hub=True, eventbridge=True, chat=True)
DAY = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/"
ROOT = "arn:aws:iam::111122223333:root"


def demo_corpus() -> dict[str, bytes]:
    trails = REPO / "demo" / "trails"
    return {str(path.relative_to(trails)): path.read_bytes() for path in sorted(trails.rglob("*.json.gz"))}


def generated_corpus() -> dict[str, bytes]:
    """Generated records with typed text over a few identities and days, root, a new event name and an
    unreadable object: alerts of most rules."""
    records = random_support_records(90, seed=23, identities=7)
    files = {f"{DAY}part-{n}.json.gz": gzip_document(records[n::3]) for n in range(3)}
    files[DAY + "root.json.gz"] = gzip_document([support_record(arn=ROOT), support_record(name="StartSomethingNew")])
    files[DAY + "broken.json.gz"] = b"\x1f\x8b\x08\x00broken"
    return files


CORPORA = {"demo": demo_corpus, "test": generated_corpus}


def typed_texts(files: dict[str, bytes]) -> set[str]:
    """Every `requestParameters.message` of the corpus."""
    found = {CANARY}
    for body in files.values():
        try:
            records = json.loads(gzip.decompress(body))["Records"]
        except (OSError, EOFError, ValueError):
            continue
        found |= {(r.get("requestParameters") or {}).get("message") for r in records} - {None}
    return found


class Inboxes:
    """What each route received: the alert topic's queue, the bus rule's queue, the chat topic's queue."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.alerts = stack.inbox()
        self.events = event_inbox(MotoAccount()) if stack.resources.routes.eventbridge else ""
        self.chat = chat_inbox(MotoAccount(), stack.resources.chat_topic_arn) if stack.resources.routes.chat else ""

    def read(self) -> tuple[list[dict], list[dict], list[dict]]:
        account = MotoAccount()
        return (
            received_alerts(account, self.alerts),
            received_events(account, self.events) if self.events else [],
            received_chat(account, self.chat) if self.chat else [],
        )

    def exported(self) -> list[dict[str, Any]]:
        """The export's alert list (what `query --format json` prints)."""
        return SummaryStore(boto3.client("dynamodb"), self.stack.resources.table).alerts()


def load(stack: Stack, files: dict[str, bytes]) -> None:
    for key, body in files.items():
        stack.put(key, body)


def invoke_each(stack: Stack, keys: list[str], context: LambdaContext | None = None) -> None:
    """One invocation per object, as S3 notifies; `context` reused: Lambda's retry of the same invocation."""
    for key in keys:
        handler.lambda_handler(s3_event(stack.bucket, key), context or LambdaContext())


@pytest.fixture
def routed(monkeypatch) -> Iterator[tuple[Stack, Inboxes]]:
    with deployed(monkeypatch, ALL) as stack:
        handler.processor()
        yield stack, Inboxes(stack)


def fast_retries() -> None:
    """The routes' backoff without waiting (the retries still happen)."""
    handler.processor().alerting.publisher.sleep = lambda _: None


@pytest.mark.parametrize("corpus", CORPORA)
def test_each_alert_once_in_security_hub_on_the_bus_and_in_chat(routed, corpus):
    stack, inboxes = routed
    files = CORPORA[corpus]()
    load(stack, files)
    invoke_each(stack, list(files))
    alerts, events, chat = inboxes.read()
    exported = inboxes.exported()
    found = imported_findings(MotoAccount())
    ids = sorted(finding_id(Alert.from_json(alert)) for alert in exported)
    assert len(exported) == len(alerts) > 3
    assert sorted(f["Id"] for f in found) == ids == sorted(finding_id(Alert.from_json(a)) for a in alerts)
    assert invalid(found) == []
    by_id = {finding_id(Alert.from_json(alert)): alert for alert in exported}
    for made in found:
        alert = by_id[made["Id"]]
        assert (made["Title"], made["Description"]) == (alert["title"], alert["detail"])
        assert made["Severity"]["Label"] == alert["severity"].upper()
        assert made["AwsAccountId"] == "123456789012"

    assert {(e["source"], e["detail-type"]) for e in events} == {(SOURCE, DETAIL_TYPE)}
    assert sorted(json.dumps(e["detail"], sort_keys=True) for e in events) == sorted(
        json.dumps(a, sort_keys=True) for a in alerts
    )
    assert sorted(message["id"] for message in chat) == ids
    for message in chat:
        assert (message["version"], message["source"], message["content"]["textType"]) == (
            "1.0",
            "custom",
            "client-markdown",
        )
        assert by_id[message["id"]]["title"] in message["content"]["title"]
        assert message["content"]["description"] and message["content"]["nextSteps"]

    sent = json.dumps([found, events, chat])
    assert not [text for text in typed_texts(files) if text in sent]

    # S3 redelivers everything (new invocations), and Lambda retries one: nothing new anywhere.
    invoke_each(stack, list(files))
    context = LambdaContext()
    invoke_each(stack, list(files)[:1], context)
    invoke_each(stack, list(files)[:1], context)
    assert inboxes.read() == ([], [], [])
    assert sorted(f["Id"] for f in imported_findings(MotoAccount())) == ids


def test_finding_ids_are_identical_across_two_runs(monkeypatch):
    runs = []
    for _ in range(2):
        with deployed(monkeypatch, Routes(security_hub=True)) as stack:
            files = demo_corpus()
            load(stack, files)
            invoke_each(stack, list(files))
            runs.append(sorted(f["Id"] for f in imported_findings(MotoAccount())))
    assert runs[0] == runs[1] and runs[0]


@pytest.mark.parametrize("batch_partial", [False, True], ids=["publish-fails", "one-batch-entry-fails"])
def test_a_retried_then_redriven_invocation_leaves_one_of_each_per_alert(routed, monkeypatch, batch_partial):
    stack, inboxes = routed
    with_sns(monkeypatch, FlakySns(boto3.client("sns"), failures=1, batch_partial=batch_partial))
    stack.put_records(DAY + "a.json.gz", [support_record(arn=ROOT), support_record(), support_record(name="StartX")])
    context = LambdaContext()
    with pytest.raises(handler.ObjectsFailed, match="could not be published"):
        invoke_each(stack, [DAY + "a.json.gz"], context)
    invoke_each(stack, [DAY + "a.json.gz"], context)  # Lambda's retry: the same request id
    invoke_each(stack, [DAY + "a.json.gz"])  # redriven from the dead-letter queue: a new invocation
    alerts, events, chat = inboxes.read()
    ids = sorted(finding_id(Alert.from_json(alert)) for alert in inboxes.exported())
    assert len(ids) == 4  # new-identity of root and Admin, root-usage, new-event-name
    assert sorted(finding_id(Alert.from_json(a)) for a in alerts) == ids
    assert sorted(f["Id"] for f in imported_findings(MotoAccount())) == ids
    assert sorted(finding_id(Alert.from_json(e["detail"])) for e in events) == ids
    assert sorted(message["id"] for message in chat) == ids


class RefusingSecurityHub:
    """Security Hub as AWS answers when it is not enabled (InvalidAccessException), or throttling the
    first `throttled` calls, or failing one finding of the first call (FailedFindings)."""

    def __init__(self, client: Any, throttled: int = 0, disabled: bool = False, fail_one: bool = False) -> None:
        self._client = client
        self.throttled, self.disabled, self.fail_one = throttled, disabled, fail_one
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_import_findings(self, Findings: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls += 1
        if self.disabled:
            message = "Account 123456789012 is not subscribed to AWS Security Hub"
            raise ClientError({"Error": {"Code": "InvalidAccessException", "Message": message}}, "BatchImportFindings")
        if self.throttled:
            self.throttled -= 1
            throttled = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
            raise ClientError(throttled, "BatchImportFindings")
        if self.fail_one:
            self.fail_one = False
            first, *rest = Findings
            response = self._client.batch_import_findings(Findings=rest)
            failure = {"Id": first["Id"], "ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
            return {**response, "FailedCount": 1, "FailedFindings": [failure]}
        return self._client.batch_import_findings(Findings=Findings)


def with_security_hub(monkeypatch, securityhub: RefusingSecurityHub) -> None:
    handler.processor.cache_clear()
    real = handler.client
    monkeypatch.setattr(handler, "client", lambda service: securityhub if service == "securityhub" else real(service))
    fast_retries()


@pytest.mark.parametrize(
    "refusal", [{"throttled": 2}, {"fail_one": True}], ids=["throttled-twice", "one-finding-failed"]
)
def test_refused_imports_are_retried_into_one_finding_per_alert(routed, monkeypatch, handler_logs, refusal):
    stack, inboxes = routed
    securityhub = RefusingSecurityHub(boto3.client("securityhub"), **refusal)
    with_security_hub(monkeypatch, securityhub)
    stack.put_records(DAY + "a.json.gz", [support_record(arn=ROOT), support_record()])
    invoke_each(stack, [DAY + "a.json.gz"])
    ids = sorted(finding_id(Alert.from_json(alert)) for alert in inboxes.exported())
    assert len(ids) == 3 and securityhub.calls > 1
    assert sorted(f["Id"] for f in imported_findings(MotoAccount())) == ids
    assert not [line for line in handler_logs() if line.get("route")]


def test_security_hub_refusing_never_loses_an_alert(routed, monkeypatch, handler_logs, capsys):
    stack, inboxes = routed
    securityhub = RefusingSecurityHub(boto3.client("securityhub"), disabled=True)
    with_security_hub(monkeypatch, securityhub)
    stack.put_records(DAY + "a.json.gz", [support_record(arn=ROOT), support_record()])
    capsys.readouterr()
    invoke_each(stack, [DAY + "a.json.gz"])  # succeeds: the alerts are out on the topic
    alerts, events, chat = inboxes.read()
    assert len(alerts) == len(events) == len(chat) == 3
    assert securityhub.calls == 3  # retried like the publish, then given up
    assert imported_findings(MotoAccount()) == []
    [refused] = [line for line in handler_logs() if line.get("route")]
    assert refused["level"] == "ERROR" and refused["route"] == "securityhub"
    assert "InvalidAccessException" in refused["reason"] and len(refused["alerts"]) == 3
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [document["AlertsNotRouted"] for document in metrics if "AlertsNotRouted" in document] == [[3.0]]
    invoke_each(stack, [DAY + "a.json.gz"])  # a redelivery publishes nothing again
    assert inboxes.read() == ([], [], []) and securityhub.calls == 3


def recorded_calls(monkeypatch) -> list[tuple[str, str, str]]:
    """(service, operation, TopicArn) of every AWS call the handler's clients make from now on."""
    calls: list[tuple[str, str, str]] = []
    handler.processor.cache_clear()
    real = handler.client

    def recording(service: str) -> Any:
        made = real(service)
        made.meta.events.register(
            "before-parameter-build",
            lambda params, model, **_: calls.append((service, model.name, params.get("TopicArn", ""))),
        )
        return made

    monkeypatch.setattr(handler, "client", recording)
    return calls


ROUTE_SETS = [Routes(), Routes(security_hub=True), Routes(eventbridge=True), Routes(chat=True), ALL]


@pytest.mark.parametrize("routes", ROUTE_SETS, ids=["off", "security-hub", "eventbridge", "chat", "all"])
def test_each_switch_turns_on_its_route_only_and_off_means_no_call(monkeypatch, routes):
    with deployed(monkeypatch, routes) as stack:
        calls = recorded_calls(monkeypatch)
        stack.put_records(DAY + "a.json.gz", [support_record(arn=ROOT), support_record(error="AccessDenied")])
        invoke_each(stack, [DAY + "a.json.gz"])
        services = {service for service, _, _ in calls}
        topics = {topic for service, _, topic in calls if service == "sns"}
        assert ("securityhub" in services) == routes.security_hub
        assert ("events" in services) == routes.eventbridge
        assert topics == {stack.resources.topic_arn, *([stack.resources.chat_topic_arn] if routes.chat else [])}


def test_backfill_of_a_stack_routes_its_alerts_as_the_function_does(routed, capsys):
    """`backfill --stack` reads the route parameters of the stack (a plain CloudFormation stack on moto
    with the same outputs and parameters stands in for the SAM one) and routes each alert it publishes."""
    from supportwatch.cli.main import main

    stack, inboxes = routed
    stack.put_records(DAY + "a.json.gz", [support_record(arn=ROOT), support_record()])
    stack.stand_in(
        {
            "SecurityHubFindings": "enabled",
            "EventBridgeAlerts": "enabled",
            "ChatTopicArn": stack.resources.chat_topic_arn,
        }
    )
    assert main(["backfill", f"s3://{stack.bucket}/", "--stack", "supportwatch", "--format", "json"]) == 0
    capsys.readouterr()
    alerts, events, chat = inboxes.read()
    ids = sorted(finding_id(Alert.from_json(alert)) for alert in inboxes.exported())
    assert len(ids) == len(alerts) == 3
    assert sorted(f["Id"] for f in imported_findings(MotoAccount())) == ids
    assert sorted(finding_id(Alert.from_json(e["detail"])) for e in events) == ids
    assert sorted(message["id"] for message in chat) == ids
