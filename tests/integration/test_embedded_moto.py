"""The embedded AWS's patches of moto: DynamoDB transactions all or nothing, as DynamoDB documents,
without copying the table (moto's own deep-copies every table a transaction names); Queries that
answer exactly as moto's own without walking the whole table; SQS that sends and receives without
counting the queue for every message."""

from __future__ import annotations

import importlib.metadata
import random
from collections.abc import Callable
from typing import Any

import moto.core.utils
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.sqs.models import Queue

from supportwatch.aws import moto_patches
from supportwatch.aws.clients import client
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


def test_the_patches_are_removed_when_the_embedded_aws_stops():
    originals = [DynamoDBBackend.transact_write_items, Table.query, vars(Queue)["approximate_number_of_messages"]]
    with EmbeddedAws():
        assert DynamoDBBackend.transact_write_items is not originals[0] and Table.query is not originals[1]
    assert [
        DynamoDBBackend.transact_write_items,
        Table.query,
        vars(Queue)["approximate_number_of_messages"],
    ] == originals


def test_an_unknown_moto_is_refused_with_the_reason(monkeypatch):
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "6.0.0")
    original = DynamoDBBackend.transact_write_items
    refused = pytest.raises(moto_patches.UnsupportedMoto, match=r"moto 6\.0\.0 is installed: install moto>=5,<6")
    with refused, moto_patches.patched():
        pass
    assert DynamoDBBackend.transact_write_items is original


@pytest.fixture
def plain_moto(moto_server) -> Callable[[str], Any]:
    """Clients of moto's own server (patched or not by the test)."""
    return lambda service: client(service, endpoint_url=moto_server, region_name="us-east-1")


def indexed_table(dynamodb) -> None:
    """Three partitions and a sparse index whose keys cross them, written in a shuffled order."""
    dynamodb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "listed", "period")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "listing",
                "KeySchema": [
                    {"AttributeName": "listed", "KeyType": "HASH"},
                    {"AttributeName": "period", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    items = [
        {
            "pk": {"S": f"P#{partition}"},
            "sk": {"S": f"S#{number:03d}"},
            "n": {"N": str(number % 7)},
            "pad": {"S": "x" * 200},
            **({"listed": {"S": "yes"}, "period": {"S": f"2024-01-{number % 28 + 1:02d}"}} if number % 3 else {}),
        }
        for partition in ("a", "b", "c")
        for number in range(60)
    ]
    random.Random(7).shuffle(items)
    for item in items:
        dynamodb.put_item(TableName="t", Item=item)


QUERIES = [
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "P#b"}}},
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "P#none"}}},
    {
        "KeyConditionExpression": "pk = :p AND sk BETWEEN :low AND :high",
        "ExpressionAttributeValues": {":p": {"S": "P#a"}, ":low": {"S": "S#010"}, ":high": {"S": "S#042"}},
        "ScanIndexForward": False,
        "Limit": 7,
    },
    {
        "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
        "FilterExpression": "n > :z",
        "ProjectionExpression": "sk, n",
        "ExpressionAttributeValues": {":p": {"S": "P#c"}, ":s": {"S": "S#0"}, ":z": {"N": "3"}},
        "Limit": 9,
    },
    {
        "IndexName": "listing",
        "KeyConditionExpression": "listed = :l AND period BETWEEN :since AND :until",
        "ExpressionAttributeValues": {":l": {"S": "yes"}, ":since": {"S": "2024-01-03"}, ":until": {"S": "2024-01-20"}},
        "Limit": 11,
    },
    {
        "IndexName": "listing",
        "KeyConditionExpression": "listed = :l",
        "ExpressionAttributeValues": {":l": {"S": "yes"}},
        "ScanIndexForward": False,
    },
]


def answers(dynamodb) -> list[list[dict]]:
    """Every page of every query in QUERIES: items and LastEvaluatedKey, as the client sees them."""
    found = []
    for query in QUERIES:
        pages = dynamodb.get_paginator("query").paginate(TableName="t", **query)
        found.append([(page["Items"], page.get("LastEvaluatedKey")) for page in pages])
    return found


def test_queries_answer_as_moto_does_without_sorting_the_table(plain_moto, monkeypatch):
    dynamodb = plain_moto("dynamodb")
    indexed_table(dynamodb)
    expected = answers(dynamodb)  # moto's own Query
    assert sum(len(items) for items, _ in expected[0]) == 60 and len(expected[2]) > 1  # pages were read

    def refuse(self):
        raise AssertionError("a Query walked the whole table")

    with moto_patches.patched():
        monkeypatch.setattr(Table, "all_items", refuse)
        assert answers(dynamodb) == expected


def test_sqs_sends_without_counting_and_receives_within_retention(plain_moto, monkeypatch):
    sqs = plain_moto("sqs")
    with moto_patches.patched():
        url = sqs.create_queue(QueueName="inbox", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
        walks = []
        walk = vars(Queue)["messages"].fget
        monkeypatch.setattr(Queue, "messages", property(lambda queue: walks.append(1) or walk(queue)))
        for number in range(25):
            sqs.send_message(QueueUrl=url, MessageBody=f"m{number}")
        assert walks == []  # no message sent counted the queue
        counted = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert counted["ApproximateNumberOfMessages"] == "25"  # a count asked for is still a count
        received = []
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            received += [message["Body"] for message in messages]
        assert sorted(received) == sorted(f"m{number}" for number in range(25))

        sqs.send_message(QueueUrl=url, MessageBody="late")
        clock = moto.core.utils.unix_time
        monkeypatch.setattr(moto.core.utils, "unix_time", lambda when=None: clock(when) + 61)  # past retention
        assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
