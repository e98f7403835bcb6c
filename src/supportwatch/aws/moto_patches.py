"""moto's server at the cost of what each request touches, for the embedded AWS only.

moto keeps every table and queue in memory and answers some requests by walking all of it, which
made `supportwatch local` quadratic in the events it counts. While `patched()` is active:

- TransactWriteItems does not deep-copy every table it names (to restore it if the transaction is
  cancelled): the snapshot is the table itself, and the rollback restores what the transaction
  touched instead, a deep copy of each item its operations name, taken before it runs, put back (or
  removed, for an item that did not exist) when it fails. All or nothing, as DynamoDB documents.
- Query is handed only the items it can return. moto sorted the whole table by primary key on every
  Query and then kept the items of the queried partition (`local` reads each identity's set members
  with one Query: 341 Queries took 74% of a 1,000-event run). A table Query now sees its partition
  only; an index Query sees every item unsorted, which moto filters by the index's keys and sorts by
  them itself (the table-wide order was never used: no two items tie on the index's keys and the
  table's). Same items, same order, pages, filters and projections.
- SQS does not count a queue's messages for each message sent or received. moto built every
  attribute of the queue (ApproximateNumberOfMessages and its two siblings walk the queue) to read
  ContentBasedDeduplication for each message sent and MessageRetentionPeriod for each message
  received: the alert inbox was quadratic in the alerts. SendMessage now leaves the three counts
  out (it reads no count), and ReceiveMessage reads the retention period from the queue.

Requests are served one at a time by the embedded AWS: that isolates transactions as DynamoDB does,
and keeps the Query's view of one table private to the request that set it.

The patches rely on moto's internals; `patched()` checks them first and refuses, naming the moto
version, when they are not the ones this module was written against (moto 5.x).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib.metadata
import inspect
import threading
import types
from collections.abc import Callable, Iterator
from typing import Any

SUPPORTED_MAJOR = 5
# Source lines of moto's the patches rely on: what they replace, and how moto uses what they hand it.
_EXPECTED = {
    "transact_write_items": (
        "original_table_state[table_name] = copy.deepcopy(",
        "self.tables[table_name] = original_table_state[table_name]",
    ),
    "Table.__init__": ("self.items = defaultdict(dict)",),
    "Table.query": (
        "for item in self.all_items():",
        "if isinstance(item, Item) and item.hash_key == hash_key",
        "possible_results = self.sorted_items(",
        "possible_results.sort(key=lambda item: item.range_key)",
    ),
    "is_message_valid_based_on_retention_period": ('queue_name, ["MessageRetentionPeriod"]',),
    "send_message": ('queue.attributes.get("ContentBasedDeduplication")',),
    "Queue.attributes": ("for attribute in self.BASE_ATTRIBUTES:",),
}
# The attributes that count a queue's messages, each a walk of the whole queue.
_COUNTS = (
    "approximate_number_of_messages",
    "approximate_number_of_messages_delayed",
    "approximate_number_of_messages_not_visible",
)

_lock = threading.Lock()
_users = 0
_originals: dict[str, Any] = {}  # attribute name -> moto's own, while patched
_patched: list[tuple[Any, str]] = []
_signature = functools.cache(inspect.signature)  # moto's Table.query, read once rather than on every Query
_sending = threading.local()  # set while SQS sends a message: its queue's attributes are read without counts


class UnsupportedMoto(ValueError):
    """The installed moto is not one whose internals these patches know (the CLI: one line, exit 2)."""


class _CopyKeepingTables(types.ModuleType):
    """The `copy` module as moto's DynamoDB backend sees it: a Table "deep-copied" is the table itself."""

    def __init__(self, table_type: type) -> None:
        super().__init__("copy")
        self._table_type = table_type

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, self._table_type) else copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _sources() -> dict[str, Callable[..., Any]]:
    import moto.dynamodb.models as models
    from moto.sqs.models import Queue, SQSBackend

    return {
        "transact_write_items": models.DynamoDBBackend.transact_write_items,
        "Table.__init__": models.Table.__init__,
        "Table.query": models.Table.query,
        "is_message_valid_based_on_retention_period": SQSBackend.is_message_valid_based_on_retention_period,
        "send_message": SQSBackend.send_message,
        "Queue.attributes": Queue.attributes.fget,
    }


def _check(sources: dict[str, Callable[..., Any]]) -> None:
    version = importlib.metadata.version("moto")
    try:
        changed = [
            name
            for name, function in sources.items()
            if not all(line in inspect.getsource(function) for line in _EXPECTED[name])
        ]
    except (OSError, TypeError):
        changed = list(sources)
    if int(version.split(".")[0]) != SUPPORTED_MAJOR or changed:
        raise UnsupportedMoto(
            f"the embedded AWS patches moto {SUPPORTED_MAJOR}.x's DynamoDB and SQS internals, but moto {version} "
            f"{'changed ' + ', '.join(changed) if changed else 'is installed'}: "
            f"install moto>={SUPPORTED_MAJOR},<{SUPPORTED_MAJOR + 1}"
        )


def _touched(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    """(table, hash key, range key, deep copy of the item or None) for every item the transaction names."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    found = []
    for entry in transact_items:
        if not isinstance(entry, dict) or len(entry) != 1:
            continue
        ((operation, request),) = entry.items()
        table = backend.tables.get(request.get("TableName")) if isinstance(request, dict) else None
        if table is None:
            continue
        key = request.get("Item" if operation == "Put" else "Key") or {}
        names = [table.hash_key_attr, *([table.range_key_attr] if table.range_key_attr else [])]
        if not all(name in key for name in names):
            continue  # moto rejects the operation before it writes anything
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        rows = table.items.get(hash_value)
        item = rows.get(range_value) if range_value is not None and rows is not None else rows
        found.append((table, hash_value, range_value, copy.deepcopy(item)))
    return found


def _restore(touched: list[tuple[Any, Any, Any, Any]]) -> None:
    for table, hash_value, range_value, item in reversed(touched):
        if range_value is None:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
            continue
        rows = table.items[hash_value]
        if item is None:
            rows.pop(range_value, None)
            if not rows:
                del table.items[hash_value]
        else:
            rows[range_value] = item


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    touched = _touched(self, transact_items)
    try:
        _originals["transact_write_items"](self, transact_items)
    except Exception:  # cancelled, invalid, or anything else: nothing of it stays written
        _restore(touched)
        raise


def _candidates(table: Any, hash_key: Any, index_name: str | None) -> list[Any]:
    """What a Query can return: the partition of `hash_key` on the table, every item (unsorted) on an index."""
    if index_name is None:
        rows = table.items.get(hash_key)  # (a defaultdict: `get` adds no empty partition)
        if rows is None:
            return []
        return list(rows.values()) if table.range_key_attr else [rows]
    if table.range_key_attr:
        return [item for rows in table.items.values() for item in rows.values()]
    return list(table.items.values())


def _query(self: Any, *args: Any, **kwargs: Any) -> Any:
    original = _originals["query"]
    arguments = _signature(original).bind(self, *args, **kwargs).arguments
    hash_key, index_name = arguments.get("hash_key"), arguments.get("index_name")
    if hash_key is None and not index_name:
        return original(self, *args, **kwargs)
    candidates = _candidates(self, hash_key, index_name)
    self.all_items = lambda: candidates  # for this request only (requests are served one at a time)
    try:
        return original(self, *args, **kwargs)
    finally:
        del self.all_items


def _retained(self: Any, queue_name: str, message: Any) -> bool:
    """Whether a message is within its queue's retention period (moto's test, without counting the queue)."""
    from moto.core.utils import unix_time

    retention = int(self.get_queue(queue_name).message_retention_period)
    return retention + message.sent_timestamp / 1000 > unix_time()


def _send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
    _sending.active = True
    try:
        return _originals["send_message"](self, *args, **kwargs)
    finally:
        _sending.active = False


def _count(original: property) -> property:
    """A queue's message count, left out (0) while a message is sent: sending reads no count."""
    return property(lambda queue: 0 if getattr(_sending, "active", False) else original.fget(queue))


def _replacements() -> list[tuple[Any, str, Any]]:
    """(owner, attribute, replacement) of every patch."""
    import moto.dynamodb.models as models
    from moto.sqs.models import Queue, SQSBackend

    return [
        (models, "copy", _CopyKeepingTables(models.Table)),
        (models.DynamoDBBackend, "transact_write_items", _transact_write_items),
        (models.Table, "query", _query),
        (SQSBackend, "is_message_valid_based_on_retention_period", _retained),
        (SQSBackend, "send_message", _send_message),
        *((Queue, name, _count(vars(Queue)[name])) for name in _COUNTS),
    ]


@contextlib.contextmanager
def patched() -> Iterator[None]:
    """moto's DynamoDB and SQS at the cost of what each request touches, for as long as this lasts."""
    global _users
    with _lock:
        if _users == 0:
            _check(_sources())
            for owner, name, replacement in _replacements():
                _originals[name] = vars(owner)[name]
                _patched.append((owner, name))
                setattr(owner, name, replacement)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                while _patched:
                    owner, name = _patched.pop()
                    setattr(owner, name, _originals.pop(name))
