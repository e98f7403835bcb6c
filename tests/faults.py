"""Failures injected below botocore's retries, at its HTTP layer, and Lambda's own retries.

`HttpFaults` answers chosen operations with an error response (or raises a network error) from
botocore's `before-send` event, in place of moto's stubber (which it calls for every other
request: botocore calls every `before-send` handler, so both cannot be registered): botocore parses the response
and applies the client's retry mode (`supportwatch.aws.clients.RETRY_CONFIG`) exactly as it would
against AWS. `lambda_retries` invokes the handler as Lambda retries an asynchronous invocation.
The client-level wrappers that fail above botocore live beside the tests that introduced them:
`FaultyClient`/`ConflictingClient` (test_exactly_once.py) and `FlakySns` (test_alerts.py).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from moto.core.botocore_stubber import MockRawResponse
from moto.core.models import botocore_stubber

from supportwatch import handler

LAMBDA_ATTEMPTS = 3  # an asynchronous invocation and Lambda's two retries


def json_error(status: int, code: str, **extra: Any) -> Callable[[Any], AWSResponse]:
    """A JSON-protocol error response (DynamoDB)."""
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected", **extra})
    return lambda request: AWSResponse(request.url, status, {"x-amzn-ErrorType": code}, MockRawResponse(body))


def query_error(status: int, code: str) -> Callable[[Any], AWSResponse]:
    """A query-protocol error response (SNS)."""
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected</Message></Error>"
        "<RequestId>x</RequestId></ErrorResponse>"
    )
    return lambda request: AWSResponse(request.url, status, {}, MockRawResponse(body))


def s3_error(status: int, code: str) -> Callable[[Any], AWSResponse]:
    """A REST-XML error response (S3)."""
    body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>injected</Message></Error>'
    return lambda request: AWSResponse(request.url, status, {}, MockRawResponse(body))


def network_error(kind: str) -> Callable[[Any], AWSResponse]:
    def fail(request: Any) -> AWSResponse:
        if kind == "connect":
            raise EndpointConnectionError(endpoint_url=request.url)
        raise ReadTimeoutError(endpoint_url=request.url)

    return fail


class HttpFaults:
    """Answers the first `times` requests of each faulted operation with its fault; counts every request."""

    def __init__(self) -> None:
        self.faults: dict[str, tuple[Callable[[Any], AWSResponse], int, str]] = {}
        self.sent: Counter = Counter()
        self.failed: Counter = Counter()

    def fail(self, operation: str, fault: Callable[[Any], AWSResponse], times: int, in_url: str = "") -> None:
        """`operation` as `service.Operation`, e.g. `dynamodb.TransactWriteItems`; only requests whose URL
        contains `in_url` (e.g. one S3 key) fail."""
        self.faults[operation] = (fault, times, in_url)

    def clear(self) -> None:
        self.faults.clear()

    def _before_send(self, request: Any, event_name: str, **kwargs: Any) -> AWSResponse | None:
        operation = ".".join(event_name.split(".")[1:])
        self.sent[operation] += 1
        fault, times, in_url = self.faults.get(operation, (None, 0, ""))
        if fault is None or times <= 0 or in_url not in request.url:
            return botocore_stubber(request=request, event_name=event_name, **kwargs)
        self.faults[operation] = (fault, times - 1, in_url)
        self.failed[operation] += 1
        return fault(request)

    def install(self, monkeypatch: Any, module: Any = handler) -> None:
        """Every client `module` (the handler, or a CLI module) builds from now on goes through these faults."""
        real = module.client

        def faulty(service: str, *args: Any, **kwargs: Any) -> Any:
            made = real(service, *args, **kwargs)
            made.meta.events.unregister("before-send", botocore_stubber)
            made.meta.events.register("before-send", self._before_send)
            return made

        monkeypatch.setattr(module, "client", faulty)
        handler.processor.cache_clear()


def no_backoff(monkeypatch: Any) -> None:
    """botocore's retries without their sleeps (the number of attempts is unchanged)."""
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


def lambda_retries(event: dict[str, Any], context: Any, before_retry: Callable[[int], None] = lambda n: None) -> Any:
    """Invoke as Lambda does an asynchronous event: on an error, again with the same context, at most
    LAMBDA_ATTEMPTS times; the last error propagates (the on-failure destination gets the event)."""
    for attempt in range(1, LAMBDA_ATTEMPTS + 1):
        try:
            return handler.lambda_handler(event, context)
        except Exception:
            if attempt == LAMBDA_ATTEMPTS:
                raise
            before_retry(attempt)
    raise AssertionError("unreachable")


def received_alerts(queue_url: str) -> list[dict[str, Any]]:
    """The alerts an SQS queue subscribed to the topic holds (each read once, then deleted)."""
    sqs = boto3.client("sqs")
    alerts = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            alerts.append(json.loads(json.loads(message["Body"])["Message"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return alerts
