"""A stack created from template.yaml inside moto's in-process AWS, and the handler wired to it."""

from __future__ import annotations

import contextlib
import io
import json
import threading
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber
from moto.server import ThreadedMotoServer

from supportwatch import handler
from supportwatch.aws import moto_patches
from supportwatch.aws.local import NO_ROUTES, LocalStack, Routes, deploy, subscribe_queue
from supportwatch.services import DEFAULT_SERVICES
from tests.helpers import TEMPLATE, MotoAccount, gzip_document, s3_event


@dataclass
class Stack:
    """The deployed resources plus shortcuts the tests use."""

    resources: LocalStack

    @property
    def bucket(self) -> str:
        return self.resources.bucket

    def put(self, key: str, body: bytes) -> None:
        boto3.client("s3").put_object(Bucket=self.bucket, Key=key, Body=body)

    def put_records(self, key: str, records: list[Any]) -> None:
        self.put(key, gzip_document(records))

    def invoke(self, *keys: str) -> dict[str, Any]:
        return handler.lambda_handler(s3_event(self.bucket, *keys), LambdaContext())

    def items(self) -> list[dict[str, Any]]:
        return boto3.client("dynamodb").scan(TableName=self.resources.table)["Items"]

    def stand_in(self, parameters: dict[str, str] | None = None) -> None:
        """A CloudFormation stack named supportwatch with the deployed stack's outputs and `parameters` (none: a
        stack of before any of them): moto cannot transform the SAM template, so a plain stack stands in for it."""
        template: dict[str, Any] = {
            "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
            "Outputs": {
                "SummaryTableName": {"Value": self.resources.table},
                "AlertTopicArn": {"Value": self.resources.topic_arn},
            },
        }
        given = parameters or {}
        if given:
            template["Parameters"] = {name: {"Type": "String"} for name in given}
        boto3.client("cloudformation").create_stack(
            StackName="supportwatch",
            TemplateBody=json.dumps(template),
            Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in given.items()],
        )

    def inbox(self) -> str:
        """An SQS queue subscribed to the alert topic."""
        return subscribe_queue(MotoAccount(), self.resources.topic_arn)


class LambdaContext:
    """What Powertools reads of Lambda's context; each invocation has its own request id (which
    Lambda keeps for the retries of an asynchronous invocation: reuse the object for those)."""

    function_name = "supportwatch-test"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:supportwatch-test"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())


def serve_one_request_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB isolates concurrent transactions; moto's in-process backend does not, so concurrent
    callers (backfill's workers) get requests served one at a time, as the embedded AWS serves them."""
    lock = threading.RLock()
    serve = BotocoreStubber.process_request

    def one_at_a_time(self: BotocoreStubber, request: Any) -> Any:
        with lock:
            return serve(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", one_at_a_time)


@pytest.fixture
def light_transactions() -> Iterator[None]:
    """moto deep-copies every table a transaction names, to restore it if the transaction is cancelled,
    so each invocation cost what the whole table held. Its transactions as the embedded AWS runs them
    (supportwatch.aws.moto_patches: a copy of what the transaction touches, all or nothing as DynamoDB
    documents; tests/integration/test_embedded_moto.py compares them with moto's own), where requests
    are served one at a time, as there."""
    with moto_patches.patched():
        yield


@contextlib.contextmanager
def deployed(
    monkeypatch: pytest.MonkeyPatch, routes: Routes = NO_ROUTES, services: tuple[str, ...] = DEFAULT_SERVICES
) -> Iterator[Stack]:
    """The stack in a fresh moto (its requests served one at a time, transactions as the embedded AWS
    runs them: see light_transactions), with the handler's environment set; `routes` switched on, its
    function watching `services`."""
    serve_one_request_at_a_time(monkeypatch)
    with mock_aws(), moto_patches.patched():
        resources = deploy(MotoAccount(), TEMPLATE, routes, services=services)
        for name, value in resources.function_environment.items():
            monkeypatch.setenv(name, value)
        handler.processor.cache_clear()
        yield Stack(resources)
        handler.processor.cache_clear()


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    with deployed(monkeypatch) as found:
        yield found


@pytest.fixture
def empty_table() -> Iterator[str]:
    """The stack's table, empty, in a fresh moto (no handler environment: the tests write it themselves)."""
    with mock_aws():
        yield deploy(MotoAccount(), TEMPLATE).table


@pytest.fixture
def handler_logs() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The handler's structured log lines (its Logger keeps the stream it was created with)."""
    buffer = io.StringIO()
    previous = handler.logger.registered_handler.setStream(buffer)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    handler.logger.registered_handler.setStream(previous)


@pytest.fixture
def moto_server(monkeypatch) -> Any:
    """moto's own threaded server, as `moto_server` runs it (nothing of supportwatch's embedded AWS)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    with urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")):
        pass
    yield endpoint
    server.stop()
