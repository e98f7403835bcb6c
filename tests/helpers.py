"""Builders shared by the integration and end-to-end tests."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import random
import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3

from supportwatch import SUPPORT_EVENT_SOURCE

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "template.yaml"
FIXTURES = REPO / "tests" / "fixtures"
CANARY = "CANARY-7b1e: my db password is hunter2"


def support_record(
    *,
    arn: str = "arn:aws:iam::111122223333:user/Admin",
    name: str = "StartSupportTroubleshooting",
    time: str = "2023-09-11T16:34:13Z",
    event_id: str | None = None,
    ip: str = "72.21.198.67",
    region: str = "us-east-1",
    error: str | None = None,
    issuer: str | None = None,
) -> dict[str, Any]:
    """A CloudTrail record of a Support Recommendations call, shaped as AWS documents it."""
    user_identity: dict[str, Any] = {
        "type": "AssumedRole" if issuer else "IAMUser",
        "principalId": "AIDACKCEVSQ6C2EXAMPLE",
        "arn": arn,
        "accountId": arn.split(":")[4],
    }
    if issuer:
        user_identity["sessionContext"] = {"sessionIssuer": {"type": "Role", "arn": issuer}}
    record = {
        "eventVersion": "1.08",
        "userIdentity": user_identity,
        "eventTime": time,
        "eventSource": SUPPORT_EVENT_SOURCE,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": ip,
        "userAgent": "signin.amazonaws.com",
        "requestParameters": {"message": CANARY} if name == "StartSupportTroubleshooting" else {},
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": event_id or str(uuid.uuid4()),
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": arn.split(":")[4],
        "eventCategory": "Management",
    }
    if error:
        record["errorCode"] = error
        record["errorMessage"] = "User is not authorized"
    return record


def reveal_record(
    pseudonym: str,
    *,
    arn: str = "arn:aws:sts::111122223333:assumed-role/Security/bob@example.com",
    name: str = "Decrypt",
    time: str = "2026-12-06T10:00:00Z",
    event_id: str | None = None,
    ip: str = "203.0.113.50",
    error: str | None = None,
) -> dict[str, Any]:
    """The CloudTrail record of a KMS Decrypt of the identity sealed under `pseudonym` (`supportwatch reveal`),
    shaped as KMS's records are."""
    account = arn.split(":")[4]
    record = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLEID:bob@example.com",
            "arn": arn,
            "accountId": account,
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{account}:role/Security"}},
        },
        "eventTime": time,
        "eventSource": "kms.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": ip,
        "userAgent": "Boto3/1.35.0 supportwatch",
        "requestParameters": {
            "encryptionContext": {"supportwatch:pseudonym": pseudonym},
            "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
        },
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": event_id or str(uuid.uuid4()),
        "readOnly": True,
        "resources": [
            {"accountId": account, "type": "AWS::KMS::Key", "ARN": f"arn:aws:kms:us-east-1:{account}:key/1234abcd"}
        ],
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if error:
        record["errorCode"] = error
        record["errorMessage"] = "User is not authorized to perform: kms:Decrypt"
    return record


def q_record(
    *,
    arn: str = "arn:aws:iam::111122223333:user/Admin",
    name: str = "SendMessage",
    time: str = "2024-05-02T09:30:00Z",
    event_id: str | None = None,
    dry_run: bool | None = None,
    invoked_by: str | None = None,
) -> dict[str, Any]:
    """A CloudTrail record of an Amazon Q chat call in the console, shaped as AWS documents it, except that
    what the person typed and what Q answered are the CANARY (AWS writes `***` there)."""
    record = support_record(arn=arn, name=name, time=time, event_id=event_id)
    record["userIdentity"] |= {"invokedBy": invoked_by} if invoked_by else {}
    parameters: dict[str, Any] = {"conversationId": "c0ffee00-1111-2222-3333-444455556666", "origin": "CONSOLE"}
    parameters |= {"utterance": CANARY, "conversationToken": CANARY}
    record |= {
        "eventSource": "q.amazonaws.com",
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
        "requestParameters": parameters | ({} if dry_run is None else {"dryRun": dry_run}),
        "responseElements": {"result": {"content": {"text": {"body": CANARY}}}, "resultCode": "LLM"},
        "readOnly": False,
    }
    return record


def bedrock_record(
    *,
    arn: str = "arn:aws:iam::111122223333:user/Admin",
    name: str = "Converse",
    time: str = "2024-05-02T09:31:00Z",
    event_id: str | None = None,
    model_id: Any = "anthropic.claude-3-5-sonnet-20240620-v1:0",
) -> dict[str, Any]:
    """A CloudTrail record of an Amazon Bedrock call (inference or control plane), shaped as AWS documents it;
    `model_id` None: no `modelId` parameter."""
    record = support_record(arn=arn, name=name, time=time, event_id=event_id)
    record |= {
        "eventSource": "bedrock.amazonaws.com",
        "userAgent": "Boto3/1.34.90 md/Botocore#1.34.90",
        "requestParameters": {} if model_id is None else {"modelId": model_id},
        "responseElements": None,
        "additionalEventData": {"inputTokens": 12, "outputTokens": 340},
        "readOnly": name not in ("InvokeModel", "InvokeModelWithResponseStream", "Converse", "ConverseStream"),
    }
    return record


def random_support_records(count: int, seed: int, identities: int = 5, days: int = 3) -> list[dict[str, Any]]:
    """Support records spread over a few identities, roles, days, IPs, regions and errors."""
    rng = random.Random(seed)
    records = []
    for _ in range(count):
        who = rng.randrange(identities)
        issuer = f"arn:aws:iam::111122223333:role/Role{who % 2}" if who % 3 == 0 else None
        arn = (
            f"arn:aws:sts::111122223333:assumed-role/Role{who % 2}/session{who}"
            if issuer
            else f"arn:aws:iam::111122223333:user/user{who}"
        )
        records.append(
            support_record(
                arn=arn,
                issuer=issuer,
                name=rng.choice(["StartSupportTroubleshooting", "GetSupportTroubleshootingResponse"]),
                time=f"2023-09-{10 + rng.randrange(days):02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z",
                event_id=str(uuid.UUID(int=rng.getrandbits(128))),
                ip=f"198.51.100.{rng.randrange(4)}",
                region=rng.choice(["us-east-1", "eu-west-1"]),
                error=rng.choice([None, None, None, "AccessDeniedException"]),
            )
        )
    return records


def gzip_document(records: list[Any]) -> bytes:
    return gzip.compress(json.dumps({"Records": records}).encode())


def expected_totals(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """An independent count: per identity ARN, over distinct eventIDs (first occurrence wins)."""
    distinct: dict[str, dict[str, Any]] = {}
    for record in records:
        if record.get("eventSource") == SUPPORT_EVENT_SOURCE:
            distinct.setdefault(record["eventID"], record)
    totals: dict[str, dict[str, Any]] = {}
    for record in distinct.values():
        found = totals.setdefault(
            record["userIdentity"]["arn"],
            {"totalCalls": 0, "calls": Counter(), "errors": Counter(), "times": [], "sourceIps": set()},
        )
        found["totalCalls"] += 1
        found["calls"][record["eventName"]] += 1
        if "errorCode" in record:
            found["errors"][record["errorCode"]] += 1
        found["times"].append((datetime.fromisoformat(record["eventTime"]), record["eventID"], record["eventTime"]))
        found["sourceIps"].add(record["sourceIPAddress"])
    return {
        arn: {
            "totalCalls": found["totalCalls"],
            "calls": dict(sorted(found["calls"].items())),
            "errorCalls": sum(found["errors"].values()),
            "errors": dict(sorted(found["errors"].items())),
            "firstSeen": min(found["times"])[2],  # the earliest instant (then eventID) ...
            "lastSeen": max(found["times"], key=lambda time: (time[0], time[2]))[2],  # ... the latest (then text)
            "sourceIps": sorted(found["sourceIps"]),
        }
        for arn, found in totals.items()
    }


def comparable(export: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The fields of an export that `expected_totals` computes."""
    keys = ("totalCalls", "calls", "errorCalls", "errors", "firstSeen", "lastSeen", "sourceIps")
    return {identity: {k: fields[k] for k in keys} for identity, fields in export["summaries"].items()}


class CountingClient:
    """A boto3 client that counts the requests made through it, by operation (`requests`)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.requests: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._client, name)
        if name.startswith(("get_paginator", "can_paginate", "meta", "exceptions")) or not callable(call):
            return call

        def counted(**request: Any) -> Any:
            self.requests[name] += 1
            return call(**request)

        return counted


class MotoAccount:
    """Client provider for `supportwatch.aws.local.deploy` inside moto's in-process `mock_aws`."""

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name="us-east-1")


def s3_event(bucket: str, *keys: str) -> dict[str, Any]:
    """An S3 notification for `keys`, URL-encoded as S3 sends them."""
    from supportwatch.aws.local import s3_notification

    records = [s3_notification(bucket, key, 1, "etag", number)["Records"][0] for number, key in enumerate(keys)]
    return {"Records": records}


@contextlib.contextmanager
def embedded_stack(monkeypatch: Any) -> Iterator[tuple[Any, Any]]:
    """The stack on moto's server (one request at a time, see EmbeddedAws: DynamoDB's isolation),
    with its credentials and the function's environment set for the handler."""
    from supportwatch import handler
    from supportwatch.aws.local import EmbeddedAws, deploy

    with EmbeddedAws() as aws:
        for name, value in aws.environment().items():
            monkeypatch.setenv(name, value)
        resources = deploy(aws, TEMPLATE)
        for name, value in resources.function_environment.items():
            monkeypatch.setenv(name, value)
        handler.processor.cache_clear()
        yield aws, resources
        handler.processor.cache_clear()


def run_process(argv: list[str], timeout: int = 300, text: bool = True, **environ: str) -> subprocess.CompletedProcess:
    """`argv` in its own process from the repository root, stdout and stderr piped, `environ` added."""
    return subprocess.run(
        argv, cwd=REPO, capture_output=True, text=text, timeout=timeout, env={**os.environ, **environ}, check=False
    )


# tests/fixtures/services/ (contract section 12): the mixed corpus and its exports written by hand
SERVICES_CORPUS = FIXTURES / "services" / "trail"
EVERY_SERVICE = ("support", "q", "bedrock")
TYPED = "CANARY"  # begins every piece of typed text the corpus holds


def services_expected(name: str) -> dict[str, Any]:
    """tests/fixtures/services/NAME: an export written by hand."""
    return json.loads((FIXTURES / "services" / name).read_text(encoding="utf-8"))


def as_expected(document: dict[str, Any], like: dict[str, Any]) -> dict[str, Any]:
    """An export with each alert cut to the fields `like` holds (the contract's, not the prose)."""
    fields = like["alerts"][0].keys()
    return {
        "summaries": document["summaries"],
        "alerts": [{name: alert.get(name) for name in fields} for alert in document["alerts"]],
    }


def titled_by_service(alerts: list[dict[str, Any]]) -> bool:
    """Each alert's title is one line short enough for an SNS subject and names its service as people do."""
    from supportwatch.services import SERVICES, SUPPORT

    def label(service: str) -> str:
        return "Support Recommendations" if service == SUPPORT else SERVICES[service].label

    return all(
        len(alert["title"]) < 100 and "\n" not in alert["title"] and label(alert["service"]) in alert["title"]
        for alert in alerts
    )


def services_corpus_keys() -> dict[str, Path]:
    """Each file of the corpus under the key its trail would write (AWSLogs/ACCOUNT/CloudTrail/REGION/Y/M/D/)."""
    keys = {}
    for path in sorted(SERVICES_CORPUS.iterdir()):
        account, _, region, stamp, _ = path.name.split("_")
        keys[f"AWSLogs/{account}/CloudTrail/{region}/{stamp[:4]}/{stamp[4:6]}/{stamp[6:8]}/{path.name}"] = path
    return keys
