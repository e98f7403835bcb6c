"""Lambda entry point: S3 notification -> pipeline for each object -> response.

Objects that fail transiently are retried by raising at the end (Lambda's async retries, then the
on-failure destination); the exactly-once store makes reprocessing the others harmless.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from supportwatch.alerting import Alerting
from supportwatch.aws.clients import client
from supportwatch.aws.notify import SnsPublisher
from supportwatch.aws.objects import S3Objects
from supportwatch.aws.store import SummaryStore
from supportwatch.config import Settings
from supportwatch.pipeline import ObjectReport, Processor
from supportwatch.triggers import object_refs

logger = Logger()
metrics = Metrics()
tracer = Tracer()

OUTCOME_METRICS = {
    "counted": "ObjectsProcessed",
    "skipped": "ObjectsSkipped",
    "unreadable": "ObjectsUnreadable",
    "unavailable": "ObjectsUnavailable",
}


class ObjectsFailed(RuntimeError):
    """Some objects could not be processed; the invocation is retried."""


@cache
def processor() -> Processor:
    """Settings and clients, built once per execution environment."""
    settings = Settings.from_env()
    store = SummaryStore(client("dynamodb"), settings.table_name, settings.marker_ttl_days)
    publisher = SnsPublisher(client("sns"), settings.topic_arn, store.lookup_command)
    return Processor(
        fetch=S3Objects(client("s3")).read,
        sink=store,
        alerting=Alerting(store, publisher),
        alert_settings=settings.alerts,
        max_bytes=settings.max_decompressed_bytes,
    )


def record(report: ObjectReport) -> None:
    """One structured log line and the metrics of a processed object."""
    metrics.add_metric(name=OUTCOME_METRICS[report.outcome], unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="Entries", unit=MetricUnit.Count, value=report.entries)
    metrics.add_metric(name="SupportEvents", unit=MetricUnit.Count, value=report.support_events)
    metrics.add_metric(name="EventsCounted", unit=MetricUnit.Count, value=report.counted)
    metrics.add_metric(name="SkippedEntries", unit=MetricUnit.Count, value=report.skipped_entries)
    metrics.add_metric(name="AlertsPublished", unit=MetricUnit.Count, value=report.alerts)
    if report.outcome in ("unreadable", "unavailable"):
        logger.error(f"log object {report.outcome}", extra=report.fields())
    elif report.skipped_entries:
        logger.warning("skipped entries that are not well-formed records", extra=report.fields())
    else:
        logger.info(f"log object {report.outcome}", extra=report.fields())


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    found = processor()
    refs = object_refs(event)
    failed = []
    reports = []
    for ref in refs:
        try:
            report = found.process(ref, owner=context.aws_request_id)
        except Exception as error:
            logger.exception("log object failed; it will be retried", extra={"bucket": ref.bucket, "key": ref.key})
            failed.append(f"{ref.uri} ({error})")
            continue
        record(report)
        reports.append(report.fields())
    if failed:
        raise ObjectsFailed(f"{len(failed)} of {len(refs)} objects failed: {', '.join(failed[:5])}")
    return {"reports": reports}
