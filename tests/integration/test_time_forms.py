"""Every time form a record may use (UTC offsets crossing the day, fractions, ISO basic) gives one
normalised instant, `YYYY-MM-DDTHH:MM:SSZ`, and the UTC day of that instant everywhere: the
summaries, the day items, the alerts and their windows, `query`'s tables and the report."""

from __future__ import annotations

import json
import re

import boto3

from supportwatch.cli.main import main
from tests.helpers import gzip_document, support_record
from tests.integration.test_report import report_of

ADMIN = "arn:aws:iam::111122223333:user/Admin"
ROOT = "arn:aws:iam::111122223333:root"
KEY = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/111122223333_CloudTrail_us-east-1_20230911T2355Z_t.json.gz"
CANONICAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
RECORDS = [
    support_record(arn=ADMIN, time="2023-09-12T01:00:00+05:00", event_id="late"),  # 2023-09-11T20:00:00Z
    support_record(arn=ADMIN, time="2023-09-11T16:34:13.500Z", event_id="fraction"),
    support_record(arn=ADMIN, time="20230911T163413Z", event_id="basic"),
    support_record(arn=ADMIN, time="2023-09-10T23:30:00-02:00", event_id="early", error="AccessDeniedException"),
    support_record(arn=ROOT, time="2023-09-12T03:00:00+05:00", event_id="root"),  # 2023-09-11T22:00:00Z
]


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return code, captured.out


def test_offsets_fractions_and_the_basic_form_are_one_instant_and_day_everywhere(stack, capsys, tmp_path):
    stack.put_records(KEY, RECORDS)
    stack.invoke(KEY)
    capsys.readouterr()  # the function's metrics
    table = stack.resources.table

    _, out = run(capsys, "query", "--table", table, "--format", "json")
    document = json.loads(out)
    admin = document["summaries"][ADMIN]
    assert (admin["firstSeen"], admin["lastSeen"], admin["totalCalls"]) == (
        "2023-09-11T01:30:00Z",
        "2023-09-11T20:00:00Z",
        4,
    )
    assert document["summaries"][ROOT]["firstSeen"] == "2023-09-11T22:00:00Z"
    alerts = document["alerts"]
    assert {(a["rule"], a["window"]) for a in alerts} == {
        ("new-identity", "ever"),
        ("root-usage", "2023-09-11"),
        ("access-denied", "2023-09-11"),
    }
    assert all(CANONICAL.fullmatch(alert["eventTime"]) for alert in alerts)
    assert {a["eventTime"] for a in alerts if a["rule"] == "access-denied"} == {"2023-09-11T01:30:00Z"}

    items = stack.items()
    assert {item["sk"]["S"] for item in items if item["sk"]["S"].startswith("DAY#")} == {"DAY#2023-09-11"}
    periods = {item["periodSort"]["S"][:10] for item in items if item.get("listed", {}).get("S") == "alert"}
    assert periods == {"2023-09-11"}  # `ever` alerts are filed under their event's UTC day too
    assert all(
        CANONICAL.fullmatch(item[name]["S"]) for item in items for name in ("firstSeen", "lastSeen") if name in item
    )

    _, out = run(capsys, "query", "--table", table, "--day", "2023-09-11", "--format", "csv")
    rows = {(row.split(",")[0], row.split(",")[1]): row for row in out.splitlines()[1:]}
    assert set(rows) == {("2023-09-11", ADMIN), ("2023-09-11", ROOT)}
    assert "2023-09-11T01:30:00Z,2023-09-11T20:00:00Z" in rows[("2023-09-11", ADMIN)]
    _, out = run(capsys, "query", "--table", table, "--day", "2023-09-12")
    assert out == "no Support Recommendations events from 2023-09-12 to 2023-09-12\n"
    _, out = run(capsys, "query", "--table", table, "--identity", ADMIN)
    assert "2023-09-11T01:30:00Z" in out and "2023-09-11T20:00:00Z" in out
    day_row = next(line for line in out.splitlines() if line.startswith("2023-09-11"))
    assert day_row.split()[3:5] == ["01:30", "20:00"]

    def report(day: str) -> dict:
        out = tmp_path / f"{day}.html"
        run(capsys, "report", "--table", table, "--since", day, "--until", day, "-o", str(out))
        return report_of(out)[1]

    data = report("2023-09-11")
    assert data["summaries"] == document["summaries"]
    canonical = lambda alert: json.dumps(alert, sort_keys=True)  # noqa: E731
    assert sorted(map(canonical, data["alerts"])) == sorted(map(canonical, alerts))
    data = report("2023-09-12")
    assert (data["summaries"], data["alerts"]) == ({}, [])

    log = tmp_path / "trail" / KEY.rsplit("/", 1)[-1]
    log.parent.mkdir()
    log.write_bytes(gzip_document(RECORDS))
    _, out = run(capsys, "scan", str(log.parent), "--format", "json")
    offline = json.loads(out)
    assert offline["summaries"] == document["summaries"]  # the offline count agrees, time for time
    where = lambda alert: {k: v for k, v in alert.items() if k not in ("bucket", "key")}  # noqa: E731
    assert [where(a) for a in offline["alerts"]] == [where(a) for a in alerts]


def test_a_table_written_before_times_were_normalised_reads_normalised(stack, capsys):
    stack.put_records(KEY, RECORDS[:1])
    stack.invoke(KEY)
    capsys.readouterr()  # the function's metrics
    dynamodb = boto3.client("dynamodb")
    for item in stack.items():  # as an earlier version wrote them: the record's own text
        if "firstSeen" in item:
            update = "SET firstSeen = :t, lastSeen = :t REMOVE firstInstant, lastInstant"
            values = {":t": {"S": "2023-09-12T01:00:00+05:00"}}
        elif "alert" in item:
            sent = json.loads(item["alert"]["S"]) | {"eventTime": "2023-09-12T01:00:00+05:00"}
            update, values = "SET #alert = :t", {":t": {"S": json.dumps(sent)}}
        else:
            continue
        dynamodb.update_item(
            TableName=stack.resources.table,
            Key={"pk": item["pk"], "sk": item["sk"]},
            UpdateExpression=update,
            ExpressionAttributeValues=values,
            **({"ExpressionAttributeNames": {"#alert": "alert"}} if "#alert" in update else {}),
        )
    _, out = run(capsys, "query", "--table", stack.resources.table, "--format", "json")
    document = json.loads(out)
    assert (document["summaries"][ADMIN]["firstSeen"], document["summaries"][ADMIN]["lastSeen"]) == (
        "2023-09-11T20:00:00Z",
        "2023-09-11T20:00:00Z",
    )
    assert [alert["eventTime"] for alert in document["alerts"]] == ["2023-09-11T20:00:00Z"]
