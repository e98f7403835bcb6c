"""`supportwatch migrate --pseudonymize` (contract section 10): a table the function wrote in clear,
rewritten in pseudonymous form. Totals per pseudonym equal the plain totals per identity (restated
apart from the code in tests/privacy.py), no real value of a person is left in any item, a repeat
changes nothing, and a run cut short is finished by the next.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient

from supportwatch.aws.store import SummaryStore
from supportwatch.cli.main import main
from supportwatch.export import export_document
from supportwatch.models import Alert
from supportwatch.privacy import IdentityMode, Pseudonymizer
from tests.helpers import random_support_records, support_record
from tests.privacy import KEY, KEY_TEXT, as_pseudonymous, leaks, pseudonym, real_values

KEY_NAME = (
    "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/111122223333_CloudTrail_us-east-1_20230911T1635Z_a.json.gz"
)
ROOT = "arn:aws:iam::111122223333:root"
LONG = (
    "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/b.builder@example.com"
)


def records() -> list[dict[str, Any]]:
    root = support_record(arn=ROOT, time="2023-09-11T07:00:00Z", event_id="r1", ip="203.0.113.9")
    root["userIdentity"]["type"] = "Root"
    long = support_record(arn=LONG, time="2023-09-11T08:00:00Z", event_id="l1", error="AccessDeniedException")
    service = support_record(arn=LONG, time="2023-09-11T08:01:00Z", event_id="l2", ip="support.amazonaws.com")
    return [*random_support_records(60, seed=7), root, long, service]


@pytest.fixture
def table(stack, tmp_path) -> str:
    stack.put_records(KEY_NAME, records())
    assert stack.invoke(KEY_NAME)["reports"][0]["counted"] == 63
    return stack.resources.table


@pytest.fixture
def key_file(tmp_path) -> str:
    path = tmp_path / "key"
    path.write_bytes(b"  " + KEY + b"\n")
    return str(path)


def store(table: str) -> SummaryStore:
    return SummaryStore(boto3.client("dynamodb"), table)


def exported(table: str) -> dict[str, Any]:
    reader = store(table)
    return export_document(reader.identities(), reader.alerts())


def days(table: str) -> dict[tuple[str, str | None], dict[str, Any]]:
    found = store(table).between("2023-09-01", "2023-09-30")
    return {(day.identity, day.day): export_document([day])["summaries"][day.identity] for day in found}


def table_text(table: str) -> str:
    return json.dumps(boto3.client("dynamodb").scan(TableName=table)["Items"])


def run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def migrate(capsys, table: str, *args: str) -> tuple[int, str, str]:
    code = main(["migrate", "--table", table, "--pseudonymize", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def pseudonymous_days(plain: dict[tuple[str, str | None], dict[str, Any]]) -> dict[tuple[str, str | None], Any]:
    found = {}
    for (identity, day), summary in plain.items():
        ((written, fields),) = as_pseudonymous({"summaries": {identity: summary}}).items()
        found[(written, day)] = fields
    return found


def test_totals_per_pseudonym_equal_the_plain_totals_and_nothing_real_is_left(table, key_file, capsys):
    plain, plain_days = exported(table), days(table)
    real = real_values(plain)
    assert LONG in real and ROOT not in real and "b.builder@example.com" in real
    assert leaks(table_text(table), real)  # the table held them in clear
    code, out, err = migrate(capsys, table, "--pseudonymize-key", key_file)
    assert (code, err) == (0, "")
    privacy = Pseudonymizer(KEY)
    assert out.splitlines() == [
        f"rewritten under pseudonyms: {len(plain['summaries'])} identities, {len(plain['alerts'])} alerts",
        f"{table}: pseudonymous, key fingerprint {privacy.fingerprint}",
    ]
    after = exported(table)
    assert after["summaries"] == as_pseudonymous(plain)
    assert ROOT in after["summaries"] and after["summaries"][ROOT]["sourceIps"] == [pseudonym("203.0.113.9")]
    assert days(table) == pseudonymous_days(plain_days)
    assert leaks(table_text(table), real) == []
    windows = sorted((alert["rule"], alert["window"]) for alert in plain["alerts"])
    assert sorted((alert["rule"], alert["window"]) for alert in after["alerts"]) == windows
    assert all(len(alert["title"]) < 100 for alert in after["alerts"])
    assert store(table).identity_mode() == IdentityMode("pseudonymous", privacy.fingerprint)
    store(table).settle_identity_mode(IdentityMode("pseudonymous", privacy.fingerprint))  # the function may start


def test_a_claim_left_unpublished_is_not_left_in_clear(table, key_file, capsys):
    """An attempt that died between claiming an alert's window and publishing it left a claim naming the
    identity in its key (in no index): migrate deletes it; published alerts are rewritten, not lost."""
    plain = exported(table)
    sent = next(alert for alert in plain["alerts"] if alert["identity"] == LONG)
    unpublished = Alert.from_json({**sent, "rule": "volume", "window": "2023-09-11"})
    assert store(table).claim(unpublished, "an invocation that died")
    assert LONG in table_text(table)
    assert migrate(capsys, table, "--pseudonymize-key", key_file)[0] == 0
    assert leaks(table_text(table), real_values(plain)) == []
    after = exported(table)["alerts"]
    assert sorted((a["rule"], a["window"]) for a in after) == sorted((a["rule"], a["window"]) for a in plain["alerts"])


def test_a_repeat_changes_nothing_and_another_key_is_refused(table, key_file, capsys, tmp_path):
    assert migrate(capsys, table, "--pseudonymize-key", key_file)[0] == 0
    before = exported(table)
    code, out, _ = migrate(capsys, table, "--pseudonymize-key", key_file)
    assert code == 0 and out.splitlines()[0] == "rewritten under pseudonyms: 0 identities, 0 alerts"
    assert exported(table) == before
    other = tmp_path / "other"
    other.write_text("another key")
    code, out, err = migrate(capsys, table, "--pseudonymize-key", str(other))
    assert (code, out) == (2, "") and len(err.splitlines()) == 1 and "this is not its key" in err
    code, _, err = migrate(capsys, table)
    assert code == 2 and "migrate --pseudonymize: no key; give the key with --pseudonymize-key FILE" in err


class Stopped(Exception):
    """The process stopped mid-way."""


@pytest.mark.parametrize("stop_at", [3, 40, 150])
def test_a_run_cut_short_is_finished_by_the_next(table, key_file, capsys, monkeypatch, stop_at):
    plain = exported(table)
    writes = []
    send = BaseClient._make_api_call

    def stop(self, operation, request):
        if operation in ("PutItem", "DeleteItem") and writes is not None:
            writes.append(operation)
            if len(writes) == stop_at:
                raise Stopped
        return send(self, operation, request)

    monkeypatch.setattr(BaseClient, "_make_api_call", stop)
    with pytest.raises(Stopped):
        main(["migrate", "--table", table, "--pseudonymize", "--pseudonymize-key", key_file])
    writes = None
    assert store(table).identity_mode() is None  # recorded last: the table still reads as plain
    assert migrate(capsys, table, "--pseudonymize-key", key_file)[0] == 0
    assert exported(table)["summaries"] == as_pseudonymous(plain)
    assert leaks(table_text(table), real_values(plain)) == []


def test_a_deployed_stack_names_the_table_and_its_key(stack, table, capsys):
    """`--stack` of a pseudonymous stack: its SummaryTableName and its secret (a plain CloudFormation
    stack with a supportwatch stack's outputs: moto cannot transform SAM)."""
    plain = exported(table)
    secret = boto3.client("secretsmanager").create_secret(Name="key", SecretString=KEY_TEXT)["ARN"]
    outputs = {
        "SummaryTableName": {"Value": table},
        "AlertTopicArn": {"Value": stack.resources.topic_arn},
        "PseudonymKeySecretArn": {"Value": secret},
    }
    template = {"Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}}, "Outputs": outputs}
    boto3.client("cloudformation").create_stack(StackName="sw", TemplateBody=json.dumps(template))
    code, out, err = run(capsys, ["migrate", "--pseudonymize", "--stack", "sw"])
    assert (code, err) == (0, "") and out.endswith(
        f"{table}: pseudonymous, key fingerprint {Pseudonymizer(KEY).fingerprint}\n"
    )
    assert exported(table)["summaries"] == as_pseudonymous(plain)
    code, out, _ = run(capsys, ["forget", LONG, "--stack", "sw"])  # a clear identity, through the stack's key
    assert code == 0 and out.splitlines()[1].startswith("1 summary, 1 day, ")
    assert pseudonym(LONG) not in table_text(table)
