"""Publishing alerts to the SNS topic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from supportwatch.messages import query_command, sns_message
from supportwatch.models import Alert

BATCH = 10  # PublishBatch's limit


class Table(Protocol):
    """What an email needs of the summaries table to tell how to look an identity up."""

    table_name: str

    def lookup_command(self, identity: str) -> str: ...


class SnsPublisher:
    """The pipeline's Publisher: one Publish, or PublishBatch when several alerts leave together."""

    def __init__(self, sns_client: Any, topic_arn: str, table: Table) -> None:
        self._sns = sns_client
        self.topic_arn = topic_arn
        self._table = table

    def dig_in(self, alert: Alert) -> tuple[str, ...]:
        """The commands that look the alert's identity up in the table (none without an identity)."""
        if not alert.identity:
            return ()
        region = self._sns.meta.region_name  # the table's too: both clients come from one configuration
        identity = alert.identity
        query = query_command(self._table.table_name, region, identity, alert.service)
        return query, self._table.lookup_command(identity)

    def _message(self, alert: Alert) -> dict[str, Any]:
        return sns_message(alert, self.dig_in(alert))

    def publish(self, alerts: Sequence[Alert]) -> dict[Alert, str]:
        failed: dict[Alert, str] = {}
        for start in range(0, len(alerts), BATCH):
            failed |= self._publish(list(alerts[start : start + BATCH]))
        return failed

    def _publish(self, alerts: list[Alert]) -> dict[Alert, str]:
        try:
            if len(alerts) == 1:
                self._sns.publish(TopicArn=self.topic_arn, **self._message(alerts[0]))
                return {}
            entries = [{"Id": str(number), **self._message(alert)} for number, alert in enumerate(alerts)]
            response = self._sns.publish_batch(TopicArn=self.topic_arn, PublishBatchRequestEntries=entries)
        except (BotoCoreError, ClientError) as error:
            return dict.fromkeys(alerts, str(error))
        return {
            alerts[int(entry["Id"])]: f"{entry.get('Code')}: {entry.get('Message', '')}"
            for entry in response.get("Failed", [])
        }
