"""`supportwatch forget` (contract section 10): every item that holds or names one identity goes, no
other identity's numbers change, a repeat deletes nothing more, and a run cut short is finished by the
next. The table is written by the function itself (summaries, days, members, alerts and their claims).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient

from supportwatch.aws.store import SummaryStore
from supportwatch.cli.main import main
from supportwatch.decoding.records import to_support_event
from supportwatch.export import export_document
from supportwatch.models import Alert
from supportwatch.privacy import Pseudonymizer
from supportwatch.privacy.mode import IdentityMode
from tests.helpers import support_record

ADMIN = "arn:aws:iam::111122223333:user/Admin"
ROLE = "arn:aws:iam::111122223333:role/SupportEngineers"
ALICE = "arn:aws:sts::111122223333:assumed-role/SupportEngineers/alice@example.com"
KEY = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/111122223333_CloudTrail_us-east-1_20230911T1635Z_a.json.gz"
PSEUDONYM_KEY = b"forget-test-key"
INVESTIGATOR = "arn:aws:sts::111122223333:assumed-role/Investigators/dana@example.com"


def records() -> list[dict[str, Any]]:
    return [
        support_record(arn=ADMIN, time="2023-09-10T08:00:00Z", event_id="a1", ip="198.51.100.7"),
        support_record(arn=ADMIN, time="2023-09-11T09:30:00Z", event_id="a2", error="AccessDeniedException"),
        support_record(arn=ADMIN, time="2023-09-11T10:00:00Z", event_id="a3", name="ListSupportThings"),
        support_record(arn=ALICE, issuer=ROLE, time="2023-09-11T12:00:00Z", event_id="b1", region="eu-west-1"),
        support_record(arn=ALICE, issuer=ROLE, time="2023-09-11T12:05:00Z", event_id="b2", ip="198.51.100.7"),
    ]


@pytest.fixture
def table(stack) -> str:
    stack.put_records(KEY, records())
    assert stack.invoke(KEY)["reports"][0]["counted"] == 5
    return stack.resources.table


def everything(table: str) -> list[dict[str, Any]]:
    return boto3.client("dynamodb").scan(TableName=table)["Items"]


def naming(table: str, *values: str) -> list[dict[str, Any]]:
    return [item for item in everything(table) if any(value in json.dumps(item) for value in values)]


def export(table: str) -> dict[str, Any]:
    store = SummaryStore(boto3.client("dynamodb"), table)
    days = store.between("2023-09-01", "2023-09-30")
    document = export_document(store.identities(), store.alerts())
    return {**document, "days": sorted((day.identity, day.day, day.total_calls) for day in days)}


def forget(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["forget", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def without(document: dict[str, Any], identity: str) -> dict[str, Any]:
    return {
        "summaries": {key: value for key, value in document["summaries"].items() if key != identity},
        "alerts": [alert for alert in document["alerts"] if alert["identity"] != identity],
        "days": [day for day in document["days"] if day[0] != identity],
    }


def test_forget_leaves_nothing_naming_the_identity_and_every_other_number_as_it_was(table, capsys):
    before = export(table)
    rules = sorted(alert["rule"] for alert in before["alerts"] if alert["identity"] == ADMIN)
    assert rules == ["access-denied", "new-event-name", "new-identity"]  # one names it, not once per it
    sent = next(alert for alert in before["alerts"] if alert["rule"] == "access-denied")
    unpublished = Alert.from_json({**sent, "rule": "volume", "window": "2023-09-10"})  # in no index
    assert SummaryStore(boto3.client("dynamodb"), table).claim(unpublished, "an invocation that died")
    named = naming(table, ADMIN)
    code, out, err = forget(capsys, ADMIN, "--table", table)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"{ADMIN}: deleted from {table}",
        "1 summary, 2 days, 10 set members, 4 alerts, 0 sealed identities",
    ]
    assert len(named) == 1 + 2 + 10 + 4
    assert naming(table, ADMIN) == []
    after = export(table)
    assert after == without(before, ADMIN) and ALICE in after["summaries"]
    assert "198.51.100.7" in after["summaries"][ALICE]["sourceIps"]  # an address both used stays Alice's


def test_forget_twice_deletes_nothing_more_and_an_unknown_identity_is_no_error(table, capsys):
    assert forget(capsys, ADMIN, "--table", table)[0] == 0
    remaining = everything(table)
    for identity in (ADMIN, "arn:aws:iam::111122223333:user/Nobody"):
        code, out, _ = forget(capsys, identity, "--table", table)
        assert code == 0 and out.splitlines()[1] == "0 summaries, 0 days, 0 set members, 0 alerts, 0 sealed identities"
    assert everything(table) == remaining


class Stopped(Exception):
    """The process stopped mid-way (a kill, a lost connection)."""


def test_a_run_cut_short_is_finished_by_the_next(table, capsys, monkeypatch):
    named = len(naming(table, ADMIN))
    before = export(table)
    deletes = []
    send = BaseClient._make_api_call

    def stop_at_the_fifth_delete(self, operation, request):
        if operation == "DeleteItem" and deletes is not None:
            deletes.append(request)
            if len(deletes) == 5:
                raise Stopped
        return send(self, operation, request)

    monkeypatch.setattr(BaseClient, "_make_api_call", stop_at_the_fifth_delete)
    with pytest.raises(Stopped):
        main(["forget", ADMIN, "--table", table])
    deletes = None
    assert 0 < len(naming(table, ADMIN)) < named
    code, out, _ = forget(capsys, ADMIN, "--table", table)
    counts = [int(part.split()[0]) for part in out.splitlines()[1].split(", ")]
    assert code == 0 and sum(counts) == named - 4
    assert naming(table, ADMIN) == [] and export(table) == without(before, ADMIN)


def revealed_alert(pseudonym: str) -> Alert:
    return Alert(
        rule="identity-revealed",
        severity="medium",
        window="2023-09-12",
        title=f"Identity revealed: {pseudonym}",
        detail=f"{INVESTIGATOR} revealed {pseudonym}.",
        identity=pseudonym,
        revealed_by=INVESTIGATOR,
    )


def test_a_pseudonymous_table_forgets_a_pseudonym_or_an_identity_through_its_key(stack, capsys, tmp_path):
    table = stack.resources.table
    privacy = Pseudonymizer(PSEUDONYM_KEY)
    store = SummaryStore(boto3.client("dynamodb"), table)
    store.set_identity_mode(IdentityMode("pseudonymous", privacy.fingerprint))
    events = [privacy.event(to_support_event(record)) for record in records()]
    store.commit("s3://b/k", events)
    for written in {event.identity for event in events}:
        store.put_seal(written, b"ciphertext")
    for revealed in (ADMIN, ALICE):  # an investigator revealed both: named in clear, as accountable
        alert = revealed_alert(privacy.of(revealed))
        assert store.claim(alert, "function") and store.published(alert, "function") is None
    key, wrong = tmp_path / "key", tmp_path / "wrong"
    key.write_bytes(PSEUDONYM_KEY + b"\n")
    wrong.write_text("another key")
    code, out, err = forget(capsys, ADMIN, "--table", table)
    assert (code, out) == (2, "") and "holds pseudonyms: give the pseudonym" in err
    code, out, err = forget(capsys, ADMIN, "--table", table, "--pseudonymize-key", str(wrong))
    assert (code, out) == (2, "") and "the key given is not table" in err
    code, out, _ = forget(capsys, ADMIN, "--table", table, "--pseudonymize-key", str(key))
    assert code == 0 and out.splitlines()[1] == "1 summary, 2 days, 10 set members, 1 alert, 1 sealed identity"
    code, out, _ = forget(capsys, INVESTIGATOR, "--table", table, "--pseudonymize-key", str(key))
    assert code == 0 and out.splitlines()[1] == "0 summaries, 0 days, 0 set members, 1 alert, 0 sealed identities"
    code, out, _ = forget(capsys, privacy.of(ALICE), "--table", table)
    assert code == 0 and out.splitlines()[1] == "1 summary, 1 day, 10 set members, 0 alerts, 1 sealed identity"
    assert naming(table, privacy.of(ADMIN), privacy.of(ALICE), privacy.of("198.51.100.7"), INVESTIGATOR) == []
    assert store.identity_mode() == IdentityMode("pseudonymous", privacy.fingerprint)
