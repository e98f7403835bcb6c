"""Test-wide settings: no real AWS can ever be reached from the suite."""

from __future__ import annotations

import os
from collections.abc import Iterator

import botocore.session
import pytest

from supportwatch.aws.clients import shared_loader
from tests import item_size

TEST_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "supportwatch",
    "POWERTOOLS_METRICS_NAMESPACE": "SupportWatchTests",
}


# Set as this file is imported, before any conftest or test module imports the handler: Powertools
# reads its settings when the handler module creates its Logger and Metrics.
os.environ.update(TEST_ENVIRONMENT)
for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)
item_size.install()  # every DynamoDB client the tests and the code under test create
# Every session reads the process's shared service models, as the code's own do (aws/clients.py): moto gives
# each mock its own default session, which would parse them again (a seventh of a handler test's time).
botocore.session.create_loader = shared_loader


@pytest.fixture(autouse=True)
def offline_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region for every test, whatever an earlier test changed."""
    for name, value in TEST_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def items_within_dynamodb_limit() -> Iterator[None]:
    """Fail a test that wrote an item DynamoDB would refuse (over 400 KB; moto does not check: see
    tests/item_size.py)."""
    item_size.oversized.clear()
    yield
    if item_size.oversized:
        pytest.fail("DynamoDB refuses items over 400 KB:\n" + "\n".join(item_size.oversized[:5]), pytrace=False)
