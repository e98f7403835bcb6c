"""The summaries table: exactly-once commits and reads. The only module that knows the item layout.

Items (pk, sk):
- `IDENTITY#<identity>`, `SUMMARY`         the identity's summary (GSI byPrincipal: rollup, identity)
- `IDENTITY#<identity>`, `DAY#YYYY-MM-DD`  its summary for one UTC day (GSI byDay: day, identity)
- `EVENT#<eventId>`, `EVENT`               the marker of a counted event, expiring after the TTL
- `ALERT#<rule>#<window>#<subject>`, `ALERT` the claim of an alert's window: claimed, then published

Counters (`totalCalls`, `errorCalls`, `call:<eventName>`, `error:<errorCode>`) and the sets are
added in one transaction with the conditional markers of the events they count, so an event is
counted once whatever the retries, redeliveries and concurrency. First/last seen are conditional
updates on their instants (`firstInstant`, `lastInstant`: UTC epoch microseconds, numbers) with the
text as CloudTrail wrote it beside them: repeating them changes nothing.
"""

from __future__ import annotations

import json
import random
import shlex
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from supportwatch.aggregate import CommitResult, SummaryKey, first_by_id, summarize
from supportwatch.aws.clients import error_code
from supportwatch.config import DEFAULT_MARKER_TTL_DAYS
from supportwatch.models import Alert, Summary, SupportEvent

MAX_TRANSACTION_ITEMS = 100
MAX_BATCH_KEYS = 100  # BatchGetItem's limit
CONFLICT_RETRIES = 10
ALERT_LEASE_SECONDS = 960  # longer than any Lambda invocation: a claim this old has no live owner
SUMMARY_SK = "SUMMARY"
DAY_PREFIX = "DAY#"
IDENTITY_PREFIX = "IDENTITY#"
CALL_PREFIX = "call:"
ERROR_PREFIX = "error:"
SETS = {"accountIds": "account_ids", "sourceIps": "source_ips", "regions": "regions"}

_deserialize = TypeDeserializer().deserialize


class CommitFailed(Exception):
    """Transactions kept conflicting; raising lets Lambda retry the whole object."""


def _key(identity: str, day: str | None) -> dict[str, Any]:
    return {
        "pk": {"S": IDENTITY_PREFIX + identity},
        "sk": {"S": SUMMARY_SK if day is None else DAY_PREFIX + day},
    }


def _marker_key(event_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"EVENT#{event_id}"}, "sk": {"S": "EVENT"}}


class _Expression:
    """Builds an update expression with placeholder names and values."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self.adds: list[str] = []
        self.sets: list[str] = []

    def _place(self, name: str, value: Any) -> tuple[str, str]:
        index = len(self.names)
        self.names[f"#n{index}"] = name
        self.values[f":v{index}"] = value
        return f"#n{index}", f":v{index}"

    def add(self, name: str, value: Any) -> None:
        self.adds.append("{} {}".format(*self._place(name, value)))

    def set(self, name: str, value: Any) -> None:
        self.sets.append("{} = {}".format(*self._place(name, value)))

    def request(self) -> dict[str, Any]:
        clauses = [
            f"ADD {', '.join(self.adds)}" if self.adds else "",
            f"SET {', '.join(self.sets)}" if self.sets else "",
        ]
        return {
            "UpdateExpression": " ".join(clause for clause in clauses if clause),
            "ExpressionAttributeNames": self.names,
            "ExpressionAttributeValues": self.values,
        }


def _count_update(delta: Summary) -> dict[str, Any]:
    """Counters and sets of a delta, as one ADD (plus the GSI keys that never change)."""
    expression = _Expression()
    expression.add("totalCalls", {"N": str(delta.total_calls)})
    if delta.error_calls:
        expression.add("errorCalls", {"N": str(delta.error_calls)})
    for prefix, counts in ((CALL_PREFIX, delta.calls), (ERROR_PREFIX, delta.errors)):
        for name, count in counts.items():
            expression.add(prefix + name, {"N": str(count)})
    for attribute, field in SETS.items():
        if values := getattr(delta, field):
            expression.add(attribute, {"SS": sorted(values)})
    expression.set("identity", {"S": delta.identity})
    if delta.day is not None:
        expression.set("day", {"S": delta.day})
    return expression.request()


def _chunks(events: Sequence[SupportEvent]) -> Iterator[list[SupportEvent]]:
    """Groups of events whose markers and summary items fit in one transaction."""
    chunk: list[SupportEvent] = []
    items: set[SummaryKey] = set()
    for event in sorted(events, key=lambda e: (e.identity, e.day, e.event_id)):
        touched = {(event.identity, None), (event.identity, event.day)}
        if chunk and len(chunk) + 1 + len(items | touched) > MAX_TRANSACTION_ITEMS:
            yield chunk
            chunk, items = [], set()
        chunk.append(event)
        items |= touched
    if chunk:
        yield chunk


def _summary_from_item(item: dict[str, Any]) -> Summary:
    plain = {name: _deserialize(value) for name, value in item.items()}
    sk = plain["sk"]
    return Summary(
        identity=plain["identity"],
        day=sk[len(DAY_PREFIX) :] if sk.startswith(DAY_PREFIX) else None,
        identity_type=plain.get("identityType", "Unknown"),
        principal=plain.get("principal", plain["identity"]),
        first_seen=plain.get("firstSeen", ""),
        first_instant=int(plain.get("firstInstant", 0)),
        first_event_id=plain.get("firstEventId", ""),
        last_seen=plain.get("lastSeen", ""),
        last_instant=int(plain.get("lastInstant", 0)),
        total_calls=int(plain.get("totalCalls", 0)),
        calls={k[len(CALL_PREFIX) :]: int(v) for k, v in plain.items() if k.startswith(CALL_PREFIX)},
        error_calls=int(plain.get("errorCalls", 0)),
        errors={k[len(ERROR_PREFIX) :]: int(v) for k, v in plain.items() if k.startswith(ERROR_PREFIX)},
        **{field: set(plain.get(attribute, ())) for attribute, field in SETS.items()},
    )


RETRYABLE_REASONS = {None, "None", "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}


def _claimed(pending: list[SupportEvent], reasons: list[dict[str, Any]]) -> dict[str, str]:
    """eventId -> source, for the markers that already existed (markers lead the transaction)."""
    owners = {}
    for index, reason in enumerate(reasons):
        code = reason.get("Code")
        if code == "ConditionalCheckFailed" and index < len(pending):
            owners[pending[index].event_id] = reason.get("Item", {}).get("source", {}).get("S", "")
        elif code not in RETRYABLE_REASONS:
            raise CommitFailed(f"transaction refused: {code}: {reason.get('Message', '')}")
    return owners


class SummaryStore:
    """Exactly-once summaries in DynamoDB (the pipeline's sink for the Lambda and `local`)."""

    def __init__(
        self,
        dynamodb_client: Any,
        table_name: str,
        marker_ttl_days: int = DEFAULT_MARKER_TTL_DAYS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._db = dynamodb_client
        self.table_name = table_name
        self._ttl_seconds = marker_ttl_days * 86400
        self._clock = clock
        self._sleep = sleep

    def commit(self, source: str, events: Sequence[SupportEvent]) -> CommitResult:
        """Count the events no other object counted; safe to repeat for the same `source`."""
        unique = first_by_id(events)
        counted = 0
        ours: list[SupportEvent] = []
        for chunk in _chunks(unique):
            newly, already_ours = self._count(source, chunk)
            counted += len(newly)
            ours += newly + already_ours
        for delta in summarize(ours).values():
            self._stretch(delta)
        return CommitResult(counted=counted, duplicates=len(events) - counted, ours=tuple(ours))

    def _count(self, source: str, chunk: list[SupportEvent]) -> tuple[list[SupportEvent], list[SupportEvent]]:
        """Commit a chunk's counters with its markers; returns (counted now, counted earlier by `source`)."""
        pending = chunk
        already_ours: list[SupportEvent] = []
        conflicts = 0
        while pending:
            try:
                self._db.transact_write_items(TransactItems=self._transaction(source, pending))
                return pending, already_ours
            except ClientError as error:
                if error_code(error) != "TransactionCanceledException":
                    raise
                owners = _claimed(pending, error.response.get("CancellationReasons", []))
            if owners:  # drop events whose markers exist; ours if an earlier attempt of `source` wrote them
                already_ours += [event for event in pending if owners.get(event.event_id) == source]
                pending = [event for event in pending if event.event_id not in owners]
                continue
            conflicts += 1  # another transaction held the same items: back off and try again
            if conflicts == CONFLICT_RETRIES:
                raise CommitFailed(f"transaction kept conflicting after {conflicts} tries")
            self._sleep(min(2.0, 0.05 * 2**conflicts) * random.uniform(0.5, 1.0))
        return [], already_ours

    def _transaction(self, source: str, events: list[SupportEvent]) -> list[dict[str, Any]]:
        expires = str(int(self._clock()) + self._ttl_seconds)
        markers = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {
                        **_marker_key(event.event_id),
                        "source": {"S": source},
                        "expiresAt": {"N": expires},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
            for event in events
        ]
        updates = [
            {"Update": {"TableName": self.table_name, "Key": _key(*key), **_count_update(delta)}}
            for key, delta in summarize(events).items()
        ]
        return markers + updates

    def _stretch(self, delta: Summary) -> None:
        """Move first/last seen (and the type and principal the first event decides) outwards."""
        first = _Expression()
        first.set("firstInstant", {"N": str(delta.first_instant)})
        first.set("firstEventId", {"S": delta.first_event_id})
        first.set("firstSeen", {"S": delta.first_seen})
        first.set("identityType", {"S": delta.identity_type})
        first.set("principal", {"S": delta.principal})
        if delta.day is None:
            first.set("rollup", {"S": delta.principal})
        self._conditional_update(
            delta,
            first,
            "attribute_not_exists(#n0) OR #n0 > :v0 OR (#n0 = :v0 AND #n1 > :v1)",
        )
        last = _Expression()
        last.set("lastInstant", {"N": str(delta.last_instant)})
        last.set("lastSeen", {"S": delta.last_seen})
        self._conditional_update(delta, last, "attribute_not_exists(#n0) OR #n0 < :v0 OR (#n0 = :v0 AND #n1 < :v1)")

    def _conditional_update(self, delta: Summary, expression: _Expression, condition: str) -> None:
        self._conditionally(
            self._db.update_item,
            TableName=self.table_name,
            Key=_key(delta.identity, delta.day),
            ConditionExpression=condition,
            **expression.request(),
        )

    @staticmethod
    def _conditionally(write: Callable[..., Any], **request: Any) -> bool:
        """Make a conditional write; False when its condition did not hold (nothing was written)."""
        try:
            write(**request)
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def day_calls(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Calls of each (identity, day) as stored now (strongly consistent reads)."""
        calls: dict[tuple[str, str], int] = {}
        for identity, day in keys:
            item = self._db.get_item(
                TableName=self.table_name,
                Key=_key(identity, day),
                ConsistentRead=True,
                ProjectionExpression="totalCalls",
            ).get("Item")
            if item:
                calls[(identity, day)] = int(item["totalCalls"]["N"])
        return calls

    def claim(self, alert: Alert, owner: str) -> bool:
        """Take the alert's window for `owner`: new, already `owner`'s, or left unpublished past its lease."""
        now = int(self._clock())
        item = {
            "pk": {"S": f"ALERT#{alert.claim_key}"},
            "sk": {"S": "ALERT"},
            "state": {"S": "claimed"},
            "owner": {"S": owner},
            "claimedAt": {"N": str(now)},
            "title": {"S": alert.title},
        }
        if alert.window != "ever":
            item["expiresAt"] = {"N": str(now + self._ttl_seconds)}
        return self._conditionally(
            self._db.put_item,
            TableName=self.table_name,
            Item=item,
            ConditionExpression=(
                "attribute_not_exists(pk) OR (#state = :claimed AND (#owner = :owner OR claimedAt < :stale))"
            ),
            ExpressionAttributeNames={"#state": "state", "#owner": "owner"},
            ExpressionAttributeValues={
                ":claimed": {"S": "claimed"},
                ":owner": {"S": owner},
                ":stale": {"N": str(now - ALERT_LEASE_SECONDS)},
            },
        )

    def published(self, alert: Alert, owner: str) -> None:
        """Record the alert as published, unless another owner took the claim over meanwhile."""
        self._conditionally(
            self._db.update_item,
            TableName=self.table_name,
            Key={"pk": {"S": f"ALERT#{alert.claim_key}"}, "sk": {"S": "ALERT"}},
            UpdateExpression="SET #state = :published, publishedAt = :now",
            ConditionExpression="#owner = :owner",
            ExpressionAttributeNames={"#state": "state", "#owner": "owner"},
            ExpressionAttributeValues={
                ":published": {"S": "published"},
                ":now": {"N": str(int(self._clock()))},
                ":owner": {"S": owner},
            },
        )

    def lookup_command(self, identity: str) -> str:
        """An `aws dynamodb query` line that shows an identity's summary and day-by-day history."""
        values = json.dumps({":pk": {"S": IDENTITY_PREFIX + identity}})
        return (
            f"aws dynamodb query --table-name {shlex.quote(self.table_name)} "
            f"--key-condition-expression 'pk = :pk' --expression-attribute-values {shlex.quote(values)}"
        )

    def identities(self) -> list[Summary]:
        """Every per-identity summary in the table."""
        return [_summary_from_item(item) for item in self._scan_summaries(SUMMARY_SK)]

    def days(self) -> list[Summary]:
        """Every per-identity-per-day summary in the table."""
        return [_summary_from_item(item) for item in self._scan_summaries(DAY_PREFIX, prefix=True)]

    def between(self, since: str, until: str) -> list[Summary]:
        """The per-day summaries of the UTC days since..until, both included (index byDay, a Query per day)."""
        first, last = date.fromisoformat(since), date.fromisoformat(until)
        days = (first + timedelta(days=n) for n in range((last - first).days + 1))
        return [summary for day in days for summary in self.on_day(day.isoformat())]

    def summaries_of(self, identities: Iterable[str]) -> list[Summary]:
        """The per-identity summaries of these identities (BatchGetItem, 100 keys a request)."""
        keys = [_key(identity, None) for identity in sorted(set(identities))]
        found: list[Summary] = []
        for start in range(0, len(keys), MAX_BATCH_KEYS):
            request = {self.table_name: {"Keys": keys[start : start + MAX_BATCH_KEYS], "ConsistentRead": True}}
            for attempt in range(CONFLICT_RETRIES):
                response = self._db.batch_get_item(RequestItems=request)
                found += map(_summary_from_item, response["Responses"].get(self.table_name, []))
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                self._sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))
            else:
                raise RuntimeError(f"BatchGetItem left keys unprocessed after {CONFLICT_RETRIES} tries")
        return found

    def _scan_summaries(self, sk: str, prefix: bool = False) -> Iterator[dict[str, Any]]:
        condition = "begins_with(sk, :sk)" if prefix else "sk = :sk"
        paginator = self._db.get_paginator("scan")
        for page in paginator.paginate(
            TableName=self.table_name,
            FilterExpression=f"{condition} AND begins_with(pk, :pk)",
            ExpressionAttributeValues={":sk": {"S": sk}, ":pk": {"S": IDENTITY_PREFIX}},
        ):
            yield from page["Items"]

    def _query(self, **request: Any) -> Iterator[dict[str, Any]]:
        for page in self._db.get_paginator("query").paginate(TableName=self.table_name, **request):
            yield from page["Items"]

    def history(self, identity: str) -> tuple[Summary | None, list[Summary]]:
        """One identity's summary and its per-day summaries, oldest day first (one Query)."""
        items = self._query(
            KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": IDENTITY_PREFIX + identity}}
        )
        summary, days = None, []
        for found in map(_summary_from_item, items):
            if found.day is None:
                summary = found
            else:
                days.append(found)
        return summary, sorted(days, key=lambda day: day.day or "")

    def sessions(self, principal: str) -> list[Summary]:
        """The summaries of every identity that rolls up to `principal` (index byPrincipal)."""
        items = self._query(
            IndexName="byPrincipal",
            KeyConditionExpression="#rollup = :rollup",
            ExpressionAttributeNames={"#rollup": "rollup"},
            ExpressionAttributeValues={":rollup": {"S": principal}},
        )
        return [_summary_from_item(item) for item in items]

    def on_day(self, day: str, errors_only: bool = False) -> list[Summary]:
        """The per-day summaries of every identity active on `day` (index byDay)."""
        request: dict[str, Any] = {
            "IndexName": "byDay",
            "KeyConditionExpression": "#day = :day",
            "ExpressionAttributeNames": {"#day": "day"},
            "ExpressionAttributeValues": {":day": {"S": day}},
        }
        if errors_only:
            request["FilterExpression"] = "errorCalls > :zero"
            request["ExpressionAttributeValues"][":zero"] = {"N": "0"}
        return [_summary_from_item(item) for item in self._query(**request)]
