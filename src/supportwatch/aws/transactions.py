"""moto's DynamoDB transactions without a copy of the whole table, for the embedded AWS only.

moto's `transact_write_items` deep-copies every table a transaction names, to restore it if the
transaction is cancelled: each transaction costs time and memory in proportion to the table, so
`supportwatch local` was quadratic (3,000 support events: 305 s, 6.1 GB). While `patched()` is
active, that snapshot is the table itself (no copy) and the rollback restores what the transaction
touched instead: a deep copy of each item its operations name, taken before it runs, put back (or
removed, for an item that did not exist) when it fails. DynamoDB's all-or-nothing semantics hold as
before; requests are still served one at a time by the embedded AWS, which gives the isolation.

The patch relies on moto's internals; `patched()` checks them first and refuses, naming the moto
version, when they are not the ones this module was written against (moto 5.x).
"""

from __future__ import annotations

import contextlib
import copy
import importlib.metadata
import inspect
import threading
import types
from collections.abc import Iterator
from typing import Any

SUPPORTED_MAJOR = 5
_EXPECTED = {
    "transact_write_items": (
        "original_table_state[table_name] = copy.deepcopy(",
        "self.tables[table_name] = original_table_state[table_name]",
    ),
    "Table.__init__": ("self.items = defaultdict(dict)",),
}

_lock = threading.Lock()
_users = 0
_original: Any = None


class UnsupportedMoto(ValueError):
    """The installed moto is not one whose transaction internals this patch knows (the CLI: one line, exit 2)."""


class _CopyKeepingTables(types.ModuleType):
    """The `copy` module as moto's DynamoDB backend sees it: a Table "deep-copied" is the table itself."""

    def __init__(self, table_type: type) -> None:
        super().__init__("copy")
        self._table_type = table_type

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, self._table_type) else copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _check(models: types.ModuleType) -> None:
    version = importlib.metadata.version("moto")
    sources = {
        "transact_write_items": models.DynamoDBBackend.transact_write_items,
        "Table.__init__": models.Table.__init__,
    }
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
            f"the embedded AWS patches moto {SUPPORTED_MAJOR}.x's DynamoDB transactions, but moto {version} "
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
        _original(self, transact_items)
    except Exception:  # cancelled, invalid, or anything else: nothing of it stays written
        _restore(touched)
        raise


@contextlib.contextmanager
def patched() -> Iterator[None]:
    """moto's DynamoDB transactions copy only the items they touch, for as long as this lasts."""
    global _users, _original
    import moto.dynamodb.models as models

    with _lock:
        if _users == 0:
            _check(models)
            _original = models.DynamoDBBackend.transact_write_items
            models.copy = _CopyKeepingTables(models.Table)
            models.DynamoDBBackend.transact_write_items = _transact_write_items
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                models.DynamoDBBackend.transact_write_items = _original
                models.copy = copy
