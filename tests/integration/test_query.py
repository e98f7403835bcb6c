"""`supportwatch query`: each access pattern in each format, on a table built from known events."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import boto3
import pytest

from supportwatch.aws.store import SummaryStore
from supportwatch.cli import query
from supportwatch.cli.main import main
from supportwatch.decoding.records import extract
from tests.helpers import support_record

ADMIN = "arn:aws:iam::111122223333:user/Admin"
ROLE = "arn:aws:iam::111122223333:role/SupportEngineers"
ALICE = "arn:aws:sts::111122223333:assumed-role/SupportEngineers/alice@example.com"
LONG = (
    "arn:aws:sts::444455556666:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/bob.builder@example.com"
)
ADMIN_SHOWN = "111122223333:user/Admin"  # ADMIN in a list whose other identities are shortened
LONG_ROLE = (
    "arn:aws:iam::444455556666:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef"
)


def records() -> list[dict]:
    found = [
        support_record(arn=ADMIN, time="2023-09-10T08:00:00Z", event_id="a1"),
        support_record(arn=ADMIN, time="2023-09-10T09:30:00Z", event_id="a2", error="AccessDeniedException"),
        support_record(arn=ADMIN, time="2023-09-10T10:00:00Z", event_id="a3", name="GetSupportTroubleshootingResponse"),
        support_record(arn=ADMIN, time="2023-09-11T16:34:13Z", event_id="a4", ip="198.51.100.7"),
        support_record(arn=ALICE, issuer=ROLE, time="2023-09-11T12:00:00Z", event_id="b1", region="eu-west-1"),
        support_record(arn=ALICE, issuer=ROLE, time="2023-09-11T12:05:00Z", event_id="b2", region="eu-west-1"),
        support_record(arn=LONG, issuer=LONG_ROLE, time="2023-09-12T07:00:00Z", event_id="c1"),
        support_record(
            arn=LONG, issuer=LONG_ROLE, time="2023-09-12T07:01:00Z", event_id="c2", error="UnauthorizedOperation"
        ),
        support_record(arn=LONG, issuer=LONG_ROLE, time="2023-09-12T07:02:00Z", event_id="c3"),
    ]
    return found


@pytest.fixture
def table(stack, monkeypatch) -> str:
    SummaryStore(boto3.client("dynamodb"), stack.resources.table).commit("s3://b/k", extract(records()).events)
    monkeypatch.setattr(query, "today", lambda: date(2023, 9, 12))
    return stack.resources.table


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["query", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def table_lines(out: str) -> list[str]:
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    return lines


def csv_rows(out: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(out)))


def test_everyone_in_every_format(table, capsys):
    code, out, _ = run(capsys, "--table", table, "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert set(document) == {"summaries", "alerts"} and sorted(document["summaries"]) == sorted([ADMIN, ALICE, LONG])
    assert document["summaries"][ADMIN]["calls"] == {
        "GetSupportTroubleshootingResponse": 1,
        "StartSupportTroubleshooting": 3,
    }
    code, out, _ = run(capsys, "--table", table)
    lines = table_lines(out)
    assert lines[0].split() == ["IDENTITY", "CALLS", "ERRORS", "FIRST", "SEEN", "LAST", "SEEN"]
    assert lines[1].split() == [ADMIN_SHOWN, "4", "1", "2023-09-10", "2023-09-11"]
    assert lines[2].split() == ["444455556666:…/bob.builder@example.com", "3", "1", "2023-09-12", "2023-09-12"]
    assert lines[3].split()[1:] == ["2", "0", "2023-09-11", "2023-09-11"]
    assert lines[3].startswith("111122223333:") and lines[3].split()[0].endswith("alice@example.com")
    assert lines[-1] == "3 identities, 9 calls"
    code, out, _ = run(capsys, "--table", table, "--format", "csv")
    rows = csv_rows(out)
    assert [row["identity"] for row in rows] == [ADMIN, LONG, ALICE]
    assert rows[0] | {} == {
        "day": "",
        "identity": ADMIN,
        "identityType": "IAMUser",
        "principal": ADMIN,
        "totalCalls": "4",
        "errorCalls": "1",
        "firstSeen": "2023-09-10T08:00:00Z",
        "lastSeen": "2023-09-11T16:34:13Z",
        "calls": "GetSupportTroubleshootingResponse=1;StartSupportTroubleshooting=3",
        "errors": "AccessDeniedException=1",
        "accountIds": "111122223333",
        "sourceIps": "198.51.100.7;72.21.198.67",
        "regions": "us-east-1",
    }


def test_one_identity_and_its_days(table, capsys):
    code, out, _ = run(capsys, "--table", table, "--identity", ADMIN)
    assert code == 0
    assert table_lines(out) == [
        ADMIN,
        "  type       IAMUser",
        f"  principal  {ADMIN}",
        "  accounts   111122223333",
        "  calls      4 (GetSupportTroubleshootingResponse=1,",
        "             StartSupportTroubleshooting=3)",
        "  errors     1 (AccessDeniedException=1)",
        "  first seen 2023-09-10T08:00:00Z",
        "  last seen  2023-09-11T16:34:13Z",
        "  source IPs 198.51.100.7, 72.21.198.67",
        "  regions    us-east-1",
        "",
        "DAY         CALLS  ERRORS  FIRST  LAST   SOURCE IPS",
        "2023-09-10      3       1  08:00  10:00  72.21.198.67",
        "2023-09-11      1       0  16:34  16:34  198.51.100.7",
        "",
        "2 days",
    ]
    code, out, _ = run(capsys, "--table", table, "--identity", ADMIN, "--format", "json")
    document = json.loads(out)
    assert document["identity"] == ADMIN and document["summary"]["totalCalls"] == 4
    assert [(day["day"], day["totalCalls"], day["errors"]) for day in document["days"]] == [
        ("2023-09-10", 3, {"AccessDeniedException": 1}),
        ("2023-09-11", 1, {}),
    ]
    code, out, _ = run(capsys, "--table", table, "--identity", ADMIN, "--format", "csv")
    assert [(row["day"], row["totalCalls"]) for row in csv_rows(out)] == [
        ("", "4"),
        ("2023-09-10", "3"),
        ("2023-09-11", "1"),
    ]
    code, out, err = run(capsys, "--table", table, "--identity", "arn:aws:iam::111122223333:user/Nobody")
    assert code == 1 and out == ""
    nobody = "arn:aws:iam::111122223333:user/Nobody"
    assert err == f"supportwatch: no Support Recommendations events of {nobody} in table {table}; did you mean Admin?\n"


def test_identity_as_the_tables_print_it(table, capsys):
    """What a table shows names the identity back: a shortened form, or the end of the key."""
    for shown in (
        "444455556666:…/bob.builder@example.com",
        "444455556666:.../bob.builder@example.com",
        "bob.builder@example.com",
    ):
        code, out, _ = run(capsys, "--table", table, "--identity", shown, "--format", "json")
        assert code == 0 and json.loads(out)["identity"] == LONG, shown
    code, out, _ = run(capsys, "--table", table, "--identity", "bob.builder@example.com")
    lines = table_lines(out)  # the key and its principal shortened as in the lists; --wide shows them whole
    assert lines[0].endswith("/bob.builder@example.com") and lines[0].startswith("444455556666:")
    code, out, _ = run(capsys, "--table", table, "--identity", "bob.builder@example.com", "--wide")
    assert out.splitlines()[0] == LONG and f"  principal  {LONG_ROLE}" in out.splitlines()
    code, out, err = run(capsys, "--table", table, "--identity", "bob@example.com")
    assert code == 1 and out == "" and len(err.splitlines()) == 1
    assert err.startswith("supportwatch: no Support Recommendations events of bob@example.com in table ")
    assert err.endswith("; did you mean bob.builder@example.com or alice@example.com?\n")


def test_sessions_of_a_role(table, capsys):
    code, out, _ = run(capsys, "--table", table, "--principal", LONG_ROLE)
    assert code == 0
    lines = table_lines(out)
    assert lines[1].split() == ["444455556666:…/bob.builder@example.com", "3", "1", "2023-09-12", "2023-09-12"]
    assert lines[-1] == "1 identity, 3 calls"
    code, out, _ = run(capsys, "--table", table, "--principal", ROLE, "--format", "json")
    document = json.loads(out)
    assert document["principal"] == ROLE
    assert [(row["identity"], row["totalCalls"], row["regions"]) for row in document["identities"]] == [
        (ALICE, 2, ["eu-west-1"])
    ]
    code, out, _ = run(capsys, "--table", table, "--principal", ROLE, "--format", "csv")
    assert [(row["identity"], row["principal"]) for row in csv_rows(out)] == [(ALICE, ROLE)]
    code, _, err = run(capsys, "--table", table, "--principal", "arn:aws:iam::1:role/None")
    assert code == 1 and "no identity rolls up to arn:aws:iam::1:role/None" in err


def test_who_used_it_on_a_day_and_over_a_range(table, capsys):
    code, out, _ = run(capsys, "--table", table, "--day", "2023-09-11")
    assert code == 0
    lines = table_lines(out)
    assert lines[0].split() == ["DAY", "IDENTITY", "CALLS", "ERRORS", "FIRST", "LAST"]
    assert lines[1].split() == [
        "2023-09-11",
        "111122223333:…/alice@example.com",
        "2",
        "0",
        "12:00",
        "12:05",
    ]
    assert lines[2].split() == ["2023-09-11", ADMIN_SHOWN, "1", "0", "16:34", "16:34"]
    assert lines[-1] == "2 identities on 1 day, 3 calls"
    code, out, _ = run(capsys, "--table", table, "--since", "2023-09-10", "--until", "2023-09-12", "--format", "json")
    document = json.loads(out)
    assert (document["since"], document["until"]) == ("2023-09-10", "2023-09-12")
    assert [(row["day"], row["identity"], row["totalCalls"]) for row in document["days"]] == [
        ("2023-09-10", ADMIN, 3),
        ("2023-09-11", ALICE, 2),
        ("2023-09-11", ADMIN, 1),
        ("2023-09-12", LONG, 3),
    ]
    code, out, _ = run(capsys, "--table", table, "--since", "2023-09-12", "--format", "csv")  # until today
    assert [(row["day"], row["identity"], row["errors"]) for row in csv_rows(out)] == [
        ("2023-09-12", LONG, "UnauthorizedOperation=1")
    ]
    code, out, _ = run(capsys, "--table", table, "--day", "2023-01-01")
    assert out == "no Support Recommendations events from 2023-01-01 to 2023-01-01\n"
    code, _, err = run(capsys, "--table", table, "--until", "2023-09-12")
    assert code == 2 and err == "supportwatch: --until needs --since\n"


def test_top_identities(table, capsys):
    code, out, _ = run(capsys, "--table", table, "--top", "2")
    assert code == 0
    lines = table_lines(out)
    assert lines[0].split()[:2] == ["#", "IDENTITY"]
    assert [line.split()[:3] for line in lines[1:3]] == [
        ["1", ADMIN_SHOWN, "4"],
        ["2", "444455556666:…/bob.builder@example.com", "3"],
    ]
    assert lines[-1] == "the top 2 of 3 identities, with 7 of the 9 calls"  # not a total
    _code, out, _ = run(capsys, "--table", table, "--top", "1", "--format", "json")
    assert [(row["identity"], row["totalCalls"]) for row in json.loads(out)["top"]] == [(ADMIN, 4)]
    _, out, _ = run(capsys, "--table", table, "--top", "3", "--format", "csv")
    assert [row["totalCalls"] for row in csv_rows(out)] == ["4", "3", "2"]


def test_recent_errors(table, capsys):
    code, out, _ = run(capsys, "--table", table, "--errors")
    assert code == 0
    lines = table_lines(out)
    assert lines[0].split() == ["DAY", "IDENTITY", "ERRORS", "ERROR", "CODES"]
    assert lines[1].split() == ["2023-09-12", "444455556666…/bob.builder@example.com", "1", "UnauthorizedOperation"]
    assert lines[2].split() == ["2023-09-10", ADMIN_SHOWN, "1", "AccessDeniedException"]
    assert lines[-1] == "2 failed calls from 2023-09-06 to 2023-09-12"
    _code, out, _ = run(capsys, "--table", table, "--errors", "--days", "2", "--format", "json")
    document = json.loads(out)
    assert (document["since"], document["until"]) == ("2023-09-11", "2023-09-12")
    assert [(row["day"], row["identity"], row["errors"]) for row in document["errors"]] == [
        ("2023-09-12", LONG, {"UnauthorizedOperation": 1})
    ]
    _, out, _ = run(capsys, "--table", table, "--errors", "--format", "csv")
    assert [row["day"] for row in csv_rows(out)] == ["2023-09-12", "2023-09-10"]


def test_one_line_errors(stack, capsys, monkeypatch):
    code, out, err = run(capsys, "--table", "missing", "--identity", ADMIN)
    assert code == 1 and out == ""
    assert err == (
        "supportwatch: table missing not found in us-east-1 (ResourceNotFoundException): check --table and --region "
        "(the stack's SummaryTableName output)\n"
    )
    code, _, err = run(capsys, "--table", stack.resources.table, "--region", "eu-west-1", "--day", "2023-09-11")
    assert code == 1 and f"table {stack.resources.table} not found in eu-west-1" in err
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, _, err = run(capsys, "--table", stack.resources.table)
    assert code == 1 and err.startswith("supportwatch: no AWS credentials found") and len(err.splitlines()) == 1
