"""Delivery checks of a deployed stack (pure): trail -> bucket -> function, its errors, DLQs and freshness.

A log file reaches the function through the bucket's S3 notification (TrailBucketMode=create), an
EventBridge rule, or the ingest queue the bucket notifies (TrailBucketMode=existing). Freshness is read
from the newest log file of each account's and region's folder: a region silent for longer than
`SILENT` while another delivers is a warning (it may only be idle), no log at all in that time a failure.
"""

from __future__ import annotations

import fnmatch
import json
import shlex
from collections.abc import Sequence
from datetime import datetime, timedelta

from supportwatch.doctor.models import Check, Deployment, Newest, Notification, Observed, Status, Trail
from supportwatch.doctor.trails import delivering, delivers_some

SILENT = timedelta(hours=24)  # a region without a log file for this long, while others deliver: warn
DIGEST_LATE = timedelta(hours=3)  # digests are hourly; CloudTrail may take up to an hour or so more
METRICS_HOURS = 24  # the function's errors and throttles over this many hours
LOOKBACK_DAYS = 7  # day folders listed backwards from today for the newest file of a region


def sample_key(root: str, account: str, region: str, now: datetime) -> str:
    """A log key as CloudTrail names it, for testing filters and patterns."""
    stamp = f"{now:%Y%m%dT%H%MZ}"
    return f"{root}{account}/CloudTrail/{region}/{now:%Y/%m/%d}/{account}_CloudTrail_{region}_{stamp}_x.json.gz"


def _ago(now: datetime, then: datetime) -> str:
    hours = (now - then).total_seconds() / 3600
    return f"{hours:.0f} h ago" if hours >= 2 else f"{int(hours * 60)} min ago"


def _stack_fix(deployment: Deployment, *parameters: str) -> str:
    """The redeploy that restores the template's wiring, with these template parameters changed."""
    overrides = ["--parameter-overrides", *parameters] if parameters else []
    return shlex.join(["sam", "deploy", "--stack-name", deployment.stack, *overrides])


def delivery_checks(observed: Observed) -> list[Check]:
    deployment = observed.deployment
    if deployment is None:
        return []
    feeding = [
        t
        for t in observed.trails
        if delivers_some(t, observed.services)
        and t.bucket == deployment.bucket
        and t.prefix.strip("/") == deployment.prefix
    ]
    checks: list[Check | None] = [_bucket(observed, deployment, feeding), *_wiring(observed, deployment)]
    checks += _function(deployment)
    checks += [_queue(deployment, name, url, depth) for name, url, depth in deployment.depths]
    checks += _freshness("logs", deployment.logs, observed.now, SILENT, deployment, feeding)
    if any(t.validation for t in feeding):
        # Late digests leave `verify` without proof, not the counts without logs: a warning.
        checks += _freshness("digests", deployment.digests, observed.now, DIGEST_LATE, deployment, feeding, "warn")
    return [check for check in checks if check is not None]


def _bucket(observed: Observed, deployment: Deployment, feeding: Sequence[Trail]) -> Check:
    """Every watched service that a trail delivers is delivered into the bucket the function reads (the
    trail rows fail for a service no trail delivers)."""
    where = f"s3://{deployment.bucket}/{deployment.key_root}"
    astray = [
        service
        for service in observed.services
        if not any(delivering(t, (service,)) for t in feeding)
        and any(delivering(t, (service,)) for t in observed.trails)
    ]
    if feeding and not astray:
        return Check("delivery bucket", "pass", f"trail {feeding[0].name} delivers to {where}")
    others = [t for t in observed.trails if delivers_some(t, astray)]
    if not others:
        return Check(
            "delivery bucket", "fail", f"no trail delivering the calls writes to {where}", "see the trail rows above"
        )
    trail = others[0]
    detail = f"trail {trail.name} writes to s3://{trail.bucket}/{trail.key_root}, the function reads {where}"
    if trail.bucket == deployment.bucket:
        fix = _stack_fix(deployment, f"LogKeyPrefix={trail.prefix.strip('/')}")
        return Check("delivery bucket", "fail", detail, fix)
    fix = _stack_fix(
        deployment,
        "TrailBucketMode=existing",
        f"ExistingBucketName={trail.bucket}",
        f"LogKeyPrefix={trail.prefix.strip('/')}",
    )
    return Check("delivery bucket", "fail", detail, fix)


def _function_name(arn: str) -> str:
    """`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]` -> NAME."""
    parts = arn.split(":")
    return parts[6] if len(parts) > 6 and parts[5] == "function" else arn


def _filter_passes(notification: Notification, key: str) -> bool:
    created = any(e in ("s3:ObjectCreated:*", "s3:ObjectCreated:Put") for e in notification.events)
    return created and key.startswith(notification.prefix) and key.endswith(notification.suffix)


def _wiring(observed: Observed, deployment: Deployment) -> list[Check | None]:
    """How new log files reach the function (rows left out where their reads failed: the permission
    rows say why)."""
    region = observed.regions[0] if observed.regions else "us-east-1"
    key = sample_key(deployment.key_root, observed.account, region, observed.now)
    if deployment.trigger == "EventBridge":
        return [_eventbridge(deployment), _rule(deployment, key)]
    return [_notification(deployment, key)]


def _notification(deployment: Deployment, key: str) -> Check | None:
    if deployment.notifications is None:
        return None
    target = deployment.ingest_queue_arn if deployment.trigger == "SQS" else deployment.function
    reached = [
        n
        for n in deployment.notifications
        if (n.target == target or _function_name(n.target) == target) and _filter_passes(n, key)
    ]
    what = "ingest queue" if deployment.trigger == "SQS" else f"function {deployment.function}"
    if reached:
        return Check("delivery notification", "pass", f"s3://{deployment.bucket} ObjectCreated reaches the {what}")
    detail = f"no ObjectCreated notification of s3://{deployment.bucket} sends {deployment.key_root}… to the {what}"
    if deployment.trigger == "SQS":
        entry = {
            "QueueArn": deployment.ingest_queue_arn,
            "Events": ["s3:ObjectCreated:*"],
            "Filter": {
                "Key": {
                    "FilterRules": [
                        {"Name": "prefix", "Value": deployment.key_root},
                        {"Name": "suffix", "Value": ".json.gz"},
                    ]
                }
            },
        }
        fix = _put_notifications(deployment, "QueueConfigurations", entry)
        return Check("delivery notification", "fail", detail, fix)
    return Check("delivery notification", "fail", detail, _stack_fix(deployment))


def _put_notifications(deployment: Deployment, kind: str, entry: dict[str, object] | None) -> str:
    """The bucket's notification configuration with `entry` added to `kind` (the API replaces it whole)."""
    configuration = {k: v for k, v in deployment.notification_document.items()}
    if entry is None:
        configuration[kind] = {}
    else:
        configuration[kind] = [*configuration.get(kind, []), entry]
    return shlex.join(
        [
            "aws",
            "s3api",
            "put-bucket-notification-configuration",
            "--bucket",
            deployment.bucket,
            "--notification-configuration",
            json.dumps(configuration, separators=(",", ":")),
        ]
    )


def _eventbridge(deployment: Deployment) -> Check | None:
    if deployment.eventbridge_on is None:
        return None
    if deployment.eventbridge_on:
        return Check("delivery notification", "pass", f"s3://{deployment.bucket} sends its events to EventBridge")
    return Check(
        "delivery notification",
        "fail",
        f"s3://{deployment.bucket} does not send events to EventBridge",
        _put_notifications(deployment, "EventBridgeConfiguration", None),
    )


def _rule(deployment: Deployment, key: str) -> Check | None:
    rule = deployment.rule
    if rule is None:
        return None
    name = "delivery rule"
    if not rule.enabled:
        enable = shlex.join(["aws", "events", "enable-rule", "--name", rule.name])
        return Check(name, "fail", f"rule {rule.name} is disabled", enable)
    if deployment.bucket not in rule.buckets or not any(fnmatch.fnmatchcase(key, p) for p in rule.key_patterns):
        return Check(
            name,
            "fail",
            f"rule {rule.name} does not match {deployment.bucket}/{deployment.key_root}…json.gz",
            _stack_fix(deployment),
        )
    if not any(_function_name(target) == deployment.function for target in rule.targets):
        return Check(name, "fail", f"rule {rule.name} does not target {deployment.function}", _stack_fix(deployment))
    return Check(name, "pass", f"rule {rule.name} sends {deployment.bucket}'s new logs to the function")


def _function(deployment: Deployment) -> list[Check]:
    checks = []
    hours = f"the last {METRICS_HOURS} h"
    if deployment.errors is not None:
        logs = shlex.join(["sam", "logs", "--stack-name", deployment.stack, "--name", "ProcessorFunction"])
        checks.append(
            Check("function errors", "pass", f"no failed invocation in {hours}")
            if not deployment.errors
            else Check("function errors", "warn", f"{deployment.errors:.0f} failed invocations in {hours}", logs)
        )
    if deployment.throttles is not None:
        checks.append(
            Check("function throttles", "pass", f"no throttled invocation in {hours}")
            if not deployment.throttles
            else Check(
                "function throttles",
                "warn",
                f"{deployment.throttles:.0f} throttled invocations in {hours} (retried, but delayed)",
                _stack_fix(deployment, "ReservedConcurrency=N") + "  # N: invocations that may run at once",
            )
        )
    return checks


def _queue(deployment: Deployment, queue: str, url: str, depth: int) -> Check:
    name = f"queue {queue}"
    if not depth:
        return Check(name, "pass", "dead-letter queue empty")
    return Check(
        name,
        "fail",
        f"{depth} failed events wait in the dead-letter queue: their logs are not counted",
        shlex.join(["supportwatch", "redrive", "--queue-url", url, "--stack", deployment.stack]),
    )


def _freshness(
    kind: str,
    newest: Sequence[Newest] | None,
    now: datetime,
    late: timedelta,
    deployment: Deployment,
    feeding: Sequence[Trail],
    severity: Status = "fail",
) -> list[Check]:
    """The newest file of each account's and region's folder; silent regions while others deliver."""
    if newest is None:
        return []  # unread: the permission row says why
    name = f"newest {kind}"
    status = "see the trail rows above"
    if feeding:
        trail = feeding[0]
        status = shlex.join(
            ["aws", "cloudtrail", "get-trail-status", "--region", trail.home_region, "--name", trail.name]
        )
    dated = [found for found in newest if found.time is not None]
    where = f"s3://{deployment.bucket}/{deployment.key_root}"
    if not dated:
        return [Check(name, severity, f"no {kind} under {where} in the last {LOOKBACK_DAYS} days", status)]
    latest = max(dated, key=lambda found: found.time or now)
    assert latest.time is not None
    if now - latest.time > late:
        return [Check(name, severity, f"newest of all {kind}: {latest.region} {_ago(now, latest.time)}", status)]
    silent = [f for f in newest if f.time is None or now - f.time > late]
    if not silent:
        return [Check(name, "pass", f"{len(newest)} folders, newest {_ago(now, latest.time)} ({latest.region})")]
    return [
        Check(
            f"{name} {found.region}" + ("" if len({f.account for f in newest}) == 1 else f" {found.account}"),
            "warn",
            f"silent {_silence(now, found)} while other regions deliver (idle?)",
            shlex.join(["aws", "cloudtrail", "describe-trails", "--include-shadow-trails", "--region", found.region]),
        )
        for found in silent
    ]


def _silence(now: datetime, found: Newest) -> str:
    return f"over {LOOKBACK_DAYS} days" if found.time is None else f"since {_ago(now, found.time)}"
