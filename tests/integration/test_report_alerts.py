"""The report holds every alert of its period (issue 20 item 4): alerts about a file (`tampered-log`,
`digest-invalid`, `unreadable-log`, `unavailable-log`) carry no day of their own, so each is placed by
the time in its log's or digest's name, else by the day it was published; through the handler on moto
and the CLI."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, time, timedelta

import boto3

from supportwatch.cli.main import main
from supportwatch.layout import today
from tests.integration.test_digests import keyed, old_trail_with_an_altered_file  # noqa: F401 (a fixture)
from tests.integration.test_report import report_of
from tests.trail import Trail

FILE_RULES = {"tampered-log", "digest-invalid", "unreadable-log", "unavailable-log"}


def canonical(alert: dict) -> str:
    return json.dumps(alert, sort_keys=True)


def test_the_report_holds_every_alert_of_the_export_for_its_period(keyed, capsys, tmp_path):  # noqa: F811
    stack = keyed
    trail, digest, altered = old_trail_with_an_altered_file(stack.bucket)  # three days old: tampered-log
    eight_days_ago = datetime.combine(today() - timedelta(days=8), time(10, 5), UTC)
    broken = Trail(bucket=stack.bucket, region="eu-west-1")
    corrupt = broken.log(eight_days_ago)
    invalid = broken.digest(eight_days_ago + timedelta(hours=1))
    broken.objects[corrupt] = (b"\x1f\x8b not gzip", {})  # unreadable-log, named for eight days ago
    broken.objects[invalid] = (gzip.compress(b'{"logFiles": []}'), broken.objects[invalid][1])  # digest-invalid
    gone = broken.log(eight_days_ago - timedelta(days=2))  # never uploaded: unavailable-log, ten days ago
    del broken.objects[gone]
    nameless = f"{broken.base}CloudTrail/eu-west-1/garbage.json.gz"  # unreadable, no time in its name
    broken.objects[nameless] = (b"not json", {})
    for each in (trail, broken):
        each.upload(boto3.client("s3"))
    stack.invoke(*[key for key in trail.objects if "/CloudTrail/" in key])
    stack.invoke(digest, corrupt, invalid, gone, nameless)
    capsys.readouterr()

    table = ["--table", stack.resources.table]
    assert main(["query", *table, "--format", "json"]) == 0
    alerts = json.loads(capsys.readouterr().out)["alerts"]
    by_key = {alert["key"]: alert["rule"] for alert in alerts if alert["rule"] in FILE_RULES}
    assert by_key == {
        altered: "tampered-log",
        corrupt: "unreadable-log",
        invalid: "digest-invalid",
        gone: "unavailable-log",
        nameless: "unreadable-log",
    }

    def island(since: str, until: str) -> list[dict]:
        path = tmp_path / f"{since}-{until}.html"
        assert main(["report", *table, "--since", since, "--until", until, "-o", str(path)]) == 0
        return sorted(report_of(path)[1]["alerts"], key=canonical)

    ten_days_ago, now = (eight_days_ago - timedelta(days=2)).date().isoformat(), today().isoformat()
    assert island(ten_days_ago, now) == sorted(alerts, key=canonical)  # every alert of the export
    assert [alert["key"] for alert in island(ten_days_ago, ten_days_ago)] == [gone]  # by the log's time
    eighth = eight_days_ago.date().isoformat()
    on_the_eighth = {alert["key"] for alert in island(eighth, eighth)}
    assert {corrupt, invalid} <= on_the_eighth and altered not in on_the_eighth
    assert nameless in {alert["key"] for alert in island(now, now)}  # by the day it was published


def test_local_reports_the_days_of_its_alerts_too(tmp_path, capsys):
    """`local --report` reports the days its files hold: those of their calls and of their alerts."""
    logs = tmp_path / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / "2023" / "09"
    trail = Trail(bucket="unused")
    counted = trail.log(datetime(2023, 9, 11, 16, 30, tzinfo=UTC))
    corrupt = trail.log(datetime(2023, 9, 8, 10, 5, tzinfo=UTC))
    for key, name in ((counted, "11"), (corrupt, "08")):
        (logs / name).mkdir(parents=True)
        body = b"\x1f\x8b not gzip" if key == corrupt else trail.objects[key][0]
        (logs / name / key.rsplit("/", 1)[-1]).write_bytes(body)
    report = tmp_path / "r.html"
    assert main(["local", str(tmp_path / "AWSLogs"), "--format", "json", "--report", str(report)]) == 0
    alerts = json.loads(capsys.readouterr().out)["alerts"]
    assert {alert["rule"] for alert in alerts} == {"new-identity", "unreadable-log"}
    data = report_of(report)[1]
    assert (data["period"]["since"], data["period"]["until"]) == ("2023-09-08", "2023-09-11")
    assert sorted(data["alerts"], key=canonical) == sorted(alerts, key=canonical)
