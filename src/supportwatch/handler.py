"""Lambda entry point: any trigger envelope -> pipeline for each object -> the response it expects.

- Asynchronous envelopes (S3, SNS, EventBridge, CloudTrail's notification) answer `{"reports": [...]}`;
  objects that fail transiently are retried by raising at the end (Lambda's async retries, then the
  on-failure destination); the exactly-once store makes reprocessing the others harmless.
- SQS batches answer `{"batchItemFailures": [...]}` (Powertools' batch utility): only the messages
  whose objects failed transiently, or that could not be read as a notification, are redelivered.
- S3 Batch Operations get one result code per task: `Succeeded`, `TemporaryFailure` (transient
  errors: Batch Operations retries) or `PermanentFailure` (unreadable or unavailable objects).

Cold start: Powertools' Tracer imports the X-Ray SDK even when tracing is off, so it is built only
when tracing is on; the batch utility and data classes are imported when their envelope arrives.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice

from supportwatch.alerting import Alerting
from supportwatch.aws.clients import client
from supportwatch.aws.digests import integrity_parts
from supportwatch.aws.findings import alert_routes
from supportwatch.aws.notify import SnsPublisher
from supportwatch.aws.objects import S3Objects
from supportwatch.aws.seals import Sealer
from supportwatch.aws.store import SummaryStore
from supportwatch.config import Settings
from supportwatch.findings.asff import finding_id
from supportwatch.findings.routes import RoutedPublisher
from supportwatch.models import Alert, ObjectRef
from supportwatch.pipeline import ObjectReport, Processor
from supportwatch.privacy import IdentityMode, Pseudonymizer
from supportwatch.privacy.seals import key_home
from supportwatch.triggers import BatchOperationsJob, Objects, QueueBatch, UnknownEnvelope, message_refs, parse

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

Handler = Callable[[dict[str, Any], "LambdaContext"], dict[str, Any]]

logger = Logger()
metrics = Metrics()

OUTCOME_METRICS = {
    "counted": "ObjectsProcessed",
    "skipped": "ObjectsSkipped",
    "unreadable": "ObjectsUnreadable",
    "unavailable": "ObjectsUnavailable",
    "digest": "DigestsChecked",
}


class ObjectsFailed(RuntimeError):
    """Some objects could not be processed; the invocation is retried."""

    @classmethod
    def of(cls, failed: list[str], total: int) -> ObjectsFailed:
        return cls(f"{len(failed)} of {total} objects failed: {', '.join(failed[:5])}")


@cache
def processor() -> Processor:
    """Settings and clients, built once per execution environment."""
    settings = Settings.from_env()
    store = SummaryStore(
        client("dynamodb"), settings.table_name, settings.marker_ttl_days, retention_days=settings.retention_days
    )
    privacy = pseudonymizer(settings.pseudonym_key_secret)
    store.settle_identity_mode(IdentityMode.of(privacy and privacy.fingerprint))
    topic = SnsPublisher(client("sns"), settings.topic_arn, store)
    publisher = RoutedPublisher(topic, alert_routes(settings, client, store), refused=report_refused)
    log_book, digests = integrity_parts(
        settings, client("s3"), client("dynamodb"), lambda region: client("cloudtrail", region_name=region)
    )
    return Processor(
        fetch=S3Objects(client("s3")).read,
        sink=store,
        alerting=Alerting(store, publisher),
        alert_settings=settings.alerts,
        max_bytes=settings.max_decompressed_bytes,
        exact_max_bytes=settings.exact_max_bytes,
        log_book=log_book,
        digests=digests,
        privacy=privacy,
        sealer=sealer(settings.reveal_key_id, store, privacy),
        reveal_home=key_home(settings.reveal_key_id),
        services=settings.watched_services,
    )


def report_refused(route: str, refused: dict[Alert, str]) -> None:
    """A route (Security Hub, EventBridge, chat) refused alerts after its retries: they stay published
    on the topic; one error line (the AlertsNotRouted alarm watches its metric)."""
    metrics.add_metric(name="AlertsNotRouted", unit=MetricUnit.Count, value=len(refused))
    logger.error(
        f"{len(refused)} alerts not delivered to {route}; they are on the alert topic",
        extra={
            "route": route,
            "reason": next(iter(refused.values())),
            "alerts": [{"rule": alert.rule, "window": alert.window, "id": finding_id(alert)} for alert in refused],
        },
    )


def sealer(key_id: str, store: SummaryStore, privacy: Pseudonymizer | None) -> Sealer | None:
    """Contract section 10: each new identity sealed under the stack's reveal key; None in plain mode."""
    return Sealer(lambda: client("kms"), key_id, store, privacy) if privacy is not None and key_id else None


def pseudonymizer(secret_id: str) -> Pseudonymizer | None:
    """Contract section 10: the pseudonyms of the key in `secret_id` (Secrets Manager, read once per cold
    start); None in plain mode, which loads nothing of it."""
    if not secret_id:
        return None
    from supportwatch.aws.secrets import pseudonym_key

    return Pseudonymizer(pseudonym_key(secret_id))


def log_report(report: ObjectReport) -> None:
    """One structured log line and the metrics of a processed object."""
    metrics.add_metric(name=OUTCOME_METRICS[report.outcome], unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="Entries", unit=MetricUnit.Count, value=report.entries)
    metrics.add_metric(name="SupportEvents", unit=MetricUnit.Count, value=report.support_events)
    metrics.add_metric(name="EventsCounted", unit=MetricUnit.Count, value=report.counted)
    metrics.add_metric(name="SkippedEntries", unit=MetricUnit.Count, value=report.skipped_entries)
    metrics.add_metric(name="AlertsPublished", unit=MetricUnit.Count, value=report.alerts)
    for rule, count in Counter(report.alert_rules).items():  # one EMF document per rule: its own dimension
        by_rule = EphemeralMetrics()  # unlike single_metric, honours POWERTOOLS_METRICS_DISABLED
        by_rule.add_dimension(name="rule", value=rule)
        by_rule.add_metric(name="AlertsByRule", unit=MetricUnit.Count, value=count)
        by_rule.flush_metrics()
    log_service_metrics(report)
    if report.outcome in ("unreadable", "unavailable"):
        logger.error(f"log object {report.outcome}", extra=report.fields())
    elif report.skipped_entries:
        logger.warning("skipped entries that are not well-formed records", extra=report.fields())
    else:
        logger.info(f"log object {report.outcome}", extra=report.fields())


def log_service_metrics(report: ObjectReport) -> None:
    """Contract section 12: with more than support watched, one EMF document per service the object held
    events or raised alerts of (dimension `watched`); with support alone, none."""
    events, alerts = dict(report.service_events), Counter(report.alert_services)
    for service in sorted(events.keys() | alerts.keys()):
        by_service = EphemeralMetrics()
        by_service.add_dimension(name="watched", value=service)
        if events.get(service):
            by_service.add_metric(name="ServiceEvents", unit=MetricUnit.Count, value=events[service])
        if alerts[service]:
            by_service.add_metric(name="ServiceAlerts", unit=MetricUnit.Count, value=alerts[service])
        by_service.flush_metrics()


def process_all(refs: list[ObjectRef], owner: str) -> tuple[list[ObjectReport], list[str]]:
    """Every object, each on its own: the reports, and a one-line description of each transient failure."""
    reports, failed = [], []
    for ref in refs:
        try:
            report = processor().process(ref, owner=owner)
        except Exception as error:
            logger.exception("log object failed; it will be retried", extra={"bucket": ref.bucket, "key": ref.key})
            failed.append(f"{ref.uri} ({type(error).__name__}: {error})")
            continue
        log_report(report)
        reports.append(report)
    return reports, failed


def answer_objects(trigger: Objects, context: LambdaContext) -> dict[str, Any]:
    reports, failed = process_all(trigger.refs, context.aws_request_id)
    if failed:
        raise ObjectsFailed.of(failed, len(trigger.refs))
    return {"reports": [report.fields() for report in reports]}


def answer_queue(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    def message(record: SQSRecord) -> list[dict[str, Any]]:
        try:
            refs = message_refs(record.body)
        except UnknownEnvelope as error:
            logger.error(
                "unknown message; it will be redelivered", extra={"messageId": record.message_id, "reason": str(error)}
            )
            raise
        # The message id names the attempt for alert claims: it stays the same across redeliveries.
        reports, failed = process_all(refs, f"sqs:{record.message_id}")
        if failed:
            raise ObjectsFailed.of(failed, len(refs))
        return [report.fields() for report in reports]

    batch = BatchProcessor(event_type=EventType.SQS)
    return dict(process_partial_response(event=event, record_handler=message, processor=batch, context=context))


BATCH_RESULT = {"counted": "Succeeded", "skipped": "Succeeded", "digest": "Succeeded", "unreadable": "PermanentFailure"}


def answer_batch_operations(job: BatchOperationsJob, context: LambdaContext) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.data_classes.s3_batch_operation_event import (
        S3BatchOperationResponse,
        S3BatchOperationResponseRecord,
    )

    results = []
    for task in job.tasks:
        reports, failed = process_all([task.ref], context.aws_request_id)
        if failed:
            result = S3BatchOperationResponseRecord(
                task.task_id, "TemporaryFailure", f"transient error: {failed[0][:900]}"
            )
        else:
            (report,) = reports
            code = BATCH_RESULT.get(report.outcome, "PermanentFailure")
            detail = report.reason or f"{report.counted} of {report.support_events} support events counted"
            result = S3BatchOperationResponseRecord(task.task_id, code, f"{report.outcome}: {detail}")
        results.append(result)
    # Keys missing from the results (none are) would be failures, not silent successes.
    response = S3BatchOperationResponse(job.schema_version, job.invocation_id, "PermanentFailure", results)
    if len(results) == 1:
        return response.asdict()
    # Batch Operations sends one task per invocation; Powertools' asdict() insists on exactly one.
    return {
        "invocationSchemaVersion": response.invocation_schema_version,
        "treatMissingKeysAs": response.treat_missing_keys_as,
        "invocationId": response.invocation_id,
        "results": [result.asdict() for result in results],
    }


def tracing_enabled() -> bool:
    """Powertools' own rule: inside Lambda (not SAM local) unless POWERTOOLS_TRACE_DISABLED is true.

    The template sets POWERTOOLS_TRACE_DISABLED from its `Tracing` parameter (Active or PassThrough).
    """
    disabled = resolve_truthy_env_var_choice(env=os.getenv("POWERTOOLS_TRACE_DISABLED", "false"))
    return bool(os.getenv("LAMBDA_TASK_ROOT")) and not os.getenv("AWS_SAM_LOCAL") and not disabled


def traced(handler: Handler) -> Handler:
    """The handler inside an X-Ray segment of Powertools' Tracer when tracing is on, else untouched."""
    return Tracer().capture_lambda_handler(handler) if tracing_enabled() else handler


@logger.inject_lambda_context(clear_state=True)
@traced
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    processor()  # settings are validated before anything else, whatever the envelope
    try:
        trigger = parse(event)
    except UnknownEnvelope as error:
        logger.error("unknown trigger envelope", extra={"reason": str(error)})
        raise
    if isinstance(trigger, QueueBatch):
        logger.append_keys(trigger="sqs")
        return answer_queue(event, context)
    if isinstance(trigger, BatchOperationsJob):
        logger.append_keys(trigger=f"s3-batch-operations-{trigger.schema_version}")
        return answer_batch_operations(trigger, context)
    logger.append_keys(trigger=trigger.envelope)
    return answer_objects(trigger, context)
