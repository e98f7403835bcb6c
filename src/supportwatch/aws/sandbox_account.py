"""The sandbox's account around the stack, so that `verify` and `doctor` have something to check: a
CloudFormation stack `doctor --stack` resolves, a trail that logs Read events in its region into the
stack's bucket, the trail's own log file, and digest files signed with a key of the sandbox's own.

The stack holds the queue the bucket notifies (the function is invoked from it): it is described as a
deployment on an existing bucket with the SQS trigger, which is how the sandbox is wired. moto has no
ListPublicKeys: the key is written where `--public-keys FILE` reads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from supportwatch.aws.local import ACCOUNT_ID, REGION, STACK_NAME, Account, LocalStack
from supportwatch.integrity.signing import DigestFile, SigningKey, Trail, log_file, started_logging

FUNCTION_NAME = f"{STACK_NAME}-processor"
INGEST_QUEUE = f"{STACK_NAME}-object-created"


def record_stack(aws: Account, stack: LocalStack) -> None:
    """The stack `doctor --stack STACK_NAME` reads: its parameters (the services its function watches
    among them) and outputs, and the ingest queue
    (create it before the bucket's notification: SQS's CreateQueue of the same name returns it)."""
    template = {
        "Parameters": {
            name: {"Type": "String", "Default": value}
            for name, value in (
                ("TrailBucketMode", "existing"),
                ("ExistingBucketName", stack.bucket),
                ("ExistingBucketTrigger", "SQS"),
                ("LogKeyPrefix", stack.key_prefix.removesuffix("AWSLogs/")),
                ("WatchedServices", stack.function_environment.get("WATCHED_SERVICES") or "support"),
            )
        },
        "Resources": {"IngestQueue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": INGEST_QUEUE}}},
        "Outputs": {
            "ProcessorFunctionName": {"Value": FUNCTION_NAME},
            "IngestQueueArn": {"Value": {"Fn::GetAtt": ["IngestQueue", "Arn"]}},
        },
    }
    aws.client("cloudformation").create_stack(StackName=STACK_NAME, TemplateBody=json.dumps(template))


def open_trail(aws: Account, bucket: str) -> Trail:
    """A single-region trail into `bucket` that logs every management event, with log file validation."""
    cloudtrail = aws.client("cloudtrail")
    cloudtrail.create_trail(Name=STACK_NAME, S3BucketName=bucket, EnableLogFileValidation=True)
    cloudtrail.put_event_selectors(
        TrailName=STACK_NAME, EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    )
    cloudtrail.start_logging(Name=STACK_NAME)
    return Trail(STACK_NAME, REGION, bucket)


def own_log(trail: Trail, now: datetime) -> tuple[str, bytes]:
    """The trail's first log file: the record of its StartLogging call, delivered a few minutes later."""
    arn = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/{trail.name}"
    return log_file(f"AWSLogs/{ACCOUNT_ID}/", REGION, now, [started_logging(ACCOUNT_ID, REGION, arn, now)])


def write_public_keys(key: SigningKey, folder: Path, now: datetime) -> Path:
    """The key as `aws cloudtrail list-public-keys` prints it, in `folder`; its path."""
    path = folder / "public-keys.json"
    document = key.public_keys(now - timedelta(days=36500), now + timedelta(days=365))
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


def put_digests(aws: Account, bucket: str, digests: Iterable[DigestFile]) -> None:
    s3 = aws.client("s3")
    for digest in digests:
        s3.put_object(Bucket=bucket, Key=digest.key, Body=digest.body, Metadata=digest.metadata)
