"""The function's record of each log file it processed, in the summaries table (contract section 7).
The item layout is `supportwatch.ledger.items`'; this adapter only sends its requests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from supportwatch.aws.clients import error_code
from supportwatch.config import DEFAULT_MARKER_TTL_DAYS
from supportwatch.integrity.digest import Stream, log_key_time
from supportwatch.ledger import items
from supportwatch.models import ObjectRef


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
        """One processed log file. Files CloudTrail did not name are never listed by a digest: not recorded."""
        key = items.log_file_key(ref.key)
        if key is None:
            return
        expires = int(self._clock()) + self._ttl_seconds
        try:
            self._db.put_item(TableName=self._table, **items.log_file_put(key, sha256, size, outcome, expires))
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise

    def hashes(self, keys: Iterable[str]) -> dict[str, str]:
        found = {}
        for key in keys:
            if (item_key := items.log_file_key(key)) is None:
                continue
            item = self._db.get_item(TableName=self._table, Key=item_key, ConsistentRead=True).get("Item")
            if item is not None:
                found[key] = items.log_file_hash(item)
        return found

    def processed(self, stream: Stream, start: datetime, end: datetime) -> list[str]:
        keys = []
        hour = start.replace(minute=0, second=0, microsecond=0)
        while hour < end:
            pages = self._db.get_paginator("query").paginate(
                TableName=self._table, **items.log_files_query(stream, hour)
            )
            for page in pages:
                for item in page["Items"]:
                    when = log_key_time(item["sk"]["S"])
                    if when is not None and start <= when < end:
                        keys.append(item["sk"]["S"])
            hour += timedelta(hours=1)
        return keys
