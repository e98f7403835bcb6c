"""The summaries table's item layout: keys, attributes and the update expressions that write them.

The one module that knows the layout; the adapter in `supportwatch.aws.store` only sends what
these functions build. Pure: no AWS calls.

Items (pk, sk):
- `IDENTITY#<identity>`, `SUMMARY`         the identity's summary (GSI byPrincipal: rollup, identity)
- `IDENTITY#<identity>`, `DAY#YYYY-MM-DD`  its summary for one UTC day (GSI byPeriod, below)
- `IDENTITY#<identity>`, `SET#<scope>#<set>#<value>`  one member of a summary's set (`sourceIps`,
  `accountIds`, `regions`) in the summary of `scope` (`SUMMARY` or a day `YYYY-MM-DD`): `member` (the
  value), `scope`, `set`. One item per member keeps every item bounded however many addresses an
  identity uses; a summary's members are read back with one Query on its partition (`members_query`).
  In no index: members carry none of `listed`, `periodKey`, `rollup`. A Bedrock model's calls in a
  summary are such an item too (`set` `models`, the model ID as `member`, a `calls` counter).
- `EVENT#<eventId>`, `EVENT`               the marker of a counted event, expiring after the TTL
- `OBJECT#<bucket/key or path>`, `EVENTS#<sha256>`  one content of an object whose events were all
  counted (no expiry); the sort key is the SHA-256 of its events' sorted IDs (`events_digest`), so a
  new version of the object (re-uploaded with one more event) is not taken for the one counted
- `ALERT#<rule>#<window>#<subject>`, `ALERT` the claim of an alert's window: claimed by one attempt,
  then published (holding the alert's JSON as sent), or deleted when its publish failed; no expiry,
  so a window stays published however late an old file is processed again
- `LOGFILE#<account folder><region>#<YYYY-MM-DDTHH>`, `<key>`  a processed log file (contract section 7),
  in the partition of its account, region and the UTC hour its name carries: `sha256` of the
  uncompressed content, `size`, `outcome`, `expiresAt` (TTL); a digest finds its files by key, the
  late check an hour's files with one Query
- `TABLE#identity-mode`, `MODE`            the table's identity mode (contract section 10): `mode`
  (`plain` or `pseudonymous`), `keyFingerprint` (an HMAC naming the key, never the key), `setAt`;
  absent on tables written in clear before the mode existed
- `SEAL#<pseudonym>`, `SEAL`                the identity behind a pseudonym, sealed once (contract
  section 10): `sealed` (KMS ciphertext under the encryption context naming the pseudonym), `sealedAt`

GSI byPeriod (periodKey, periodSort), sparse: day summaries and published alerts of a UTC day, in
one partition per kind and year (`day#YYYY`, `errorday#YYYY` once the day has a failed call,
`alert#YYYY`), sorted by `YYYY-MM-DD#<identity or claim>`: any period is one BETWEEN Query per kind
and year, whatever the days without events. Day items written before the index carry no periodKey
until `supportwatch migrate` gives them one (`index_period_request`).

GSI listing (listed, pk), sparse: identity summaries (`summary`) and published alerts (`alert`)
only, so the export reads what it prints and never a marker, claim or day. Its sort key is `pk`, so
a partition key longer than 1024 bytes (a long identity, event ID, object key or claim) is kept as
its first bytes and a SHA-256 of the whole (`key_safe`): DynamoDB refuses a longer index sort key.

Counters (`totalCalls`, `errorCalls`, `call:<eventName>`, `error:<errorCode>`, `service:<service>` for
every service but support, whose calls are the rest of totalCalls), the set members and the model
counters are written in one transaction with the conditional markers of the events they count; first/last seen
(`firstInstant`, `lastInstant`: UTC epoch microseconds, numbers, with the text as CloudTrail writes
it beside them) are written by that transaction when the item is new (`if_not_exists`), then moved
outwards by conditional updates, sent only where the bounds read back show they would change
something: repeating them changes nothing.

Retention (`RetentionDays` > 0): every summary-like item carries `expiresAt` (the table's TTL
attribute, epoch seconds): a day item and its members the end of its day plus the retention, an
identity summary its `lastInstant` plus the retention (moved with `lastSeen`), its `SUMMARY`
members the end of the day of that `lastSeen` plus the retention (raised after each commit by
`stale_members_query`). TTL deletes late, so every read drops items whose `expiresAt` has passed
(`is_live`), and a commit that finds an expired identity summary deletes it with its members first
(the counts of an expired summary are never added to).
"""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from supportwatch.aggregate import SummaryKey
from supportwatch.config import RULES
from supportwatch.decoding.instants import normal_time, utc_day, written
from supportwatch.decoding.records import key_safe
from supportwatch.export import alert_day
from supportwatch.integrity.digest import Stream, log_key_time, stream_of
from supportwatch.models import Alert, Summary, SupportEvent, identity_subject
from supportwatch.privacy.mode import IdentityMode
from supportwatch.services import SERVICES, SUPPORT

Item = dict[str, Any]
SUMMARY_SK = "SUMMARY"
DAY_PREFIX = "DAY#"
IDENTITY_PREFIX = "IDENTITY#"
ALERT_PREFIX = "ALERT#"
CALL_PREFIX = "call:"
ERROR_PREFIX = "error:"
SERVICE_PREFIX = "service:"  # a service's calls, for every watched service but support (`services_of`)
SERVICE_COUNTERS = {name: SERVICE_PREFIX + name for name in SERVICES if name != SUPPORT}
LISTING_INDEX = "listing"
LISTED_SUMMARY = "summary"
LISTED_ALERT = "alert"
PERIOD_INDEX = "byPeriod"
DAY_KIND, ERROR_DAY_KIND, ALERT_KIND = "day", "errorday", "alert"
PERIOD_END = "$"  # the character after `#`: `YYYY-MM-DD$` sorts after every `YYYY-MM-DD#...`
# `pk` is the listing index's sort key, so every partition key is held to a sort key's 1024 bytes.
PARTITION_BYTES = 1024
SETS = {"accountIds": "account_ids", "sourceIps": "source_ips", "regions": "regions"}
MODELS = "models"  # the `set` of a Bedrock model's counter item, among the set members (`model_updates`)
MEMBER_PREFIX = "SET#"
WHOLE = "SUMMARY"  # the scope of an identity's all-time summary's members
EXPIRES = "expiresAt"  # the table's TTL attribute (epoch seconds)
DAY_SECONDS = 86400


def plain(value: dict[str, Any]) -> Any:
    """A DynamoDB attribute value as Python (the types this layout writes)."""
    (kind, raw), *_ = value.items()
    if kind == "N":
        return int(raw)
    if kind in ("SS", "NS"):
        return set(raw)
    return raw


def day_expiry(day: str, retention_days: int) -> int:
    """When a day's items expire: the end of the UTC day plus the retention (epoch seconds)."""
    start = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return int(start.timestamp()) + (retention_days + 1) * DAY_SECONDS


def last_expiry(last_instant: int, retention_days: int) -> int:
    """When an identity summary last seen at `last_instant` (epoch microseconds) expires."""
    return last_instant // 1_000_000 + retention_days * DAY_SECONDS


def members_expiry(last_instant: int, retention_days: int) -> int:
    """When an identity summary's members expire: the end of its last day plus the retention (a day
    later at most than the summary, so they are raised once a day, not on every commit)."""
    day = datetime.fromtimestamp(last_instant // 1_000_000, UTC).date().isoformat()
    return day_expiry(day, retention_days)


def is_live(item: Item, now: float) -> bool:
    """Whether an item is still kept: TTL deletes expired items late (days), reads must not show them."""
    return EXPIRES not in item or int(item[EXPIRES]["N"]) > now


def partition(text: str) -> str:
    """A partition key, `text` or when longer than 1024 bytes its first bytes and a SHA-256 (`key_safe`)."""
    return key_safe(text, PARTITION_BYTES)


def identity_partition(identity: str) -> str:
    return partition(IDENTITY_PREFIX + identity)


def summary_key(identity: str, day: str | None) -> Item:
    return {"pk": {"S": identity_partition(identity)}, "sk": {"S": SUMMARY_SK if day is None else DAY_PREFIX + day}}


def marker_key(event_id: str) -> Item:
    return {"pk": {"S": partition(f"EVENT#{event_id}")}, "sk": {"S": "EVENT"}}


def claim_key(alert: Alert) -> Item:
    return {"pk": {"S": partition(ALERT_PREFIX + alert.claim_key)}, "sk": {"S": "ALERT"}}


class Expression:
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

    def set_if_absent(self, name: str, value: Any) -> None:
        self.sets.append("{0} = if_not_exists({0}, {1})".format(*self._place(name, value)))

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


def count_update(delta: Summary, retention_days: int = 0, now: int = 0) -> dict[str, Any]:
    """Counters and sets of a delta, as one ADD (plus the GSI keys that never change). With a retention,
    its expiry too, and an identity summary's update holds only while the stored one has not expired
    (`commits.existing_markers` reads a refusal)."""
    expression = Expression()
    expression.add("totalCalls", {"N": str(delta.total_calls)})
    if delta.error_calls:
        expression.add("errorCalls", {"N": str(delta.error_calls)})
    for prefix, counts in ((CALL_PREFIX, delta.calls), (ERROR_PREFIX, delta.errors)):
        for name, count in counts.items():
            expression.add(prefix + name, {"N": str(count)})
    for service, count in delta.services.items():
        if service != SUPPORT:  # support's calls are the rest of totalCalls: support-only items as they were
            expression.add(SERVICE_COUNTERS[service], {"N": str(count)})
    expression.set("identity", {"S": delta.identity})
    if delta.day is None:
        expression.set("listed", {"S": LISTED_SUMMARY})
    else:
        expression.set("day", {"S": delta.day})
        _period_fields(expression, delta.day, delta.identity, delta.error_calls > 0)
    for name, value in _first_fields(delta) + _last_fields(delta):  # a new item's bounds, in the same write
        expression.set_if_absent(name, value)
    update = {"Key": summary_key(delta.identity, delta.day)}
    if retention_days and delta.day is not None:
        expression.set(EXPIRES, {"N": str(day_expiry(delta.day, retention_days))})
    elif retention_days:
        expression.set_if_absent(EXPIRES, {"N": str(last_expiry(delta.last_instant, retention_days))})
        expression.names["#expires"] = EXPIRES
        expression.values[":now"] = {"N": str(now)}
        update["ConditionExpression"] = "attribute_not_exists(#expires) OR #expires > :now"
    return {**update, **expression.request()}


def _period_fields(expression: Expression, day: str, identity: str, failed: bool) -> None:
    """A day item's place in byPeriod; a failed call moves it to the year's error partition for good
    (a day without one only claims the plain partition when it has none yet)."""
    if failed:
        expression.set("periodKey", {"S": period_partition(ERROR_DAY_KIND, day)})
    else:
        expression.set_if_absent("periodKey", {"S": period_partition(DAY_KIND, day)})
    expression.set("periodSort", {"S": period_sort(day, identity)})


def period_partition(kind: str, day: str) -> str:
    return f"{kind}#{day[:4]}"


def period_sort(day: str, subject: str) -> str:
    """`YYYY-MM-DD#subject`, held to an index key's 1024 bytes (the day, its leading part, is kept)."""
    return key_safe(f"{day}#{subject}", PARTITION_BYTES)


def period_queries(kinds: tuple[str, ...], since: str, until: str) -> list[dict[str, Any]]:
    """The byPeriod Queries of the items of `kinds` on the UTC days since..until (one a kind and year)."""
    return [
        {
            "IndexName": PERIOD_INDEX,
            "KeyConditionExpression": "periodKey = :key AND periodSort BETWEEN :since AND :until",
            "ExpressionAttributeValues": {
                ":key": {"S": period_partition(kind, f"{year:04d}")},
                ":since": {"S": since},
                ":until": {"S": until + PERIOD_END},
            },
        }
        for kind in kinds
        for year in range(int(since[:4]), int(until[:4]) + 1)
    ]


def held_days_queries() -> list[dict[str, Any]]:
    """The listing index's summaries and published alerts, only what bounds the days the table holds:
    first and last seen, an alert's period key (one paginated Query each, whatever their days)."""
    bounds = ["firstInstant", "lastInstant", "firstSeen", "lastSeen", "periodSort"]
    names = {f"#b{index}": name for index, name in enumerate(bounds)}
    projection = {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
    return [
        {**query, **projection, "ExpressionAttributeNames": query["ExpressionAttributeNames"] | names}
        for query in (listing_query(LISTED_SUMMARY), listing_query(LISTED_ALERT))
    ]


def held_days(item: Item) -> list[str]:
    """The UTC days an item of `held_days_queries` holds or bounds: a summary's first and last, an alert's."""
    found = {name: plain(value) for name, value in item.items()}
    if "periodSort" in found:
        return [found["periodSort"][:10]]
    return [_seen(found, "firstInstant", "firstSeen")[:10], _seen(found, "lastInstant", "lastSeen")[:10]]


def _scope(day: str | None) -> str:
    return WHOLE if day is None else day


def _member_sk(scope: str, attribute: str, value: str) -> str:
    return key_safe(f"{MEMBER_PREFIX}{scope}#{attribute}#{value}", PARTITION_BYTES)


def member_keys(event: SupportEvent) -> set[tuple[str, ...]]:
    """The (identity, scope, set, value) of every member item an event writes."""
    values = {"accountIds": event.account_id, "sourceIps": event.source_ip, "regions": event.region}
    values[MODELS] = event.model_id
    return {
        (event.identity, scope, attribute, value)
        for scope in (WHOLE, event.day)
        for attribute, value in values.items()
        if value
    }


def _members_expiry(delta: Summary, retention_days: int) -> Item:
    """The `expiresAt` of a delta's members (none without a retention)."""
    if not retention_days:
        return {}
    expires = day_expiry(delta.day, retention_days) if delta.day else members_expiry(delta.last_instant, retention_days)
    return {EXPIRES: {"N": str(expires)}}


def member_puts(delta: Summary, retention_days: int = 0) -> list[Item]:
    """The member items of a delta's sets: put again, a member changes nothing (sets are idempotent).
    With a retention they expire with their summary (an older file may lower an identity summary's
    member's expiry: the commit raises it again with `stale_members_query`)."""
    scope = _scope(delta.day)
    expiry = _members_expiry(delta, retention_days)
    return [
        {
            "pk": {"S": identity_partition(delta.identity)},
            "sk": {"S": _member_sk(scope, attribute, value)},
            "member": {"S": value},
            "scope": {"S": scope},
            "set": {"S": attribute},
            **expiry,
        }
        for attribute, field in SETS.items()
        for value in sorted(getattr(delta, field))
    ]


def model_updates(delta: Summary, retention_days: int = 0) -> list[dict[str, Any]]:
    """The counters of a delta's Bedrock models: an item per model and summary, beside its set members,
    its `calls` added (in the transaction of the events' markers). Not attributes of the summary: a
    model ID is the caller's text, so one identity could name more than any item holds. They expire
    as members do."""
    scope = _scope(delta.day)
    updates = []
    for model, count in sorted(delta.models.items()):
        expression = Expression()
        expression.add("calls", {"N": str(count)})
        for name, value in (("member", model), ("scope", scope), ("set", MODELS)):
            expression.set(name, {"S": value})
        for name, value in _members_expiry(delta, retention_days).items():
            expression.set(name, value)
        key = {"pk": {"S": identity_partition(delta.identity)}, "sk": {"S": _member_sk(scope, MODELS, model)}}
        updates.append({"Key": key, **expression.request()})
    return updates


def whole_members_query(identity: str) -> dict[str, Any]:
    """The keys of an identity summary's members (its `SUMMARY` scope)."""
    return {
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {
            ":pk": {"S": identity_partition(identity)},
            ":prefix": {"S": f"{MEMBER_PREFIX}{WHOLE}#"},
        },
        "ProjectionExpression": "pk, sk",
    }


def stale_members_query(identity: str, expires: int) -> dict[str, Any]:
    """The keys of an identity summary's members that would expire before `expires`."""
    query = whole_members_query(identity)
    query["ExpressionAttributeValues"][":expires"] = {"N": str(expires)}
    return {
        **query,
        "FilterExpression": "attribute_not_exists(#expires) OR #expires < :expires",
        "ExpressionAttributeNames": {"#expires": EXPIRES},
    }


def raise_expiry(key: Item, expires: int) -> dict[str, Any]:
    """Move an item's expiry out to `expires` (never in, never creating a deleted item)."""
    return {
        "Key": {"pk": key["pk"], "sk": key["sk"]},
        "UpdateExpression": "SET #expires = :expires",
        "ConditionExpression": "attribute_exists(pk) AND (attribute_not_exists(#expires) OR #expires < :expires)",
        "ExpressionAttributeNames": {"#expires": EXPIRES},
        "ExpressionAttributeValues": {":expires": {"N": str(expires)}},
    }


def expired_delete(identity: str, now: int) -> dict[str, Any]:
    """Delete an identity summary that has expired (and only while it still is)."""
    return {
        "Key": summary_key(identity, None),
        "ConditionExpression": "#expires <= :now",
        "ExpressionAttributeNames": {"#expires": EXPIRES},
        "ExpressionAttributeValues": {":now": {"N": str(now)}},
    }


def members_query(identity: str, days: Iterable[str | None]) -> dict[str, Any]:
    """One Query for the members of an identity's summaries of `days` (None: the all-time summary):
    the sort key range from the first scope to the last (`SUMMARY` sorts after every day)."""
    scopes = sorted(_scope(day) for day in days)
    return {
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :low AND :high",
        "ExpressionAttributeValues": {
            ":pk": {"S": identity_partition(identity)},
            ":low": {"S": f"{MEMBER_PREFIX}{scopes[0]}#"},
            ":high": {"S": f"{MEMBER_PREFIX}{scopes[-1]}$"},  # `$` follows `#`: every key of the last scope
        },
        "ProjectionExpression": "#scope, #set, #member, #expires, #calls",
        "ExpressionAttributeNames": {
            "#scope": "scope",
            "#set": "set",
            "#member": "member",
            "#expires": EXPIRES,
            "#calls": "calls",
        },
    }


def is_member(item: Item) -> bool:
    return item["sk"]["S"].startswith(MEMBER_PREFIX)


def with_members(summaries: Iterable[Summary], members: Iterable[Item]) -> list[Summary]:
    """One identity's summaries with the members read from its partition added to their sets, and its
    model counters to their models (a legacy item's own sets stay: a table written before members
    existed still exports every value)."""
    found = list(summaries)
    by_scope = {_scope(summary.day): summary for summary in found}
    for item in members:
        if (summary := by_scope.get(item["scope"]["S"])) is None:
            continue
        if item["set"]["S"] == MODELS:
            summary.models[item["member"]["S"]] = plain(item["calls"])
        else:
            getattr(summary, SETS[item["set"]["S"]]).add(item["member"]["S"])
    return found


def marker_item(event: SupportEvent, source: str, expires: int) -> Item:
    """The marker of a counted event: which object counted it."""
    return {**marker_key(event.event_id), "source": {"S": source}, "expiresAt": {"N": str(expires)}}


def events_digest(event_ids: Iterable[str]) -> str:
    """The SHA-256 of a set of event IDs (sorted, one a line): what a counted object held."""
    return hashlib.sha256("".join(f"{event_id}\n" for event_id in sorted(set(event_ids))).encode()).hexdigest()


def object_key(source: str, event_ids: Iterable[str]) -> Item:
    """The record of one content of an object: the same key with other events is another record.
    (Records written before were keyed on the object alone, sort key `OBJECT`: they are not read.)"""
    return {"pk": {"S": partition(f"OBJECT#{source}")}, "sk": {"S": f"EVENTS#{events_digest(event_ids)}"}}


def object_item(source: str, event_ids: Sequence[str], now: int) -> Item:
    """The record of an object counted whole: kept forever, so re-processing the same content counts
    nothing, however long after its markers expired."""
    return {**object_key(source, event_ids), "events": {"N": str(len(event_ids))}, "countedAt": {"N": str(now)}}


def marker_source(item: Item) -> str:
    return item.get("source", {}).get("S", "")


# What a commit reads back of its summary items to know which first/last-seen updates would change them.
BOUNDS = ("pk", "sk", "identity", "firstInstant", "firstEventId", "lastInstant", "lastSeen", EXPIRES)


def _first_fields(delta: Summary) -> list[tuple[str, Item]]:
    """First seen, and the type and principal the first event decides (`firstInstant`, `firstEventId` lead)."""
    fields = [
        ("firstInstant", {"N": str(delta.first_instant)}),
        ("firstEventId", {"S": delta.first_event_id}),
        ("firstSeen", {"S": delta.first_seen}),
        ("identityType", {"S": delta.identity_type}),
        ("principal", {"S": delta.principal}),
    ]
    return [*fields, ("rollup", {"S": delta.principal})] if delta.day is None else fields


def _last_fields(delta: Summary) -> list[tuple[str, Item]]:
    return [("lastInstant", {"N": str(delta.last_instant)}), ("lastSeen", {"S": delta.last_seen})]


def _bound(item: Item | None, instant: str, tie: str) -> tuple[int, str] | None:
    if item is None or instant not in item:
        return None
    return int(item[instant]["N"]), item.get(tie, {}).get("S", "")


def bounds_key(item: Item) -> SummaryKey:
    """The (identity, day) of a summary item read with BOUNDS."""
    sk = item["sk"]["S"]
    return item["identity"]["S"], sk[len(DAY_PREFIX) :] if sk.startswith(DAY_PREFIX) else None


def latest_instant(delta: Summary, stored: Item | None) -> int:
    """The summary's last instant once the commit's updates are made."""
    last = _bound(stored, "lastInstant", "lastSeen")
    return max(delta.last_instant, last[0] if last else 0)


def stretch_updates(delta: Summary, stored: Item | None, retention_days: int = 0) -> list[dict[str, Any]]:
    """Conditional updates that move first/last seen outwards (and the type and principal the first
    event decides; with a retention, an identity summary's expiry with its last seen); each changes
    nothing when repeated. `stored` is the item's BOUNDS as read after the commit's transactions:
    first and last seen only ever move outwards, so an update whose condition fails on them would
    fail later too, and is left out."""
    key = summary_key(delta.identity, delta.day)
    updates = []
    first = _bound(stored, "firstInstant", "firstEventId")
    if first is None or (delta.first_instant, delta.first_event_id) < first:
        expression = Expression()
        for name, value in _first_fields(delta):
            expression.set(name, value)
        condition = "attribute_not_exists(#n0) OR #n0 > :v0 OR (#n0 = :v0 AND #n1 > :v1)"
        updates.append({"Key": key, "ConditionExpression": condition, **expression.request()})
    last = _bound(stored, "lastInstant", "lastSeen")
    expires = retention_days and delta.day is None
    if last is None or (delta.last_instant, delta.last_seen) > last:
        expression = Expression()
        for name, value in _last_fields(delta):
            expression.set(name, value)
        if expires:
            expression.set(EXPIRES, {"N": str(last_expiry(delta.last_instant, retention_days))})
        condition = "attribute_not_exists(#n0) OR #n0 < :v0 OR (#n0 = :v0 AND #n1 < :v1)"
        updates.append({"Key": key, "ConditionExpression": condition, **expression.request()})
    elif expires and stored is not None:  # an item older than the retention: its expiry follows its last seen
        due = last_expiry(latest_instant(delta, stored), retention_days)
        if EXPIRES not in stored or int(stored[EXPIRES]["N"]) < due:
            updates.append(raise_expiry(key, due))
    return updates


def _seen(found: dict[str, Any], instant: str, text: str) -> str:
    """First or last seen as CloudTrail writes an instant: from the instant beside it (a table written
    before times were normalised holds the text as the record wrote it)."""
    return written(found[instant]) if instant in found else normal_time(found.get(text, ""))


def summary_from_item(item: Item) -> Summary:
    found = {name: plain(value) for name, value in item.items()}
    sk = found["sk"]
    return Summary(
        identity=found["identity"],
        day=sk[len(DAY_PREFIX) :] if sk.startswith(DAY_PREFIX) else None,
        identity_type=found.get("identityType", "Unknown"),
        principal=found.get("principal", found["identity"]),
        first_seen=_seen(found, "firstInstant", "firstSeen"),
        first_instant=found.get("firstInstant", 0),
        first_event_id=found.get("firstEventId", ""),
        last_seen=_seen(found, "lastInstant", "lastSeen"),
        last_instant=found.get("lastInstant", 0),
        total_calls=found.get("totalCalls", 0),
        services=services_of(found),
        calls={k[len(CALL_PREFIX) :]: v for k, v in found.items() if k.startswith(CALL_PREFIX)},
        error_calls=found.get("errorCalls", 0),
        errors={k[len(ERROR_PREFIX) :]: v for k, v in found.items() if k.startswith(ERROR_PREFIX)},
        **{field: set(found.get(attribute, ())) for attribute, field in SETS.items()},
    )


def services_of(found: dict[str, Any]) -> dict[str, int]:
    """{service: calls} of a summary item's attributes: its `service:` counters, and support's calls, the
    rest of `totalCalls` (no counter is written for support, so an item written with support alone
    watched, or before services existed, holds support's calls only)."""
    services = {name[len(SERVICE_PREFIX) :]: n for name, n in found.items() if name.startswith(SERVICE_PREFIX)}
    if rest := found.get("totalCalls", 0) - sum(services.values()):
        services[SUPPORT] = rest
    return services


def day_calls_request(identity: str, day: str) -> dict[str, Any]:
    """A day item's calls: in all, and of each service that has a counter."""
    names = {f"#s{index}": name for index, name in enumerate(SERVICE_COUNTERS.values())}
    projection = ", ".join(["totalCalls", *names])
    return {
        "Key": summary_key(identity, day),
        "ConsistentRead": True,
        "ProjectionExpression": projection,
        "ExpressionAttributeNames": names,
    }


def calls_of(item: Item, service: str) -> int:
    """One service's calls in a summary item read with `day_calls_request` (`services_of`)."""
    return services_of({name: plain(value) for name, value in item.items()}).get(service, 0)


def claim_request(alert: Alert, owner: str, now: int, lease_seconds: int) -> dict[str, Any]:
    """Take the alert's window for `owner`: new, already `owner`'s, or left unpublished past its lease."""
    item = {
        **claim_key(alert),
        "state": {"S": "claimed"},
        "owner": {"S": owner},
        "claimedAt": {"N": str(now)},
        "title": {"S": alert.title},
    }
    return {
        "Item": item,
        "ConditionExpression": (
            "attribute_not_exists(pk) OR (#state = :claimed AND (#owner = :owner OR claimedAt < :stale))"
        ),
        "ExpressionAttributeNames": {"#state": "state", "#owner": "owner"},
        "ExpressionAttributeValues": {
            ":claimed": {"S": "claimed"},
            ":owner": {"S": owner},
            ":stale": {"N": str(now - lease_seconds)},
        },
    }


def published_update(alert: Alert, owner: str, now: int) -> dict[str, Any]:
    """Record the alert as published, with its JSON as sent (never any typed text), unless another
    owner took the claim over meanwhile; `listed` puts it in the export's index, `periodKey` in its
    year's byPeriod partition, under its day (`alert_day`: an alert of a file with no time in its name,
    the day it is published)."""
    sent = alert.to_json()
    values = {
        ":published": {"S": "published"},
        ":now": {"N": str(now)},
        ":owner": {"S": owner},
        ":alert": {"S": json.dumps(sent, ensure_ascii=False)},
        ":listed": {"S": LISTED_ALERT},
    }
    update = "SET #state = :published, publishedAt = :now, #alert = :alert, #listed = :listed"
    if day := alert_day(sent, utc_day(now * 1_000_000)):
        claim = claim_key(alert)["pk"]["S"].removeprefix(ALERT_PREFIX)
        values |= {":period": {"S": period_partition(ALERT_KIND, day)}, ":sort": {"S": period_sort(day, claim)}}
        update += ", periodKey = :period, periodSort = :sort"
    return {
        "Key": claim_key(alert),
        "UpdateExpression": update,
        "ConditionExpression": "#owner = :owner",
        "ExpressionAttributeNames": {"#state": "state", "#owner": "owner", "#alert": "alert", "#listed": "listed"},
        "ExpressionAttributeValues": values,
    }


def release_request(alert: Alert, owner: str) -> dict[str, Any]:
    """Delete `owner`'s unpublished claim (after a failed publish)."""
    return {
        "Key": claim_key(alert),
        "ConditionExpression": "#state = :claimed AND #owner = :owner",
        "ExpressionAttributeNames": {"#state": "state", "#owner": "owner"},
        "ExpressionAttributeValues": {":claimed": {"S": "claimed"}, ":owner": {"S": owner}},
    }


def claim_state_request(alert: Alert) -> dict[str, Any]:
    return {
        "Key": claim_key(alert),
        "ConsistentRead": True,
        "ProjectionExpression": "#state",
        "ExpressionAttributeNames": {"#state": "state"},
    }


def is_unpublished(item: Item | None) -> bool:
    return item is not None and plain(item["state"]) == "claimed"


def listing_query(kind: str) -> dict[str, Any]:
    """Every item of one kind in the sparse index `listing` (only summaries and published alerts are in it)."""
    return {
        "IndexName": LISTING_INDEX,
        "KeyConditionExpression": "#listed = :listed",
        "ExpressionAttributeNames": {"#listed": "listed"},
        "ExpressionAttributeValues": {":listed": {"S": kind}},
    }


def alert_from_item(item: Item) -> dict[str, Any]:
    """A published alert as sent; its eventTime as CloudTrail writes it (alerts sent before times were
    normalised hold it as the record wrote it)."""
    alert = json.loads(plain(item["alert"]))
    if isinstance(alert.get("eventTime"), str):
        alert["eventTime"] = normal_time(alert["eventTime"])
    return alert


def lookup_command(table_name: str, identity: str) -> str:
    """An `aws dynamodb query` line that shows an identity's summary and day-by-day history."""
    values = json.dumps({":pk": {"S": identity_partition(identity)}})
    return (
        f"aws dynamodb query --table-name {shlex.quote(table_name)} "
        f"--key-condition-expression 'pk = :pk' --expression-attribute-values {shlex.quote(values)}"
    )


def unindexed_scan() -> dict[str, Any]:
    """A Scan filter for the day summaries and published alerts written before byPeriod (no periodKey)."""
    return {
        "FilterExpression": (
            "attribute_not_exists(periodKey) AND ((begins_with(pk, :pk) AND begins_with(sk, :sk)) OR #listed = :alert)"
        ),
        "ExpressionAttributeNames": {"#listed": "listed"},
        "ExpressionAttributeValues": {
            ":sk": {"S": DAY_PREFIX},
            ":pk": {"S": IDENTITY_PREFIX},
            ":alert": {"S": LISTED_ALERT},
        },
    }


def index_period_request(item: Item) -> dict[str, Any] | None:
    """The UpdateItem that puts an item found by `unindexed_scan` in byPeriod (None: an alert with no
    day); repeating it, or a live write meanwhile, changes nothing more."""
    expression = Expression()
    if item["sk"]["S"].startswith(DAY_PREFIX):
        summary = summary_from_item(item)
        _period_fields(expression, summary.day or "", summary.identity, summary.error_calls > 0)
    else:
        published = item.get("publishedAt")
        day = alert_day(alert_from_item(item), utc_day(plain(published) * 1_000_000) if published else None)
        if day is None:
            return None
        claim = item["pk"]["S"].removeprefix(ALERT_PREFIX)
        expression.set_if_absent("periodKey", {"S": period_partition(ALERT_KIND, day)})
        expression.set_if_absent("periodSort", {"S": period_sort(day, claim)})
    condition = "attribute_exists(pk)"  # never create an item deleted meanwhile
    return {"Key": {"pk": item["pk"], "sk": item["sk"]}, "ConditionExpression": condition, **expression.request()}


def history_query(identity: str) -> dict[str, Any]:
    """One identity's summary and days (a Query on its partition)."""
    return {
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": identity_partition(identity)}},
    }


def sessions_query(principal: str) -> dict[str, Any]:
    return {
        "IndexName": "byPrincipal",
        "KeyConditionExpression": "#rollup = :rollup",
        "ExpressionAttributeNames": {"#rollup": "rollup"},
        "ExpressionAttributeValues": {":rollup": {"S": principal}},
    }


LOG_FILE_PREFIX = "LOGFILE#"


def log_file_partition(stream: Stream, hour: datetime) -> str:
    return f"{LOG_FILE_PREFIX}{stream.account_folder}{stream.region}#{hour:%Y-%m-%dT%H}"


def log_file_key(key: str) -> Item | None:
    """The item of a log file CloudTrail named (account, region and time in the key), else None."""
    stream, when = stream_of(key), log_key_time(key)
    if stream is None or when is None:
        return None
    return {"pk": {"S": log_file_partition(stream, when)}, "sk": {"S": key}}


def log_file_put(key: Item, sha256: str | None, size: int, outcome: str, expires: int) -> dict[str, Any]:
    """The PutItem of a processed log file; the same file again (a redelivery, a second backfill)
    fails its condition and changes nothing, not even the TTL."""
    item = {**key, "size": {"N": str(size)}, "outcome": {"S": outcome}, "expiresAt": {"N": str(expires)}}
    values = {":outcome": {"S": outcome}, ":size": item["size"]}
    same = "outcome = :outcome AND #size = :size AND attribute_not_exists(sha256)"
    if sha256:
        item["sha256"] = values[":sha256"] = {"S": sha256}
        same = "outcome = :outcome AND #size = :size AND sha256 = :sha256"
    return {
        "Item": item,
        "ConditionExpression": f"attribute_not_exists(pk) OR NOT ({same})",
        "ExpressionAttributeNames": {"#size": "size"},
        "ExpressionAttributeValues": values,
    }


def log_file_hash(item: Item) -> str:
    """The recorded SHA-256 (`unreadable` when the file could not be inflated to its end)."""
    return item.get("sha256", {}).get("S", "unreadable")


def log_files_query(stream: Stream, hour: datetime) -> dict[str, Any]:
    return {
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": log_file_partition(stream, hour)}},
        "ProjectionExpression": "sk",
    }


MODE_KEY: Item = {"pk": {"S": "TABLE#identity-mode"}, "sk": {"S": "MODE"}}


def mode_item(mode: IdentityMode, now: int) -> Item:
    """The table's identity mode as an item (the key's fingerprint, never the key)."""
    item = {**MODE_KEY, "mode": {"S": mode.mode}, "setAt": {"N": str(now)}}
    if mode.fingerprint:
        item["keyFingerprint"] = {"S": mode.fingerprint}
    return item


def mode_from_item(item: Item | None) -> IdentityMode | None:
    if item is None:
        return None
    fingerprint = item.get("keyFingerprint")
    return IdentityMode(plain(item["mode"]), plain(fingerprint) if fingerprint else None)


def any_summary_query() -> dict[str, Any]:
    """One identity summary, if the table holds any (index listing, one item read)."""
    return {**listing_query(LISTED_SUMMARY), "Limit": 1, "ProjectionExpression": "pk"}


SEAL_PREFIX = "SEAL#"


def seal_key(pseudonym: str) -> Item:
    return {"pk": {"S": partition(SEAL_PREFIX + pseudonym)}, "sk": {"S": "SEAL"}}


def seal_put(pseudonym: str, ciphertext: bytes, now: int) -> dict[str, Any]:
    """The PutItem of a sealed identity: only where none is, so an identity is sealed once."""
    item = {**seal_key(pseudonym), "sealed": {"B": ciphertext}, "sealedAt": {"N": str(now)}}
    return {"Item": item, "ConditionExpression": "attribute_not_exists(pk)"}


def sealed_pseudonym(item: Item) -> str:
    """The pseudonym of a seal item (read with at least its `pk`)."""
    return item["pk"]["S"].removeprefix(SEAL_PREFIX)


def ciphertext(item: Item) -> bytes:
    return bytes(item["sealed"]["B"])


# Erasure (contract section 10): what `supportwatch forget` deletes, by kind.
SUMMARY_ITEMS, DAY_ITEMS, MEMBER_ITEMS = "summaries", "days", "set members"
ALERT_ITEMS, SEAL_ITEMS = "alerts", "sealed identities"
ERASED_KINDS = (SUMMARY_ITEMS, DAY_ITEMS, MEMBER_ITEMS, ALERT_ITEMS, SEAL_ITEMS)
NAMING_FIELDS = ("identity", "revealedBy")  # the fields of an alert that name an identity


def partition_keys_query(identity: str) -> dict[str, Any]:
    """The keys of every item of an identity's partition: its summary, days and set members."""
    return {**history_query(identity), "ProjectionExpression": "pk, sk"}


def kind_of(key: Item) -> str:
    """What an item of an identity's partition is (its sort key says)."""
    sk = key["sk"]["S"]
    return MEMBER_ITEMS if sk.startswith(MEMBER_PREFIX) else DAY_ITEMS if sk.startswith(DAY_PREFIX) else SUMMARY_ITEMS


def deletion_order(keys: Iterable[Item]) -> list[Item]:
    """An identity partition's items, set members first and the summary last: a run cut short still
    finds the identity by its summary (index listing)."""
    return sorted(keys, key=lambda key: ERASED_KINDS.index(kind_of(key)), reverse=True)


def claim_keys(identity: str, keys: Iterable[Item]) -> list[Item]:
    """The keys the claims of alerts once per `identity` (and service) can have: every rule and service, in
    the windows `ever` and each day the identity's partition `keys` hold (a claim not yet published is in no
    index)."""
    days = sorted({key["sk"]["S"][len(DAY_PREFIX) :] for key in keys if key["sk"]["S"].startswith(DAY_PREFIX)})
    return [
        {
            "pk": {"S": partition(f"{ALERT_PREFIX}{rule}#{window}#{identity_subject(identity, service)}")},
            "sk": {"S": "ALERT"},
        }
        for rule in RULES
        for window in ("ever", *days)
        for service in SERVICES
    ]


def names_any(item: Item, identities: Iterable[str]) -> bool:
    """Whether a published alert item names one of `identities` (its identity, or who revealed one)."""
    sent = alert_from_item(item)
    return any(sent.get(field) in identities for field in NAMING_FIELDS)


def deletion(key: Item) -> dict[str, Any]:
    """Delete an item, returning it when it was there (so a repeated erasure counts nothing twice)."""
    return {"Key": {"pk": key["pk"], "sk": key["sk"]}, "ReturnValues": "ALL_OLD"}


# Migration to pseudonyms (contract section 10): the same items, under the pseudonymous identity.
def key_of(item: Item) -> tuple[str, str]:
    return item["pk"]["S"], item["sk"]["S"]


def rewritten(item: Item, identity: str, source_ip: Callable[[str], str]) -> Item:
    """An item of an identity's partition (summary, day, set member) as it reads under `identity`, an
    address member as `source_ip` writes it; every counter, bound and expiry as it was."""
    new = {**item, "pk": {"S": identity_partition(identity)}}
    if (old := item.get("identity", {}).get("S")) is not None:
        new["identity"] = {"S": identity}
        for name in ("principal", "rollup"):  # a principal that is the identity is written as the identity
            if item.get(name, {}).get("S") == old:
                new[name] = {"S": identity}
    if "periodSort" in item:
        new["periodSort"] = {"S": period_sort(item["day"]["S"], identity)}
    if is_member(item) and item["set"]["S"] == "sourceIps":
        value = source_ip(item["member"]["S"])
        new |= {"member": {"S": value}, "sk": {"S": _member_sk(item["scope"]["S"], "sourceIps", value)}}
    return new


def rewritten_alert(item: Item, sent: dict[str, Any]) -> Item:
    """A published alert's item holding `sent` instead: its claim key and period place follow the
    identity the alert now names."""
    key = claim_key(Alert.from_json(sent))
    new = {**item, **key, "alert": {"S": json.dumps(sent, ensure_ascii=False)}, "title": {"S": sent["title"]}}
    if "periodSort" in item and (day := alert_day(sent)):
        new["periodSort"] = {"S": period_sort(day, key["pk"]["S"].removeprefix(ALERT_PREFIX))}
    return new
