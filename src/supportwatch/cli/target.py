"""Which table and topic a command works on, and one-line reasons when they cannot be reached."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from supportwatch.aws.clients import client
from supportwatch.config import Settings


class AwsProblem(Exception):
    """An AWS resource the command needs is missing or unusable: one line, exit 1."""


class NotFound(Exception):
    """The question has no answer in the table: one line, exit 1."""


@contextlib.contextmanager
def existing_table(dynamodb: Any, table: str) -> Iterator[None]:
    """Turns "table not found" into a line that names the table and the region it was looked for in."""
    try:
        yield
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        region = dynamodb.meta.region_name
        raise AwsProblem(
            f"table {table} not found in {region} (ResourceNotFoundException): check --table and --region "
            "(the stack's SummaryTableName output)"
        ) from None


def check_table(dynamodb: Any, table: str) -> None:
    """Fail early, with one line, when the table is not there (or credentials or region are wrong)."""
    with existing_table(dynamodb, table):
        dynamodb.describe_table(TableName=table)


def stack_settings(stack: str, endpoint_url: str | None, region: str | None) -> Settings:
    """The deployed function's settings, from the stack's outputs (table, topic) and parameters."""
    cloudformation = client("cloudformation", endpoint_url=endpoint_url, region_name=region)
    try:
        (found,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ValidationError":
            raise
        where = cloudformation.meta.region_name
        raise AwsProblem(f"stack {stack} not found in {where}: check --stack and --region") from None
    outputs = {output["OutputKey"]: output["OutputValue"] for output in found.get("Outputs", [])}
    parameters = {item["ParameterKey"]: item.get("ParameterValue", "") for item in found.get("Parameters", [])}
    missing = [name for name in ("SummaryTableName", "AlertTopicArn") if name not in outputs]
    if missing:
        raise AwsProblem(f"stack {stack} has no output {' or '.join(missing)}: is it a supportwatch stack?")
    environment = {
        "TABLE_NAME": outputs["SummaryTableName"],
        "TOPIC_ARN": outputs["AlertTopicArn"],
        "ALERT_RULES": parameters.get("AlertRules", "all"),
        "VOLUME_THRESHOLD": parameters.get("VolumeThreshold", ""),
        "ALLOWLIST": parameters.get("Allowlist", ""),
        "MIN_SEVERITY": parameters.get("MinSeverity", ""),
        "MARKER_TTL_DAYS": parameters.get("MarkerTtlDays", ""),
        "MAX_DECOMPRESSED_BYTES": parameters.get("MaxDecompressedBytes", ""),
    }
    return Settings.from_env(environment)
