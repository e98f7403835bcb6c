"""The embedded AWS's DynamoDB transactions: all or nothing, as DynamoDB documents, without copying
the table (moto's own implementation deep-copies every table a transaction names)."""

from __future__ import annotations

import importlib.metadata

import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

from supportwatch.aws import transactions
from supportwatch.aws.local import EmbeddedAws


@pytest.fixture
def aws(monkeypatch):
    """The embedded AWS, in which copying a table fails loudly."""

    def refuse(self, memo):
        raise AssertionError("a DynamoDB table was deep-copied")

    monkeypatch.setattr(Table, "__deepcopy__", refuse, raising=False)
    with EmbeddedAws() as aws:
        yield aws


def table(aws, name: str, range_key: bool) -> object:
    dynamodb = aws.client("dynamodb")
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key:
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attributes.append({"AttributeName": "sk", "AttributeType": "S"})
    dynamodb.create_table(
        TableName=name, KeySchema=schema, AttributeDefinitions=attributes, BillingMode="PAY_PER_REQUEST"
    )
    return dynamodb


def key(pk: str, range_key: bool) -> dict:
    return {"pk": {"S": pk}, **({"sk": {"S": "x"}} if range_key else {})}


def everything(dynamodb, name: str) -> list[dict]:
    return sorted(dynamodb.scan(TableName=name)["Items"], key=lambda item: item["pk"]["S"])


@pytest.mark.parametrize("range_key", [True, False])
def test_a_cancelled_transaction_leaves_nothing_written(aws, range_key):
    dynamodb = table(aws, "t", range_key)
    dynamodb.put_item(TableName="t", Item={**key("counted", range_key), "n": {"N": "1"}})
    dynamodb.put_item(TableName="t", Item={**key("taken", range_key), "owner": {"S": "someone"}})
    before = everything(dynamodb, "t")
    with pytest.raises(ClientError) as raised:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {**key("new", range_key), "n": {"N": "1"}}}},
                {
                    "Update": {
                        "TableName": "t",
                        "Key": key("counted", range_key),
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {"Delete": {"TableName": "t", "Key": key("taken", range_key)}},
                {
                    "Put": {  # the last operation's condition fails: none of the three above may stay
                        "TableName": "t",
                        "Item": {**key("claim", range_key)},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert everything(dynamodb, "t") == before


def test_a_transaction_naming_one_item_twice_leaves_nothing_written(aws):
    dynamodb = table(aws, "t", range_key=True)
    item = {**key("once", True), "n": {"N": "1"}}
    with pytest.raises(ClientError) as raised:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {**key("first", True)}}},
                {"Put": {"TableName": "t", "Item": item}},
                {"Put": {"TableName": "t", "Item": item}},
            ]
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert everything(dynamodb, "t") == []


def test_a_committed_transaction_writes_everything_and_later_ones_still_roll_back(aws):
    dynamodb = table(aws, "t", range_key=True)
    for round_number in range(3):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {**key(f"item-{round_number}", True)}}},
                {
                    "Update": {
                        "TableName": "t",
                        "Key": key("total", True),
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ]
        )
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "t",
                        "Key": key("total", True),
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": "t",
                        "Key": key("absent", True),
                        "ConditionExpression": "n > :z",
                        "ExpressionAttributeValues": {":z": {"N": "0"}},
                    }
                },
            ]
        )
    items = {item["pk"]["S"]: item for item in everything(dynamodb, "t")}
    assert sorted(items) == ["item-0", "item-1", "item-2", "total"]
    assert items["total"]["n"] == {"N": "3"}


def test_the_patch_is_removed_when_the_embedded_aws_stops():
    original = DynamoDBBackend.transact_write_items
    with EmbeddedAws():
        assert DynamoDBBackend.transact_write_items is not original
    assert DynamoDBBackend.transact_write_items is original


def test_an_unknown_moto_is_refused_with_the_reason(monkeypatch):
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "6.0.0")
    original = DynamoDBBackend.transact_write_items
    refused = pytest.raises(transactions.UnsupportedMoto, match=r"moto 6\.0\.0 is installed: install moto>=5,<6")
    with refused, transactions.patched():
        pass
    assert DynamoDBBackend.transact_write_items is original
