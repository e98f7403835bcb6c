"""Property: whatever the split into files, duplicate deliveries and order, the table equals a plain count."""

from __future__ import annotations

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from supportwatch import handler
from supportwatch.aws.local import deploy
from supportwatch.aws.store import SummaryStore
from supportwatch.export import export_document
from tests.helpers import (
    TEMPLATE,
    MotoAccount,
    comparable,
    expected_totals,
    gzip_document,
    random_support_records,
    s3_event,
)
from tests.integration.conftest import LambdaContext

PREFIX = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/"


@st.composite
def deliveries(draw):
    """Records (CloudTrail duplicates included), files holding them, and the deliveries in some order."""
    records = random_support_records(draw(st.integers(1, 40)), seed=draw(st.integers(0, 10_000)), identities=4)
    records += draw(st.lists(st.sampled_from(records), max_size=10))  # the same event in two files
    files = draw(st.integers(1, 5))
    split = [draw(st.integers(0, files - 1)) for _ in records]
    contents = {
        f"{PREFIX}f{n}.json.gz": [r for r, f in zip(records, split, strict=True) if f == n] for n in range(files)
    }
    order = draw(st.permutations(list(contents)))
    order += draw(st.lists(st.sampled_from(list(contents)), max_size=4))  # S3 notifies at least once
    batches = draw(st.lists(st.integers(1, 3), min_size=len(order), max_size=len(order)))
    return records, contents, order, batches


@pytest.mark.usefixtures("light_transactions")  # single-threaded: one request at a time
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=deliveries())
def test_stored_summaries_equal_a_straightforward_count(monkeypatch, case):
    records, contents, order, batches = case
    with mock_aws():
        resources = deploy(MotoAccount(), TEMPLATE)
        for name, value in resources.function_environment.items():
            monkeypatch.setenv(name, value)
        handler.processor.cache_clear()
        s3 = boto3.client("s3")
        for key, body in contents.items():
            s3.put_object(Bucket=resources.bucket, Key=key, Body=gzip_document(body))
        position = 0
        for size in batches:  # one notification may name several objects
            keys = order[position : position + size]
            if keys:
                handler.lambda_handler(s3_event(resources.bucket, *keys), LambdaContext())
            position += size
        if position < len(order):
            handler.lambda_handler(s3_event(resources.bucket, *order[position:]), LambdaContext())
        stored = export_document(SummaryStore(boto3.client("dynamodb"), resources.table).identities())
        handler.processor.cache_clear()
    assert comparable(stored) == expected_totals(records)
