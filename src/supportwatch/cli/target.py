"""Which table and topic a command works on, one-line reasons when they cannot be reached, and the
function's own processing run against them from the CLI (backfill, redrive)."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from supportwatch.alerting import Alerting, AlertsNotOut, CollectingPublisher, MemoryClaims
from supportwatch.aws.clients import client, error_code
from supportwatch.aws.digests import integrity_parts
from supportwatch.aws.findings import alert_routes
from supportwatch.aws.notify import SnsPublisher
from supportwatch.aws.objects import S3Objects
from supportwatch.aws.secrets import pseudonym_key
from supportwatch.aws.store import SummaryStore
from supportwatch.config import AlertSettings, Settings
from supportwatch.findings.asff import product_arn
from supportwatch.findings.routes import RoutedPublisher
from supportwatch.models import Alert, ObjectRef
from supportwatch.pipeline import ObjectReport, Processor, Read
from supportwatch.privacy import IdentityMode, Pseudonymizer, load_key
from supportwatch.services import DEFAULT_SERVICES

ATTEMPTS = 3  # like an asynchronous Lambda invocation: the first try and two retries
SECRET_OUTPUT = "PseudonymKeySecretArn"  # the stack's pseudonym key (IdentityMode=pseudonymous)


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
        if error_code(error) != "ResourceNotFoundException":
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


def describe_stack(stack: str, endpoint_url: str | None, region: str | None) -> dict[str, Any]:
    """A deployed stack, as CloudFormation describes it."""
    cloudformation = client("cloudformation", endpoint_url=endpoint_url, region_name=region)
    try:
        (found,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        if error_code(error) != "ValidationError":
            raise
        where = cloudformation.meta.region_name
        raise AwsProblem(f"stack {stack} not found in {where}: check --stack and --region") from None
    return found


def outputs_of(found: dict[str, Any]) -> dict[str, str]:
    return {output["OutputKey"]: output["OutputValue"] for output in found.get("Outputs", [])}


def stack_settings(stack: str, endpoint_url: str | None, region: str | None) -> Settings:
    """The deployed function's settings, from the stack's outputs (table, topic, pseudonym key) and parameters."""
    found = describe_stack(stack, endpoint_url, region)
    outputs = outputs_of(found)
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
        "VERIFY_DIGESTS": parameters.get("VerifyDigests", ""),
        "DIGEST_GRACE_MINUTES": parameters.get("DigestGraceMinutes", ""),
        "RETENTION_DAYS": parameters.get("RetentionDays", ""),
        "WATCHED_SERVICES": parameters.get("WatchedServices", ""),  # a stack of before section 12: support
        "STACK_NAME": stack,
        **stack_routes(found["StackId"], parameters),
        "PSEUDONYM_KEY_SECRET": outputs.get(SECRET_OUTPUT, ""),
    }
    return Settings.from_env(environment)


def stack_routes(stack_id: str, parameters: dict[str, str]) -> dict[str, str]:
    """The function's route settings (contract section 11) from the stack's parameters; the Security Hub
    product is the stack's account's, in its region."""
    _, _, _, region, account, _ = stack_id.split(":", 5)
    security_hub = parameters.get("SecurityHubFindings") == "enabled"
    return {
        "SECURITY_HUB_PRODUCT_ARN": product_arn(account, region) if security_hub else "",
        "EVENTBRIDGE_ALERTS": "true" if parameters.get("EventBridgeAlerts") == "enabled" else "false",
        "CHAT_TOPIC_ARN": parameters.get("ChatTopicArn", ""),
    }


def note_not_routed(route: str, refused: dict[Alert, str]) -> None:
    """A route refused alerts after its retries: they are on the alert topic; one line says so."""
    reason = next(iter(refused.values()))
    sys.stderr.write(f"{len(refused)} alerts not delivered to {route} (they are on the alert topic): {reason}\n")


def settings_of(args: argparse.Namespace) -> Settings:
    """The stack's settings (`--stack`), or `--table`/`--topic-arn`; alert options override either."""
    if args.stack:
        settings = stack_settings(args.stack, args.endpoint_url, args.region)
    elif args.table and (args.topic_arn or args.no_alerts):
        settings = Settings(args.table, args.topic_arn or "")
    else:
        raise ValueError("name the target: --stack NAME, or --table NAME with --topic-arn ARN (or --no-alerts)")
    if args.table:
        settings = replace(settings, table_name=args.table)
    if args.topic_arn:
        settings = replace(settings, topic_arn=args.topic_arn)
    settings = replace(settings, watched_services=watched_services(args, settings))
    alerts = settings.alerts
    if args.no_alerts:
        alerts = AlertSettings(rules=frozenset())
    else:
        overrides = {
            "rules": frozenset(args.rules) if args.rules is not None else None,
            "volume_threshold": args.volume_threshold,
            "allowlist": tuple(args.allowlist) if args.allowlist is not None else None,
            "min_severity": args.min_severity,
        }
        alerts = replace(alerts, **{name: value for name, value in overrides.items() if value is not None})
    return replace(settings, alerts=alerts)


def watched_services(args: argparse.Namespace, settings: Settings | None) -> tuple[str, ...]:
    """`--services`, else the deployed stack's WatchedServices (`settings` read with --stack); without either,
    cli/options.py has set support alone."""
    return args.services or (settings.watched_services if settings else DEFAULT_SERVICES)


def processor_for(args: argparse.Namespace) -> tuple[Processor, str]:
    """The function's Processor with this run's clients, and the run's name (its alert claims' owners
    add the file: every file is its own attempt, as each Lambda invocation is)."""
    settings = settings_of(args)
    dynamodb = client("dynamodb", endpoint_url=args.endpoint_url, region_name=args.region)
    check_table(dynamodb, settings.table_name)
    store = SummaryStore(
        dynamodb, settings.table_name, settings.marker_ttl_days, retention_days=settings.retention_days
    )
    privacy = privacy_of(args, settings)
    store.settle_identity_mode(IdentityMode.of(privacy and privacy.fingerprint))
    if settings.alerts.rules:
        sns = client("sns", endpoint_url=args.endpoint_url, region_name=args.region)
        routes = alert_routes(
            settings, lambda service: client(service, endpoint_url=args.endpoint_url, region_name=args.region), store
        )
        publisher = RoutedPublisher(SnsPublisher(sns, settings.topic_arn, store), routes, refused=note_not_routed)
        # wait_for_others: the command never reports success before every alert of its files is out
        alerting = Alerting(store, publisher, wait_for_others=True)
    else:  # no rule is on: nothing is claimed or published
        alerting = Alerting(MemoryClaims(), CollectingPublisher())
    s3 = client("s3", endpoint_url=args.endpoint_url, region_name=args.region)
    log_book, digests = integrity_parts(
        settings, s3, dynamodb, lambda region: client("cloudtrail", endpoint_url=args.endpoint_url, region_name=region)
    )
    processor = Processor(
        fetch=S3Objects(s3).read,
        sink=store,
        alerting=alerting,
        alert_settings=settings.alerts,
        max_bytes=settings.max_decompressed_bytes,
        log_book=log_book,
        digests=digests,
        exact_max_bytes=args.exact_max_bytes,
        privacy=privacy,
        services=settings.watched_services,
    )
    return processor, f"backfill-{uuid.uuid4()}"


def privacy_of(args: argparse.Namespace, settings: Settings) -> Pseudonymizer | None:
    """The run's pseudonyms (contract section 10): of `--pseudonymize-key`, else of the stack's secret;
    None in plain mode. The table refuses a mode, or a key, other than its own."""
    if args.pseudonymize_key:
        return Pseudonymizer(load_key(args.pseudonymize_key))
    if not settings.pseudonym_key_secret:
        return None
    secrets = client("secretsmanager", endpoint_url=args.endpoint_url, region_name=args.region)
    return Pseudonymizer(pseudonym_key(settings.pseudonym_key_secret, secrets))


def table_and_privacy(args: argparse.Namespace) -> tuple[str, Pseudonymizer | None]:
    """The summaries table (`--table`, else `--stack`'s) and its pseudonyms (`--pseudonymize-key`, else
    the stack's secret; None: no key, or a stack in clear)."""
    settings = stack_settings(args.stack, args.endpoint_url, args.region) if args.stack else Settings(args.table, "")
    return args.table or settings.table_name, privacy_of(args, settings)


def stack_key(stack: str, endpoint_url: str | None, region: str | None) -> bytes:
    """The pseudonym key of a deployed stack of IdentityMode=pseudonymous, from its secret."""
    outputs = outputs_of(describe_stack(stack, endpoint_url, region))
    if SECRET_OUTPUT not in outputs:
        raise AwsProblem(f"stack {stack} has no pseudonym key: it keeps identities in clear (IdentityMode=plain)")
    secrets = client("secretsmanager", endpoint_url=endpoint_url, region_name=region)
    return pseudonym_key(outputs[SECRET_OUTPUT], secrets)


def with_retries(
    processor: Processor, ref: ObjectRef, owner: str, read: Read | None = None
) -> tuple[ObjectReport | None, str]:
    """Process with retries (the same owner, as a Lambda retry keeps its request id); `read` is the object
    as `Processor.prefetch` read it, if it was."""
    reason, counted_before = "", 0
    for attempt in range(ATTEMPTS):
        try:
            report = processor.process(ref, owner, read)
        except Exception as error:  # transient AWS errors, conflicts, undelivered alerts: retried
            reason = f"{type(error).__name__}: {error}"
            counted_before += error.counted if isinstance(error, AlertsNotOut) else 0
            time.sleep(0.2 * 2**attempt)
        else:  # what an earlier attempt counted was this file's, not a duplicate of another's
            return replace(report, counted=report.counted + counted_before,
                           duplicates=report.duplicates - counted_before), ""  # fmt: skip
    return None, reason
