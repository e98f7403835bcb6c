"""The table's identity mode on moto: recorded on a table's first use, a switch over held identities refused."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from supportwatch.aws.local import deploy
from supportwatch.aws.store import SummaryStore
from supportwatch.decoding.records import to_support_event
from supportwatch.privacy import IdentityMode, ModeConflict, Pseudonymizer
from tests.helpers import MotoAccount, support_record

KEY = b"k" * 32
PSEUDO = IdentityMode("pseudonymous", Pseudonymizer(KEY).fingerprint)


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> SummaryStore:
    with mock_aws():
        table = deploy(MotoAccount(), Path(__file__).resolve().parents[2] / "template.yaml").table
        yield SummaryStore(boto3.client("dynamodb"), table)


def items(store: SummaryStore) -> list[dict]:
    return boto3.client("dynamodb").scan(TableName=store.table_name)["Items"]


def test_plain_table_records_nothing(store: SummaryStore) -> None:
    store.settle_identity_mode(IdentityMode())
    assert items(store) == [] and store.identity_mode() is None


def test_new_table_takes_the_pseudonymous_mode_and_keeps_no_key(store: SummaryStore) -> None:
    store.settle_identity_mode(PSEUDO)
    assert store.identity_mode() == PSEUDO
    (item,) = items(store)
    assert item["mode"] == {"S": "pseudonymous"} and item["keyFingerprint"] == {"S": PSEUDO.fingerprint}
    assert KEY.decode() not in str(item)
    store.settle_identity_mode(PSEUDO)  # the next cold start: one read, nothing written
    assert len(items(store)) == 1


def test_clear_identities_refuse_the_pseudonymous_mode_until_migrated(store: SummaryStore) -> None:
    store.commit("a.json", [to_support_event(support_record())])
    with pytest.raises(
        ModeConflict, match=f"table {store.table_name} holds identities in clear.*migrate --pseudonymize"
    ):
        store.settle_identity_mode(PSEUDO)
    assert store.identity_mode() is None
    store.set_identity_mode(PSEUDO)  # what the migration records once it rewrote the table
    store.settle_identity_mode(PSEUDO)
    with pytest.raises(ModeConflict, match="holds pseudonymous identities"):
        store.settle_identity_mode(IdentityMode())
