"""What `supportwatch doctor` reads, with read-only calls only: trails in every region, their status and
selectors, and with a stack its wiring, the function's metrics, its queues and the newest files.

A call that fails (AccessDenied, a missing resource) is remembered as an `Unread` naming the IAM action,
and what depended on it is left unchecked; only missing credentials, region or endpoint stop the reading.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as EndpointUnreachable

from supportwatch.aws.clients import client, error_code, new_session
from supportwatch.aws.listing import S3Listing
from supportwatch.doctor.delivery import LOOKBACK_DAYS, METRICS_HOURS
from supportwatch.doctor.models import (
    AdvancedSelector,
    BasicSelector,
    Deployment,
    FieldSelector,
    Newest,
    Notification,
    Observed,
    Rule,
    Selectors,
    Trail,
    TrailStatus,
    Unread,
)
from supportwatch.integrity.digest import digest_key_time, log_key_time
from supportwatch.layout import CLOUDTRAIL, DIGESTS, LayoutError, plan
from supportwatch.services import DEFAULT_SERVICES, parse_services

T = TypeVar("T")
WORKERS = 8
# What DescribeTrails answers in a region the account has not opted in to.
_NOT_ENABLED = {"UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure", "OptInRequired"}
_DEAD_LETTER_OUTPUTS = ("DeadLetterQueueUrl", "EventsDeadLetterQueueUrl", "IngestDeadLetterQueueUrl")


class StackProblem(Exception):
    """The stack named with --stack is missing or is not a supportwatch stack: nothing to check."""


class Inspector:
    """Reads one account's trails (and a stack) for doctor; `step` hears what it is reading."""

    def __init__(
        self, endpoint_url: str | None, region: str | None, step: Callable[[str], None] = lambda _text: None
    ) -> None:
        self._endpoint = endpoint_url
        self._region = region
        self._step = step
        self._unread: list[Unread] = []
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._session = new_session()
        self._lock = threading.Lock()

    def client(self, service: str, region: str | None = None) -> Any:
        """The one client of `service` in `region` (the command's region by default) this reader uses."""
        with self._lock:  # creating clients is not thread-safe; using them is
            key = (service, region or self._region)
            if key not in self._clients:
                self._clients[key] = client(service, self._endpoint, key[1], self._session)
            return self._clients[key]

    def _call(self, action: str, target: str, call: Callable[[], T], quiet: Iterable[str] = ()) -> T | None:
        """The call's result, or None after noting the action it lacked or the endpoint it could not reach
        (codes in `quiet` are not noted)."""
        try:
            return call()
        except (ClientError, EndpointUnreachable, HTTPClientError) as error:
            code = _code(error) if isinstance(error, ClientError) else type(error).__name__
            if code not in quiet:
                with self._lock:
                    self._unread.append(Unread(action, target, code))
            return None

    def observe(self, stack: str | None, now: datetime, services: tuple[str, ...] | None = None) -> Observed:
        """What doctor checks; the watched services are `services`, else the stack's, else support."""
        self._step("the caller's identity")
        caller = self.client("sts").get_caller_identity()
        account, partition = caller["Account"], caller["Arn"].split(":")[1]
        regions = tuple(sorted(self._session.get_available_regions("cloudtrail", partition_name=partition)))
        trails, readable = self._trails(regions)
        deployment = self._deployment(stack, now) if stack else None
        return Observed(
            account=account,
            regions=readable,
            trails=trails,
            now=now,
            deployment=deployment,
            unread=tuple(self._unread),
            trails_read=bool(readable) or not regions,
            services=services or (deployment.services if deployment else DEFAULT_SERVICES),
        )

    def _trails(self, regions: tuple[str, ...]) -> tuple[tuple[Trail, ...], tuple[str, ...]]:
        """Every trail seen from any region (shadow trails included), and the regions that answered (a
        region the account has not opted in to answers that it does not know the caller)."""
        done: list[str] = []

        def describe(region: str) -> list[dict[str, Any]] | None:
            found = self._call(
                "cloudtrail:DescribeTrails",
                region,
                lambda: self.client("cloudtrail", region).describe_trails(includeShadowTrails=True)["trailList"],
                _NOT_ENABLED,
            )
            with self._lock:
                done.append(region)
                self._step(f"trails: {len(done)}/{len(regions)} regions")
            return found

        with ThreadPoolExecutor(WORKERS) as pool:
            answers = list(pool.map(describe, regions))
        listed: dict[str, dict[str, Any]] = {}
        for found in answers:
            for trail in found or []:
                listed.setdefault(trail["TrailARN"], trail)
        readable = tuple(region for region, found in zip(regions, answers, strict=True) if found is not None)
        self._step(f"status and selectors of {len(listed)} trails")
        with ThreadPoolExecutor(WORKERS) as pool:
            trails = tuple(pool.map(self._trail, listed.values()))
        return trails, readable

    def _trail(self, described: dict[str, Any]) -> Trail:
        arn, home = described["TrailARN"], described["HomeRegion"]
        cloudtrail = self.client("cloudtrail", home)
        status = self._call("cloudtrail:GetTrailStatus", arn, lambda: cloudtrail.get_trail_status(Name=arn))
        selectors = self._call(
            "cloudtrail:GetEventSelectors", arn, lambda: cloudtrail.get_event_selectors(TrailName=arn)
        )
        return Trail(
            name=described["Name"],
            arn=arn,
            home_region=home,
            multi_region=bool(described.get("IsMultiRegionTrail")),
            organization=bool(described.get("IsOrganizationTrail")),
            bucket=described.get("S3BucketName", ""),
            prefix=described.get("S3KeyPrefix", "") or "",
            validation=bool(described.get("LogFileValidationEnabled")),
            status=_status(status) if status is not None else None,
            selectors=parse_selectors(selectors) if selectors is not None else None,
        )

    def _deployment(self, stack: str, now: datetime) -> Deployment | None:
        self._step(f"stack {stack}")
        try:
            (found,) = self.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
        except ClientError as error:
            if error_code(error) == "ValidationError":
                where = self.client("cloudformation").meta.region_name
                raise StackProblem(f"stack {stack} not found in {where}: check --stack and --region") from None
            self._unread.append(Unread("cloudformation:DescribeStacks", stack, _code(error)))
            return None
        outputs = {output["OutputKey"]: output["OutputValue"] for output in found.get("Outputs", [])}
        parameters = {item["ParameterKey"]: item.get("ParameterValue", "") for item in found.get("Parameters", [])}
        mode = parameters.get("TrailBucketMode", "create")
        bucket = outputs.get("TrailBucketName") or parameters.get("ExistingBucketName", "")
        function = outputs.get("ProcessorFunctionName", "")
        if not bucket or not function:
            raise StackProblem(
                f"stack {stack} names no trail bucket or ProcessorFunctionName output: is it a supportwatch stack?"
            )
        try:  # a stack deployed before the parameter existed watches support
            services = parse_services(parameters.get("WatchedServices", ""))
        except ValueError as error:
            raise StackProblem(f"stack {stack}'s WatchedServices: {error}") from None
        deployment = Deployment(
            stack=stack,
            trigger="S3" if mode == "create" else parameters.get("ExistingBucketTrigger", "EventBridge"),
            bucket=bucket,
            prefix=parameters.get("LogKeyPrefix", "").strip("/"),
            function=function,
            ingest_queue_arn=outputs.get("IngestQueueArn", ""),
            queues=tuple((name.removesuffix("Url"), outputs[name]) for name in _DEAD_LETTER_OUTPUTS if name in outputs),
            services=services,
        )
        return self._wiring(deployment, outputs.get("ObjectCreatedRuleArn", ""), now)

    def _wiring(self, deployment: Deployment, rule_arn: str, now: datetime) -> Deployment:
        self._step("notifications, metrics and queues")
        s3 = self.client("s3")
        document = self._call(
            "s3:GetBucketNotification",
            f"s3://{deployment.bucket}",
            lambda: s3.get_bucket_notification_configuration(Bucket=deployment.bucket),
        )
        if document is not None:
            document = {key: value for key, value in document.items() if key != "ResponseMetadata"}
            deployment = replace(
                deployment,
                notifications=_notifications(document),
                notification_document=document,
                eventbridge_on="EventBridgeConfiguration" in document,
            )
        if rule_arn:
            deployment = replace(deployment, rule=self._rule(rule_arn.rsplit("/", 1)[-1]))
        depths = []
        for name, url in deployment.queues:
            attributes = self._call(
                "sqs:GetQueueAttributes",
                url,
                lambda url=url: self.client("sqs").get_queue_attributes(
                    QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
                ),
            )
            if attributes is not None:
                depths.append((name, url, int(attributes["Attributes"]["ApproximateNumberOfMessages"])))
        deployment = replace(
            deployment,
            depths=tuple(depths),
            errors=self._metric(deployment.function, "Errors", now),
            throttles=self._metric(deployment.function, "Throttles", now),
        )
        self._step("newest log files")
        logs = self._newest(deployment, CLOUDTRAIL, now)
        self._step("newest digest files")
        digests = self._newest(deployment, DIGESTS, now)
        return replace(deployment, logs=logs, digests=digests)

    def _rule(self, name: str) -> Rule | None:
        events = self.client("events")
        rule = self._call("events:DescribeRule", name, lambda: events.describe_rule(Name=name))
        targets = self._call("events:ListTargetsByRule", name, lambda: events.list_targets_by_rule(Rule=name))
        if rule is None or targets is None:
            return None
        pattern = json.loads(rule.get("EventPattern") or "{}")
        detail = pattern.get("detail", {})
        keys = detail.get("object", {}).get("key", ["*"])
        return Rule(
            name=name,
            enabled=str(rule.get("State", "")).startswith("ENABLED"),  # or ENABLED_WITH_ALL_CLOUDTRAIL_...
            buckets=tuple(detail.get("bucket", {}).get("name", [])),
            key_patterns=tuple(_key_pattern(key) for key in keys),
            targets=tuple(target["Arn"] for target in targets.get("Targets", [])),
        )

    def _metric(self, function: str, metric: str, now: datetime) -> float | None:
        """The metric's sum over the last METRICS_HOURS whole hours, the current one included."""
        hour = now.replace(minute=0, second=0, microsecond=0)
        found = self._call(
            "cloudwatch:GetMetricStatistics",
            f"AWS/Lambda {metric}",
            lambda: self.client("cloudwatch").get_metric_statistics(
                Namespace="AWS/Lambda",
                MetricName=metric,
                Dimensions=[{"Name": "FunctionName", "Value": function}],
                StartTime=hour - timedelta(hours=METRICS_HOURS - 1),
                EndTime=hour + timedelta(hours=1),
                Period=3600,
                Statistics=["Sum"],
            ),
        )
        return None if found is None else sum(point["Sum"] for point in found["Datapoints"])

    def _newest(self, deployment: Deployment, service: str, now: datetime) -> tuple[Newest, ...] | None:
        """The newest file of each account's and region's `service` folder: delimiter listings find the
        folders (as backfill does), then day folders are listed from today backwards (never the bucket)."""
        listing = S3Listing(self.client("s3"))
        bucket = deployment.bucket
        key_time = digest_key_time if service == DIGESTS else log_key_time
        try:
            regions = plan(
                listing, bucket, deployment.key_root[: -len("AWSLogs/")], None, None, service=service
            ).regions
        except LayoutError:
            return ()
        except ClientError as error:
            self._unread.append(Unread("s3:ListBucket", f"s3://{bucket}", _code(error)))
            return None

        def newest(region: str) -> Newest:
            segments = region.rstrip("/").split("/")
            for back in range(LOOKBACK_DAYS):
                day = (now - timedelta(days=back)).date()
                times = [
                    found for ref in listing.objects(bucket, f"{region}{day:%Y/%m/%d}/") if (found := key_time(ref.key))
                ]
                if times:
                    return Newest(segments[-3], segments[-1], max(times))
            return Newest(segments[-3], segments[-1], None)

        with ThreadPoolExecutor(WORKERS) as pool:
            return tuple(pool.map(newest, regions))


def _code(error: ClientError) -> str:
    """AWS's error code; a 403 without one is a denial (moto answers JSON-protocol denials in XML, which
    botocore cannot parse)."""
    code = error_code(error)
    if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403 and code in ("", "403"):
        return "AccessDenied"
    return code or "error"


def _key_pattern(key: object) -> str:
    """An EventBridge key filter (`"exact"`, `{"prefix": p}`, `{"wildcard": w}`) as an fnmatch pattern."""
    if isinstance(key, dict):
        if "wildcard" in key:
            return str(key["wildcard"])
        if "prefix" in key:
            return f"{key['prefix']}*"
        return "*"  # another matcher (suffix, anything-but): assume it lets logs through
    return str(key)


def _status(found: dict[str, Any]) -> TrailStatus:
    return TrailStatus(
        logging=bool(found.get("IsLogging")),
        delivery_error=found.get("LatestDeliveryError", "") or "",
        latest_delivery=found.get("LatestDeliveryTime"),
    )


def parse_selectors(found: dict[str, Any]) -> Selectors:
    basic = tuple(
        BasicSelector(
            read_write=item.get("ReadWriteType", "All"),
            management=item.get("IncludeManagementEvents", True),
            excluded_sources=tuple(item.get("ExcludeManagementEventSources", [])),
            raw=item,
        )
        for item in found.get("EventSelectors") or []
    )
    advanced = tuple(
        AdvancedSelector(
            name=item.get("Name", ""),
            fields=tuple(
                FieldSelector(
                    field=condition["Field"],
                    equals=tuple(condition.get("Equals", [])),
                    starts_with=tuple(condition.get("StartsWith", [])),
                    ends_with=tuple(condition.get("EndsWith", [])),
                    not_equals=tuple(condition.get("NotEquals", [])),
                    not_starts_with=tuple(condition.get("NotStartsWith", [])),
                    not_ends_with=tuple(condition.get("NotEndsWith", [])),
                )
                for condition in item.get("FieldSelectors", [])
            ),
        )
        for item in found.get("AdvancedEventSelectors") or []
    )
    return Selectors(basic, advanced)


def _notifications(document: dict[str, Any]) -> tuple[Notification, ...]:
    found = []
    for kind, target in (
        ("LambdaFunctionConfigurations", "LambdaFunctionArn"),
        ("QueueConfigurations", "QueueArn"),
        ("TopicConfigurations", "TopicArn"),
    ):
        for item in document.get(kind, []):
            filters = item.get("Filter", {}).get("Key", {}).get("FilterRules", [])
            rules = {rule["Name"].lower(): rule["Value"] for rule in filters}
            events = tuple(item.get("Events", []))
            found.append(Notification(item[target], events, rules.get("prefix", ""), rules.get("suffix", "")))
    return tuple(found)
