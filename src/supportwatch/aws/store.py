"""The summaries table: exactly-once commits and reads (the boto3 adapter of `supportwatch.ledger`).

The item layout lives in `supportwatch.ledger.items`; this module only sends its requests. Counters
are added in one transaction with the conditional markers of the events they count, so an event is
counted once whatever the retries, redeliveries and concurrency.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import date
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from supportwatch.aggregate import CommitResult, DayKey, first_by_id, summarize
from supportwatch.aws.clients import error_code
from supportwatch.config import DEFAULT_MARKER_TTL_DAYS
from supportwatch.decoding.instants import utc_day
from supportwatch.ledger import items
from supportwatch.ledger.commits import CommitFailed, chunks, existing_markers
from supportwatch.models import Alert, Summary, SupportEvent
from supportwatch.privacy.mode import IdentityMode, settle

MAX_BATCH_KEYS = 100  # BatchGetItem's limit
CONFLICT_RETRIES = 10
ALERT_LEASE_SECONDS = 960  # longer than any Lambda invocation: a claim this old has no live owner
# Rounds of botocore's retries given to recording a sent alert (failing there would send it again).
RECORD_ROUNDS = 3
FEW_YEARS = 3  # a period read over more calendar years than this is first bounded by the days held

__all__ = ["ALERT_LEASE_SECONDS", "CONFLICT_RETRIES", "CommitFailed", "SummaryStore"]


class SummaryStore:
    """Exactly-once summaries in DynamoDB (the pipeline's sink for the Lambda and `local`)."""

    def __init__(
        self,
        dynamodb_client: Any,
        table_name: str,
        marker_ttl_days: int = DEFAULT_MARKER_TTL_DAYS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        retention_days: int = 0,
    ) -> None:
        self._db = dynamodb_client
        self.table_name = table_name
        self._ttl_seconds = marker_ttl_days * 86400
        self._retention = retention_days
        self._clock = clock
        self._sleep = sleep
        self._held: tuple[str, str] | tuple[()] | None = None  # the first and last day held, once read

    def commit(self, source: str, events: Sequence[SupportEvent]) -> CommitResult:
        """Count the events no other object counted; safe to repeat for the same `source`."""
        unique = first_by_id(events)
        if not unique:  # (most log objects hold no support event: they leave nothing behind)
            return CommitResult(counted=0, duplicates=0, ours=())
        ids = [event.event_id for event in unique]
        record = items.object_key(source, ids)
        if self._db.get_item(TableName=self.table_name, Key=record, ConsistentRead=True).get("Item"):
            # This content was counted whole before (its markers may have expired since): count nothing,
            # raise its alerts again (their claims never expire, so a published window stays published).
            return CommitResult(counted=0, duplicates=len(events), ours=tuple(unique))
        counted = 0
        ours: list[SupportEvent] = []
        for chunk in chunks(unique):
            newly, already_ours = self._count(source, chunk)
            counted += len(newly)
            ours += newly + already_ours
        # The transactions wrote the bounds of new items; the bounds read back tell which updates remain.
        deltas = summarize(ours)
        keys = [items.summary_key(*key) for key in deltas]
        stored = {items.bounds_key(item): item for item in self._batch_get(keys, items.BOUNDS)}
        for key, delta in deltas.items():
            for update in items.stretch_updates(delta, stored.get(key), self._retention):
                self._conditionally(self._db.update_item, TableName=self.table_name, **update)
            if self._retention and delta.day is None:
                self._raise_members(delta.identity, items.latest_instant(delta, stored.get(key)))
        self._db.put_item(TableName=self.table_name, Item=items.object_item(source, ids, int(self._clock())))
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
                updates = list(summarize(pending))
                reasons = error.response.get("CancellationReasons", [])
                existing, expired = existing_markers(pending, reasons, updates)
            for identity in expired:
                self._purge_expired(identity)
            if existing:  # drop events whose markers exist; ours if an earlier attempt of `source` wrote them
                already_ours += [
                    e for e in pending if e.event_id in existing and items.marker_source(existing[e.event_id]) == source
                ]
                pending = [event for event in pending if event.event_id not in existing]
                continue
            if expired:
                continue
            conflicts += 1  # another transaction held the same items: back off and try again
            if conflicts == CONFLICT_RETRIES:
                raise CommitFailed(f"transaction kept conflicting after {conflicts} tries")
            self._sleep(min(2.0, 0.05 * 2**conflicts) * random.uniform(0.5, 1.0))
        return [], already_ours

    def _transaction(self, source: str, events: list[SupportEvent]) -> list[dict[str, Any]]:
        now = int(self._clock())
        expires = now + self._ttl_seconds
        markers = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": items.marker_item(event, source, expires),
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
            for event in events
        ]
        deltas = summarize(events).values()
        updates = [
            {"Update": {"TableName": self.table_name, **items.count_update(delta, self._retention, now)}}
            for delta in deltas
        ]
        members = [
            {"Put": {"TableName": self.table_name, "Item": member}}
            for delta in deltas
            for member in items.member_puts(delta, self._retention)
        ]
        models = [
            {"Update": {"TableName": self.table_name, **update}}
            for delta in deltas
            for update in items.model_updates(delta, self._retention)
        ]
        return markers + updates + members + models

    def _purge_expired(self, identity: str) -> None:
        """Delete an expired identity summary TTL has not deleted yet, its members first (a crash
        half-way leaves it expired, so the next commit purges the rest): new counts start afresh."""
        for key in self._query(**items.whole_members_query(identity)):
            self._db.delete_item(TableName=self.table_name, Key=key)
        request = items.expired_delete(identity, int(self._clock()))
        self._conditionally(self._db.delete_item, TableName=self.table_name, **request)

    def _raise_members(self, identity: str, last_instant: int) -> None:
        """Move the expiry of an identity summary's members out to its last seen's (one Query on its
        partition; an update only for those behind, at most once a day each)."""
        expires = items.members_expiry(last_instant, self._retention)
        for key in self._query(**items.stale_members_query(identity, expires)):
            self._conditionally(self._db.update_item, TableName=self.table_name, **items.raise_expiry(key, expires))

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

    def day_calls(self, keys: Iterable[DayKey]) -> dict[DayKey, int]:
        """Calls of each (identity, day, service) as stored now (a strongly consistent read per day item)."""
        by_day: dict[tuple[str, str], list[str]] = {}
        for identity, day, service in keys:
            by_day.setdefault((identity, day), []).append(service)
        calls: dict[DayKey, int] = {}
        for (identity, day), services in by_day.items():
            request = items.day_calls_request(identity, day)
            if item := self._db.get_item(TableName=self.table_name, **request).get("Item"):
                calls |= {(identity, day, service): items.calls_of(item, service) for service in services}
        return calls

    def claim(self, alert: Alert, owner: str) -> bool:
        """Take the alert's window for `owner`: new, already `owner`'s, or left unpublished past its lease."""
        request = items.claim_request(alert, owner, int(self._clock()), ALERT_LEASE_SECONDS)
        return self._conditionally(self._db.put_item, TableName=self.table_name, **request)

    def published(self, alert: Alert, owner: str) -> None:
        """Record the alert as published (kept for the export), unless another owner took the claim over.

        The alert is already out: a failure here fails the attempt, whose retry sends it again, so the
        record outlasts a throttle or an outage longer than one round of botocore's retries."""
        update = items.published_update(alert, owner, int(self._clock()))
        for round_ in range(1, RECORD_ROUNDS + 1):
            try:
                self._conditionally(self._db.update_item, TableName=self.table_name, **update)
                return
            except (BotoCoreError, ClientError):
                if round_ == RECORD_ROUNDS:
                    raise
                self._sleep(random.uniform(1, 2) * round_)

    def release(self, alert: Alert, owner: str) -> None:
        """Give up `owner`'s unpublished claim, so the next attempt by anyone publishes at once."""
        self._conditionally(self._db.delete_item, TableName=self.table_name, **items.release_request(alert, owner))

    def pending(self, alert: Alert) -> bool:
        """Whether the alert's window is claimed and not published yet (a strongly consistent read)."""
        found = self._db.get_item(TableName=self.table_name, **items.claim_state_request(alert)).get("Item")
        return items.is_unpublished(found)

    def alerts(self) -> list[dict[str, Any]]:
        """Every published alert, as it was sent (index listing)."""
        return [items.alert_from_item(item) for item in self._query(**items.listing_query(items.LISTED_ALERT))]

    def lookup_command(self, identity: str) -> str:
        """An `aws dynamodb query` line that shows an identity's summary and day-by-day history."""
        return items.lookup_command(self.table_name, identity)

    def identities(self) -> list[Summary]:
        """Every per-identity summary in the table (index listing: no marker, claim or day is read)."""
        listed = self._query(**items.listing_query(items.LISTED_SUMMARY))
        return self._complete(map(items.summary_from_item, self._live(listed)))

    def span(self) -> tuple[str, str] | None:
        """The first and the last UTC day of the table's calls, None when it holds none (one index
        listing of the identity summaries; their set members are not read)."""
        listed = self._live(self._query(**items.listing_query(items.LISTED_SUMMARY)))
        summaries = [items.summary_from_item(item) for item in listed]
        if not summaries:
            return None
        return utc_day(min(s.first_instant for s in summaries)), utc_day(max(s.last_instant for s in summaries))

    def between(self, since: str, until: str, errors_only: bool = False) -> list[Summary]:
        """The per-day summaries of the UTC days since..until, both included, only those with a failed
        call when `errors_only` (index byPeriod: a paginated Query per kind and year of `narrow`, whatever
        the days without events)."""
        kinds = (items.ERROR_DAY_KIND,) if errors_only else (items.DAY_KIND, items.ERROR_DAY_KIND)
        found = [item for query in self._period_queries(kinds, since, until) for item in self._query(**query)]
        return self._complete(map(items.summary_from_item, self._live(found)))

    def alerts_between(self, since: str, until: str) -> list[dict[str, Any]]:
        """The published alerts of the UTC days since..until, as sent (index byPeriod)."""
        queries = self._period_queries((items.ALERT_KIND,), since, until)
        return [items.alert_from_item(item) for query in queries for item in self._query(**query)]

    def narrow(self, since: date, until: date) -> tuple[date, date] | None:
        """since..until, narrowed to the days the table holds when it covers more than a few calendar
        years (None: it holds none of them). Each year costs a Query per kind, so a range such as
        0001-01-01..9999-12-31 is bounded by one read of the listing index (first and last seen, alert
        days), kept for the store's life, instead of 20,000 Queries."""
        if until.year - since.year < FEW_YEARS:
            return since, until
        if self._held is None:
            found = [item for query in items.held_days_queries() for item in self._query(**query)]
            days = [day for item in found for day in items.held_days(item)]
            self._held = (min(days), max(days)) if days else ()
        if not self._held or self._held[1] < since.isoformat() or until.isoformat() < self._held[0]:
            return None
        first, last = self._held
        return max(since, date.fromisoformat(first)), min(until, date.fromisoformat(last))

    def _period_queries(self, kinds: tuple[str, ...], since: str, until: str) -> list[dict[str, Any]]:
        if (held := self.narrow(date.fromisoformat(since), date.fromisoformat(until))) is None:
            return []
        return items.period_queries(kinds, held[0].isoformat(), held[1].isoformat())

    def index_periods(self) -> int:
        """Put the day summaries and published alerts written before index byPeriod in it (one Scan, once
        per table); returns how many items were updated. Safe to repeat and to run beside live writes."""
        updated = 0
        for item in self._scan(**items.unindexed_scan()):
            if (request := items.index_period_request(item)) is not None:
                updated += self._conditionally(self._db.update_item, TableName=self.table_name, **request)
        return updated

    def summaries_of(self, identities: Iterable[str]) -> list[Summary]:
        """The per-identity summaries of these identities (BatchGetItem, 100 keys a request)."""
        keys = [items.summary_key(identity, None) for identity in sorted(set(identities))]
        return self._complete(map(items.summary_from_item, self._live(self._batch_get(keys))))

    def _batch_get(self, keys: list[dict[str, Any]], projection: Sequence[str] = ()) -> list[dict[str, Any]]:
        """The items of `keys` that exist (consistent reads, 100 keys a request), only `projection`'s
        attributes when given."""
        found: list[dict[str, Any]] = []
        names = {f"#p{index}": name for index, name in enumerate(projection)}
        shape: dict[str, Any] = {"ConsistentRead": True}
        if names:
            shape |= {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
        for start in range(0, len(keys), MAX_BATCH_KEYS):
            request = {self.table_name: {"Keys": keys[start : start + MAX_BATCH_KEYS], **shape}}
            for attempt in range(CONFLICT_RETRIES):
                response = self._db.batch_get_item(RequestItems=request)
                found += response["Responses"].get(self.table_name, [])
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                self._sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))
            else:
                raise RuntimeError(f"BatchGetItem left keys unprocessed after {CONFLICT_RETRIES} tries")
        return found

    def _scan(self, **request: Any) -> Iterator[dict[str, Any]]:
        for page in self._db.get_paginator("scan").paginate(TableName=self.table_name, **request):
            yield from page["Items"]

    def _query(self, **request: Any) -> Iterator[dict[str, Any]]:
        for page in self._db.get_paginator("query").paginate(TableName=self.table_name, **request):
            yield from page["Items"]

    def identity_mode(self) -> IdentityMode | None:
        """The table's recorded identity mode (None: none recorded, the table is plain)."""
        found = self._db.get_item(TableName=self.table_name, Key=items.MODE_KEY, ConsistentRead=True).get("Item")
        return items.mode_from_item(found)

    def set_identity_mode(self, mode: IdentityMode) -> None:
        """Record the table's identity mode (a migration that rewrote the table, or a table's first use)."""
        self._db.put_item(TableName=self.table_name, Item=items.mode_item(mode, int(self._clock())))

    def holds_identities(self) -> bool:
        response = self._db.query(TableName=self.table_name, **items.any_summary_query())
        return bool(response["Items"])

    def settle_identity_mode(self, configured: IdentityMode) -> None:
        """Record `configured` on a table that holds no other mode's identities, else raise ModeConflict."""
        stored = self.identity_mode()
        if stored == configured or (stored is None and configured.mode == "plain"):
            return  # the usual case: one read
        if (mode := settle(stored, self.holds_identities(), configured, self.table_name)) is not None:
            self.set_identity_mode(mode)

    def sealed(self, pseudonyms: Iterable[str]) -> set[str]:
        """The pseudonyms among these whose identity is sealed (BatchGetItem of their keys only)."""
        keys = [items.seal_key(pseudonym) for pseudonym in sorted(set(pseudonyms))]
        return {items.sealed_pseudonym(item) for item in self._batch_get(keys, ("pk",))}

    def put_seal(self, pseudonym: str, ciphertext: bytes) -> bool:
        """Store a sealed identity; False when one was there already (it is never replaced)."""
        request = items.seal_put(pseudonym, ciphertext, int(self._clock()))
        return self._conditionally(self._db.put_item, TableName=self.table_name, **request)

    def seal(self, pseudonym: str) -> bytes | None:
        """The ciphertext sealed under a pseudonym, None when there is none."""
        key = items.seal_key(pseudonym)
        found = self._db.get_item(TableName=self.table_name, Key=key, ConsistentRead=True).get("Item")
        return None if found is None else items.ciphertext(found)

    def history(self, identity: str) -> tuple[Summary | None, list[Summary]]:
        """One identity's summary and its per-day summaries, oldest day first (one Query)."""
        summary, days = None, []
        found_items = list(self._live(self._query(**items.history_query(identity))))
        members = [item for item in found_items if items.is_member(item)]
        summaries = [items.summary_from_item(item) for item in found_items if not items.is_member(item)]
        for found in items.with_members(summaries, members):
            if found.day is None:
                summary = found
            else:
                days.append(found)
        return summary, sorted(days, key=lambda day: day.day or "")

    def sessions(self, principal: str) -> list[Summary]:
        """The summaries of every identity that rolls up to `principal` (index byPrincipal)."""
        return self._complete(map(items.summary_from_item, self._live(self._query(**items.sessions_query(principal)))))

    def _complete(self, summaries: Iterable[Summary]) -> list[Summary]:
        """The summaries with their set members (one Query per identity, over its summaries' scopes)."""
        by_identity: dict[str, list[Summary]] = {}
        for summary in summaries:
            by_identity.setdefault(summary.identity, []).append(summary)
        complete: list[Summary] = []
        for identity, found in by_identity.items():
            members = self._query(**items.members_query(identity, [summary.day for summary in found]))
            complete += items.with_members(found, self._live(members))
        return complete

    def forget(self, identities: Collection[str]) -> Counter[str]:
        """Delete every item that holds or names one of `identities` (contract section 10): published alerts
        and claims first, then set members, days, the summary and the sealed identity, so a run cut short
        is finished by the next (the claims' windows are the days still stored). How many of each kind
        were there (a repeat finds none)."""
        deleted: Counter[str] = Counter()

        def delete(key: dict[str, Any], kind: str) -> None:
            if self._db.delete_item(TableName=self.table_name, **items.deletion(key)).get("Attributes"):
                deleted[kind] += 1

        for item in self._query(**items.listing_query(items.LISTED_ALERT)):
            if items.names_any(item, identities):
                delete(item, items.ALERT_ITEMS)
        for identity in identities:
            keys = list(self._query(**items.partition_keys_query(identity)))
            for claim in self._batch_get(items.claim_keys(identity, keys), ("pk", "sk")):
                delete(claim, items.ALERT_ITEMS)
            for key in items.deletion_order(keys):
                delete(key, items.kind_of(key))
            delete(items.seal_key(identity), items.SEAL_ITEMS)
        return deleted

    def listed_identities(self) -> list[tuple[str, str]]:
        """(identity, identityType) of every identity summary (index listing; no member is read)."""
        listed = map(items.summary_from_item, self._query(**items.listing_query(items.LISTED_SUMMARY)))
        return [(summary.identity, summary.identity_type) for summary in listed]

    def published_alert_items(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Every published alert's item, with the alert as sent (index listing)."""
        return [(item, items.alert_from_item(item)) for item in self._query(**items.listing_query(items.LISTED_ALERT))]

    def rewrite_identity(self, identity: str, written: str, source_ip: Callable[[str], str]) -> bool:
        """Write an identity's items under `written`, addresses as `source_ip` writes them, then delete
        those left behind (members first, the summary last, so a run cut short finds the identity
        again); whether anything changed. Repeating it changes nothing more."""
        found = list(self._query(**items.history_query(identity)))
        new = [items.rewritten(item, written, source_ip) for item in found]
        for old, item in zip(found, new, strict=True):
            if item != old:
                self._db.put_item(TableName=self.table_name, Item=item)
        if written != identity:
            # A claim an attempt left unpublished (it died between claim and publish) is in no index and
            # names the identity in its key: the pseudonymous function claims the pseudonym's windows, so
            # it would never be taken again. Deleted while the days that locate it are still stored.
            for claim in self._batch_get(items.claim_keys(identity, found), ("pk", "sk", "state")):
                if items.is_unpublished(claim):
                    self._db.delete_item(TableName=self.table_name, Key={"pk": claim["pk"], "sk": claim["sk"]})
        kept = {items.key_of(item) for item in new}
        stale = [old for old in found if items.key_of(old) not in kept]
        for old in items.deletion_order(stale):
            self._db.delete_item(TableName=self.table_name, Key={"pk": old["pk"], "sk": old["sk"]})
        return found != new

    def rewrite_alert(self, item: dict[str, Any], sent: dict[str, Any]) -> None:
        """Replace a published alert's item by one holding `sent` (under its claim key)."""
        new = items.rewritten_alert(item, sent)
        self._db.put_item(TableName=self.table_name, Item=new)
        if items.key_of(new) != items.key_of(item):
            self._db.delete_item(TableName=self.table_name, Key={"pk": item["pk"], "sk": item["sk"]})

    def _live(self, found: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """The items not expired: DynamoDB's TTL deletes them days late, a read never shows them."""
        now = self._clock()
        return (item for item in found if items.is_live(item, now))
