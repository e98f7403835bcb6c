"""An identity with 3,000 source addresses (CI runners on IPv6) through the handler: every item stays
under DynamoDB's 400 KB (checked on every write, tests/item_size.py) and under 2 KB, counts and the export are
exact. No item grows with the addresses, so 3,000 proves what 12,000 would (where the old layout's summary set,
468,000 bytes, was refused): the old set was 117 KB here, 60 times the bound asserted."""

from __future__ import annotations

import boto3
from moto import mock_aws

from supportwatch.aws.store import SummaryStore
from supportwatch.export import export_document
from tests import item_size
from tests.helpers import support_record

KEY = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/111122223333_CloudTrail_us-east-1_20230911T1635Z_a.json.gz"
ADDRESSES = 3_000
OLD_SET_ADDRESSES = 12_000  # what the old layout's summary set took past 400 KB (468,000 bytes)
RUNNER = "arn:aws:iam::111122223333:user/ci-runner"


def ipv6(number: int) -> str:
    return f"2001:db8:ffff:ffff:ffff:ffff:{number >> 16:04x}:{number & 0xFFFF:04x}"  # 39 bytes, as long as IPv6 gets


def test_item_size_follows_dynamodbs_rules():
    # name bytes + value bytes; a number: 1 byte per 2 significant digits + 1; a map: 3 + per entry 1 + name + value
    item = {"pk": {"S": "é"}, "n": {"N": "-1200.0"}, "m": {"M": {"a": {"BOOL": True}}}, "ss": {"SS": ["ab", "c"]}}
    assert item_size.item_size(item) == (2 + 2) + (1 + 2) + (1 + 3 + 1 + 1 + 1) + (2 + 3)


def test_the_check_sees_an_update_over_the_limit():
    """What the old layout did (ADD to a string set on the summary) is caught, though moto stores it
    (moto refuses a PutItem over its own 405,000 bytes, never an update that grows an item)."""
    with mock_aws():
        db = boto3.client("dynamodb", region_name="us-east-1")
        db.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        db.put_item(TableName="t", Item={"pk": {"S": "small"}, "v": {"S": "x" * 1000}})
        assert item_size.oversized == []
        for start in range(0, OLD_SET_ADDRESSES, 1000):
            addresses = [ipv6(n) for n in range(start, start + 1000)]
            db.update_item(
                TableName="t",
                Key={"pk": {"S": "set"}},
                UpdateExpression="ADD ips :a",
                ExpressionAttributeValues={":a": {"SS": addresses}},
            )
        assert item_size.oversized and all("UpdateItem left an item" in line for line in item_size.oversized)
    item_size.oversized.clear()  # seen: this test wrote them on purpose


def test_three_thousand_addresses_through_the_handler(stack):
    records = [support_record(arn=RUNNER, ip=ipv6(n), time=f"2023-09-11T{n % 24:02d}:00:00Z") for n in range(ADDRESSES)]
    stack.put_records(KEY, records)
    report = stack.invoke(KEY)["reports"][0]
    assert report["counted"] == ADDRESSES and report["outcome"] == "counted", report
    store = SummaryStore(boto3.client("dynamodb"), stack.resources.table)
    exported = export_document(store.identities())["summaries"][RUNNER]
    expected = sorted(ipv6(n) for n in range(ADDRESSES))
    assert exported["totalCalls"] == ADDRESSES and exported["sourceIps"] == expected
    assert exported["regions"] == ["us-east-1"] and exported["accountIds"] == ["111122223333"]
    summary, days = store.history(RUNNER)
    assert summary is not None and sorted(summary.source_ips) == expected
    assert [(day.day, day.total_calls, sorted(day.source_ips)) for day in days] == [("2023-09-11", ADDRESSES, expected)]
    (day,) = store.between("2023-09-11", "2023-09-11")
    assert sorted(day.source_ips) == expected and day.regions == {"us-east-1"}
    pages = boto3.client("dynamodb").get_paginator("scan").paginate(TableName=stack.resources.table)
    largest = max(item_size.item_size(item) for page in pages for item in page["Items"])
    assert largest < 2048, largest  # no item grows with the addresses (the old summary set: 117,000 bytes)
    # Again (a redelivery): nothing counted twice, and no write grew anything.
    assert stack.invoke(KEY)["reports"][0]["counted"] == 0
    assert export_document(store.identities())["summaries"][RUNNER]["totalCalls"] == ADDRESSES
