"""The function's record of each log file it processed, in the summaries table (contract section 7).

Kept apart from aws/store.py until the table's item layout moves into one `ledger/` package.

Items (pk, sk):
- `LOGFILE#<account folder><region>#<YYYY-MM-DDTHH>`, `<key>`: one processed log file, in the
  partition of its account, region and the UTC hour its name carries; `sha256` (uncompressed
  content), `size` (object bytes), `outcome`, `expiresAt` (TTL). A digest finds its files by key
  (GetItem), the late check finds an hour's files with one Query.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from supportwatch.aws.clients import error_code
from supportwatch.config import DEFAULT_MARKER_TTL_DAYS
from supportwatch.integrity.digest import Stream, log_key_time, stream_of
from supportwatch.models import ObjectRef

PREFIX = "LOGFILE#"


def _partition(stream: Stream, hour: datetime) -> str:
    return f"{PREFIX}{stream.account_folder}{stream.region}#{hour:%Y-%m-%dT%H}"


def _item_key(key: str) -> dict[str, Any] | None:
    stream, when = stream_of(key), log_key_time(key)
    if stream is None or when is None:
        return None
    return {"pk": {"S": _partition(stream, when)}, "sk": {"S": key}}


class LogBook:
    """Records processed log files; answers a digest's questions about them."""

    def __init__(
        self,
        dynamodb_client: Any,
        table_name: str,
        ttl_days: int = DEFAULT_MARKER_TTL_DAYS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = dynamodb_client
        self._table = table_name
        self._ttl_seconds = ttl_days * 86400
        self._clock = clock

    def record(self, ref: ObjectRef, sha256: str | None, size: int, outcome: str) -> None:
        """One processed log file (a redelivery writes the same item again). Files CloudTrail did not
        name (no account, region and time in the key) are never listed by a digest: not recorded."""
        key = _item_key(ref.key)
        if key is None:
            return
        item = {
            **key,
            "size": {"N": str(size)},
            "outcome": {"S": outcome},
            "expiresAt": {"N": str(int(self._clock()) + self._ttl_seconds)},
        }
        values = {":outcome": {"S": outcome}, ":size": item["size"]}
        same = "outcome = :outcome AND #size = :size AND attribute_not_exists(sha256)"
        if sha256:
            item["sha256"] = values[":sha256"] = {"S": sha256}
            same = "outcome = :outcome AND #size = :size AND sha256 = :sha256"
        try:  # the same file again (a redelivery, a second backfill) changes nothing, not even the TTL
            self._db.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression=f"attribute_not_exists(pk) OR NOT ({same})",
                ExpressionAttributeNames={"#size": "size"},
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise

    def hashes(self, keys: Iterable[str]) -> dict[str, str]:
        found = {}
        for key in keys:
            if (item_key := _item_key(key)) is None:
                continue
            item = self._db.get_item(TableName=self._table, Key=item_key, ConsistentRead=True).get("Item")
            if item is not None:
                found[key] = item.get("sha256", {}).get("S", "unreadable")
        return found

    def processed(self, stream: Stream, start: datetime, end: datetime) -> list[str]:
        keys = []
        hour = start.replace(minute=0, second=0, microsecond=0)
        while hour < end:
            pages = self._db.get_paginator("query").paginate(
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": _partition(stream, hour)}},
                ProjectionExpression="sk",
            )
            for page in pages:
                for item in page["Items"]:
                    when = log_key_time(item["sk"]["S"])
                    if when is not None and start <= when < end:
                        keys.append(item["sk"]["S"])
            hour += timedelta(hours=1)
        return keys
