"""DynamoDB's 400 KB item limit, which moto does not enforce, checked on every write the tests make.

`install()` wraps botocore's `Session.create_client`, so every DynamoDB client (in-process `mock_aws`,
the embedded moto server's, the handler's and the CLI's) gets an `after-call` hook. After each
successful write it sizes the items the write left behind by DynamoDB's documented rules
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html:
attribute name bytes plus value bytes; a number 1 byte per two significant digits plus 1; a List or
Map 3 bytes plus 1 per element) and records every item over 400 KB; the test fails at teardown
(tests/conftest.py). DynamoDB refuses a write whose resulting item would exceed the limit, so an
item over it here is a write DynamoDB would have failed:
- a PutItem (alone, in a transaction or a batch) stores exactly the item it sends: sized from the request;
- an UpdateItem's result depends on what was stored, so the item is read back from moto's backend
  (in this process for `mock_aws` and the embedded server alike) after the write, without a request
  that a test counting or faulting requests would see. A table on a server in another process
  (a plain `moto_server`) is not visible: its updates go unchecked, its puts are still checked.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import botocore.session

MAX_ITEM_BYTES = 400 * 1024
WRITES = {"PutItem", "UpdateItem", "TransactWriteItems", "BatchWriteItem"}
oversized: list[str] = []  # what the running test wrote over the limit


def _number_size(text: str) -> int:
    digits = Decimal(text).normalize().as_tuple().digits
    return (len(digits) + 1) // 2 + 1


def value_size(value: dict[str, Any]) -> int:
    """Bytes of one attribute value (without its name)."""
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return _number_size(raw)
    if kind == "B":
        return len(base64.b64decode(raw) if isinstance(raw, str) else raw)
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: element}) for element in raw)
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in raw)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + value_size(element) for name, element in raw.items())
    return 1  # BOOL, NULL


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def _written(operation: str, params: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(kind, table, item or key) of every item a write names: `put` items, `update` keys."""
    if operation == "PutItem":
        yield "put", params["TableName"], params["Item"]
    elif operation == "UpdateItem":
        yield "update", params["TableName"], params["Key"]
    elif operation == "TransactWriteItems":
        for action in params["TransactItems"]:
            if put := action.get("Put"):
                yield "put", put["TableName"], put["Item"]
            elif update := action.get("Update"):
                yield "update", update["TableName"], update["Key"]
    elif operation == "BatchWriteItem":
        for table, requests in params["RequestItems"].items():
            for request in requests:
                if put := request.get("PutRequest"):
                    yield "put", table, put["Item"]


def _stored(region: str, table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
    """The item as moto holds it now (None when the table is not in this process)."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType

    for account in list(dynamodb_backends):
        table = dynamodb_backends[account][region].tables.get(table_name)
        if table is None or table.hash_key_attr not in key:
            continue
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        found = table.get_item(DynamoType(key[table.hash_key_attr]), range_key)
        return None if found is None else found.to_json()["Attributes"]
    return None


def _remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context["item_size_params"] = params


def _check(region: str, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    params = context.get("item_size_params")
    if model.name not in WRITES or "Error" in parsed or params is None:
        return  # a refused write stored nothing
    for kind, table, named in _written(model.name, params):
        item = named if kind == "put" else _stored(region, table, named)
        if item is not None and (size := item_size(item)) > MAX_ITEM_BYTES:
            key = {name: item[name] for name in ("pk", "sk") if name in item}
            oversized.append(f"{model.name} left an item of {size} bytes (> {MAX_ITEM_BYTES}) in {table}: {key}")


def install() -> None:
    """Check every write of every DynamoDB client created from now on."""
    create_client = botocore.session.Session.create_client

    def checked_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        made = create_client(self, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            region = made.meta.region_name
            made.meta.events.register("before-parameter-build.dynamodb", _remember)
            made.meta.events.register("after-call.dynamodb", lambda **event: _check(region, **event))
        return made

    botocore.session.Session.create_client = checked_client  # type: ignore[method-assign]
