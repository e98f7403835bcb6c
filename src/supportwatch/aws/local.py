"""An embedded AWS for `supportwatch local` and the end-to-end tests: moto's server on loopback,
with the bucket, table and topic created from template.yaml's own resource properties, and, when
their switches are on, Security Hub, a rule of the default bus to a queue and a chat topic.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import quote_plus

from supportwatch.aws import moto_patches
from supportwatch.aws.clients import client
from supportwatch.services import DEFAULT_SERVICES
from supportwatch.template import Resolver, TemplateError, load_template

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
STACK_NAME = "supportwatch-local"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


class _OneRequestAtATime:
    """WSGI wrapper that serves moto's requests one at a time.

    moto is not DynamoDB: its TransactWriteItems applies items to the live table and restores a
    snapshot when a condition fails, so requests served at the same time could see half-applied
    transactions or lose their writes to that rollback. Serialising requests restores the isolation
    DynamoDB documents for transactions (all or nothing, never partially visible).
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            return list(self._app(environ, start_response))


class EmbeddedAws:
    """moto's server on a loopback port (a free one by default), for as long as the `with` block lasts."""

    def __init__(self, port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import (  # moto only when asked for: never on the handler's path
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log on the CLI's stderr
        app = _OneRequestAtATime(DomainDispatcherApplication(create_backend_app))
        self._server = make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)
        self.endpoint_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._patch = moto_patches.patched()

    def __enter__(self) -> EmbeddedAws:
        self._patch.__enter__()  # before serving: moto at the cost of what each request touches
        self._thread.start()
        self.reset()  # moto's backends live in the process: start from an empty account
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._server.shutdown()
        self._thread.join()
        self._patch.__exit__(None, None, None)

    def client(self, service: str) -> Any:
        return client(service, endpoint_url=self.endpoint_url, region_name=REGION)

    def environment(self) -> dict[str, str]:
        """Variables that point boto3 (the handler's clients included) at this AWS."""
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint_url}

    def reset(self) -> None:
        """Wipe every resource (moto's reset API)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass


@dataclass(frozen=True, slots=True)
class Routes:
    """The routes of contract section 11 that are switched on (the template's parameters)."""

    security_hub: bool = False
    eventbridge: bool = False
    chat: bool = False


NO_ROUTES = Routes()


@dataclass(frozen=True, slots=True)
class LocalStack:
    """What `deploy` created, named as the function sees it."""

    bucket: str
    table: str
    topic_arn: str
    function_environment: dict[str, str]
    key_prefix: str
    key_suffix: str
    routes: Routes = NO_ROUTES
    chat_topic_arn: str = ""


class Account(Protocol):
    """Where resources are created: the embedded AWS, or moto's in-process mock in tests."""

    def client(self, service: str) -> Any: ...


def _resource(template: dict[str, Any], name: str, kind: str) -> dict[str, Any]:
    resource = template["Resources"].get(name)
    if not resource or resource.get("Type") != kind:
        raise TemplateError(f"template.yaml has no {kind} named {name}")
    return resource.get("Properties", {})


def _notification_filter(resolver: Resolver, function: dict[str, Any]) -> tuple[str, str]:
    """The prefix and suffix of the function's S3 ObjectCreated event."""
    for event in function.get("Events", {}).values():
        if event.get("Type") == "S3":
            rules = event.get("Properties", {}).get("Filter", {}).get("S3Key", {}).get("Rules", [])
            found = {rule["Name"].lower(): rule["Value"] for rule in resolver.resolve(rules)}
            return found.get("prefix", ""), found.get("suffix", "")
    raise TemplateError("the function has no S3 event in template.yaml")


def _switch_routes(aws: Account, routes: Routes) -> dict[str, str]:
    """Security Hub enabled and the chat topic created for the routes that are on; their parameters."""
    parameters = {}
    if routes.security_hub:
        aws.client("securityhub").enable_security_hub(EnableDefaultStandards=False)
        parameters["SecurityHubFindings"] = "enabled"
    if routes.eventbridge:
        parameters["EventBridgeAlerts"] = "enabled"
    if routes.chat:
        parameters["ChatTopicArn"] = aws.client("sns").create_topic(Name=f"{STACK_NAME}-chat")["TopicArn"]
    return parameters


def deploy(
    aws: Account,
    template_path: Path,
    routes: Routes = NO_ROUTES,
    pseudonym_key: bytes | None = None,
    services: tuple[str, ...] = DEFAULT_SERVICES,
) -> LocalStack:
    """Create the bucket, table and topic with the template's properties (and what `routes` need); with
    `pseudonym_key`, the stack of IdentityMode=pseudonymous: that key in its secret and its reveal key
    (contract section 10); its function watching `services` (WatchedServices, contract section 12)."""
    template = load_template(template_path)
    bucket = _resource(template, "TrailBucket", "AWS::S3::Bucket")
    table = _resource(template, "SummaryTable", "AWS::DynamoDB::Table")
    topic = _resource(template, "AlertTopic", "AWS::SNS::Topic")
    function = _resource(template, "ProcessorFunction", "AWS::Serverless::Function")
    pseudo = {"AWS::StackName": STACK_NAME, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID}
    pseudo["AWS::Partition"] = "aws"

    bucket_name = Resolver(template, refs={}, parameters=pseudo).resolve(bucket["BucketName"])
    aws.client("s3").create_bucket(Bucket=bucket_name)
    topic_arn = aws.client("sns").create_topic(
        Name=f"{STACK_NAME}-alerts",
        Attributes={"KmsMasterKeyId": topic["KmsMasterKeyId"]} if "KmsMasterKeyId" in topic else {},
    )["TopicArn"]
    table_name = f"{STACK_NAME}-summaries"
    switched = _switch_routes(aws, routes) | {"WatchedServices": ",".join(services)}
    refs = {"SummaryTable": table_name, "AlertTopic": topic_arn, "TrailBucket": bucket_name}
    attributes: dict[tuple[str, str], str] = {}
    if pseudonym_key is not None:
        switched["IdentityMode"] = "pseudonymous"
        secret = aws.client("secretsmanager").create_secret(
            Name=f"{STACK_NAME}-pseudonym-key", SecretString=pseudonym_key.decode("utf-8")
        )
        refs["PseudonymKey"] = secret["ARN"]
        reveal_key = aws.client("kms").create_key(Description=f"{STACK_NAME}: seals the identities behind pseudonyms")
        attributes[("RevealKey", "Arn")] = reveal_key["KeyMetadata"]["Arn"]
    resolver = Resolver(template, refs=refs, attributes=attributes, parameters={**pseudo, **switched})
    _create_table(aws.client("dynamodb"), table_name, resolver.resolve(table))
    environment = resolver.resolve(function.get("Environment", {}).get("Variables", {}))
    prefix, suffix = _notification_filter(resolver, function)
    variables = {name: str(value) for name, value in environment.items()}
    chat = switched.get("ChatTopicArn", "")
    return LocalStack(bucket_name, table_name, topic_arn, variables, prefix, suffix, routes, chat)


def _create_table(dynamodb: Any, name: str, properties: dict[str, Any]) -> None:
    dynamodb.create_table(
        TableName=name,
        **{
            key: properties[key]
            for key in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "BillingMode")
            if key in properties
        },
    )
    if ttl := properties.get("TimeToLiveSpecification"):
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)


def s3_notification(bucket: str, key: str, size: int, etag: str, sequencer: int) -> dict[str, Any]:
    """The ObjectCreated:Put event S3 delivers to Lambda for one object (key URL-encoded as S3 does)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": now,
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:AROAEXAMPLE:regionalDeliverySession"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": "LOCAL", "x-amz-id-2": "LOCAL"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "supportwatch-local",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "LOCAL"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "size": size,
                        "eTag": etag.strip('"'),
                        "sequencer": f"{sequencer:016X}",
                    },
                },
            }
        ]
    }


def subscribe_queue(aws: Account, topic_arn: str) -> str:
    """An SQS queue subscribed to the alert topic, as a subscriber would see the alerts."""
    queue_url, queue_arn = _queue(aws, f"{STACK_NAME}-inbox")  # INBOX_URL's export within 80 columns
    aws.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return queue_url


def notification_queue(aws: Account, stack: LocalStack) -> str:
    """An SQS queue that the bucket notifies of every object created under the function's prefix and
    suffix filter (moto sends S3's event there): what the embedded function is invoked from."""
    queue_url, queue_arn = _queue(aws, f"{STACK_NAME}-object-created")
    rules = [
        {"Name": name, "Value": value} for name, value in (("prefix", stack.key_prefix), ("suffix", stack.key_suffix))
    ]
    aws.client("s3").put_bucket_notification_configuration(
        Bucket=stack.bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [rule for rule in rules if rule["Value"]]}},
                }
            ]
        },
    )
    return queue_url


def received_alerts(aws: Account, queue_url: str) -> list[dict[str, Any]]:
    """Every alert that reached the queue through SNS (the `default` body of each notification)."""
    return [json.loads(body["Message"]) for body in _drain(aws, queue_url)]


def event_inbox(aws: Account) -> str:
    """An SQS queue that a rule of the default bus sends every supportwatch alert event to (docs/alerts.md's rule)."""
    from supportwatch.findings.events import DETAIL_TYPE, SOURCE

    queue_url, queue_arn = _queue(aws, f"{STACK_NAME}-event-inbox")
    events = aws.client("events")
    pattern = {"source": [SOURCE], "detail-type": [DETAIL_TYPE]}
    events.put_rule(Name=f"{STACK_NAME}-alerts", EventPattern=json.dumps(pattern), State="ENABLED")
    events.put_targets(Rule=f"{STACK_NAME}-alerts", Targets=[{"Id": "inbox", "Arn": queue_arn}])
    return queue_url


def chat_inbox(aws: Account, chat_topic_arn: str) -> str:
    """An SQS queue subscribed to the chat topic, as AWS's chat integration would receive it."""
    queue_url, queue_arn = _queue(aws, f"{STACK_NAME}-chat-inbox")
    aws.client("sns").subscribe(TopicArn=chat_topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return queue_url


def _queue(aws: Account, name: str) -> tuple[str, str]:
    sqs = aws.client("sqs")
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
    return queue_url, attributes["QueueArn"]


def _drain(aws: Account, queue_url: str) -> list[dict[str, Any]]:
    """Every message body of the queue, as JSON, each deleted once read."""
    sqs = aws.client("sqs")
    bodies = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def received_events(aws: Account, queue_url: str) -> list[dict[str, Any]]:
    """Every EventBridge event the rule delivered to the queue (whole: `source`, `detail-type`, `detail`)."""
    return _drain(aws, queue_url)


def received_chat(aws: Account, queue_url: str) -> list[dict[str, Any]]:
    """Every chat notification that reached the queue through the chat topic."""
    return [json.loads(body["Message"]) for body in _drain(aws, queue_url)]


def imported_findings(aws: Account) -> list[dict[str, Any]]:
    """Every finding Security Hub holds."""
    pages = aws.client("securityhub").get_paginator("get_findings").paginate()
    return [found for page in pages for found in page["Findings"]]


@dataclass(frozen=True, slots=True)
class RouteInboxes:
    """Where the routes that are on can be read back: Security Hub itself, and a queue for the bus's
    rule and for the chat topic."""

    security_hub: bool = False
    events: str = ""
    chat: str = ""

    @classmethod
    def of(cls, aws: Account, stack: LocalStack) -> RouteInboxes:
        return cls(
            stack.routes.security_hub,
            event_inbox(aws) if stack.routes.eventbridge else "",
            chat_inbox(aws, stack.chat_topic_arn) if stack.chat_topic_arn else "",
        )

    def received(self, aws: Account) -> dict[str, list[dict[str, Any]]]:
        """What each route that is on received (read once: the queues are emptied)."""
        found = {}
        if self.security_hub:
            found["Security Hub findings"] = imported_findings(aws)
        if self.events:
            found["EventBridge events"] = received_events(aws, self.events)
        if self.chat:
            found["chat notifications"] = received_chat(aws, self.chat)
        return found
