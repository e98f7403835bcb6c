"""`supportwatch backfill` over a moto bucket: date-partitioned listing, exactly once, dry run, manifest."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from supportwatch.aws.local import LocalStack, received_alerts, subscribe_queue
from supportwatch.aws.store import SummaryStore
from supportwatch.cli import backfill
from supportwatch.cli.main import main
from supportwatch.export import export_document
from tests.helpers import (
    MotoAccount,
    comparable,
    embedded_stack,
    expected_totals,
    gzip_document,
    support_record,
)

ORG = "trails/AWSLogs/o-abcd123456"
FILES = {  # key -> (identity, day)
    f"{ORG}/111122223333/CloudTrail/us-east-1/2023/09/10/111122223333_CloudTrail_us-east-1_20230910T1200Z_a.json.gz": (
        "user/Admin",
        "2023-09-10",
    ),
    f"{ORG}/111122223333/CloudTrail/eu-west-1/2023/09/11/111122223333_CloudTrail_eu-west-1_20230911T1200Z_b.json.gz": (
        "user/Admin",
        "2023-09-11",
    ),
    f"{ORG}/111122223333/CloudTrail/eu-west-1/2023/09/12/111122223333_CloudTrail_eu-west-1_20230912T1200Z_c.json.gz": (
        "user/Ops",
        "2023-09-12",
    ),
    f"{ORG}/444455556666/CloudTrail/us-east-1/2023/09/12/444455556666_CloudTrail_us-east-1_20230912T1200Z_d.json.gz": (
        "user/Dev",
        "2023-09-12",
    ),
    f"{ORG}/444455556666/CloudTrail/us-east-1/2023/09/13/444455556666_CloudTrail_us-east-1_20230913T12Z_e f.json.gz": (
        "user/Dev",
        "2023-09-13",
    ),
}
NOT_LOGS = [
    f"{ORG}/111122223333/CloudTrail-Digest/us-east-1/2023/09/10/digest.json.gz",
    f"{ORG}/111122223333/CloudTrail/us-east-1/2023/09/10/",
    "trails/notes/readme.txt",
]


def put_trail(put: Callable[[str, bytes], None]) -> list[dict[str, Any]]:
    """The files above with four support events each; one event is delivered twice (in two files), and
    the second file also holds an entry that names the source but is skipped (its eventTime is no time)."""
    records = []
    for number, (key, (who, day)) in enumerate(FILES.items()):
        account = key.split("/")[3]
        batch = [
            support_record(
                arn=f"arn:aws:iam::{account}:{who}",
                time=f"{day}T12:0{minute}:00Z",
                event_id=f"event-{number}-{minute}",
                region=key.split("/")[5],
                error="AccessDeniedException" if minute == 3 else None,
            )
            for minute in range(4)
        ]
        if number == 2:
            batch.append(records[0])
        records += batch
        skipped = [{**support_record(event_id="no-time"), "eventTime": "soon"}] if number == 1 else []
        put(key, gzip_document(batch + skipped))
    for key in NOT_LOGS:
        put(key, b"" if key.endswith("/") else gzip_document([]))
    return records


@pytest.fixture
def list_calls(monkeypatch) -> list[dict[str, str]]:
    """The ListObjectsV2 requests the backfill makes (Prefix and Delimiter)."""
    calls: list[dict[str, str]] = []
    original = backfill.client

    def recording(service: str, **kwargs: Any) -> Any:
        made = original(service, **kwargs)
        if service == "s3":
            made.meta.events.register(
                "before-parameter-build.s3.ListObjectsV2",
                lambda params, **_: calls.append(
                    {name: params[name] for name in ("Prefix", "Delimiter") if name in params}
                ),
            )
        return made

    monkeypatch.setattr(backfill, "client", recording)
    return calls


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def target(resources: LocalStack) -> list[str]:
    return ["--table", resources.table, "--topic-arn", resources.topic_arn, "--format", "json", "--workers", "1"]


def table_items(dynamodb: Any, table: str) -> list[str]:
    return sorted(json.dumps(item, sort_keys=True) for item in dynamodb.scan(TableName=table)["Items"])


def test_backfill_counts_every_event_once_and_a_second_run_changes_nothing(capsys, list_calls, monkeypatch):
    """Through moto's server (one request at a time, as DynamoDB isolates transactions), 4 workers."""
    with embedded_stack(monkeypatch) as (aws, resources):
        s3, dynamodb = aws.client("s3"), aws.client("dynamodb")
        records = put_trail(lambda key, body: s3.put_object(Bucket=resources.bucket, Key=key, Body=body))
        inbox = subscribe_queue(aws, resources.topic_arn)
        location = f"s3://{resources.bucket}/trails"
        endpoint = ["--endpoint-url", aws.endpoint_url, "--region", "us-east-1"]
        code, out, err = run(capsys, "backfill", location, *target(resources), "--workers", "4", *endpoint)
        assert code == 0, err
        first = json.loads(out)
        assert first["files"] == 5 and first["outcomes"] == {"counted": 5}
        assert (first["supportEvents"], first["counted"], first["alreadyCounted"]) == (21, 20, 1)
        assert (first["skippedEntries"], first["skipReasons"]) == (1, {"eventTime not ISO 8601": 1})
        (note,) = [line for line in err.splitlines() if "skipped" in line]
        assert note.startswith(f"s3://{resources.bucket}/{list(FILES)[1]}: skipped 1 of 5 entries ")
        assert note.endswith(": 1 eventTime not ISO 8601")
        summaries = export_document(SummaryStore(dynamodb, resources.table).identities())
        assert comparable(summaries) == expected_totals(records)
        assert summaries["summaries"]["arn:aws:iam::111122223333:user/Admin"]["regions"] == ["eu-west-1", "us-east-1"]
        alerts = received_alerts(aws, inbox)
        assert len(alerts) == first["alertsPublished"] > 0
        assert ("new-identity", "arn:aws:iam::444455556666:user/Dev") in {(a["rule"], a["identity"]) for a in alerts}
        # All time: each region folder is listed whole; never the digests or anything outside AWSLogs/.
        listed = sorted(call["Prefix"] for call in list_calls if "Delimiter" not in call)
        assert listed == sorted({"/".join(key.split("/")[:6]) + "/" for key in FILES})
        assert not any("Digest" in call["Prefix"] or call["Prefix"] == "" for call in list_calls)

        before = table_items(dynamodb, resources.table)
        code, out, err = run(capsys, "backfill", location + "/", *target(resources), "--workers", "4", *endpoint)
        assert code == 0, err
        second = json.loads(out)
        assert (second["counted"], second["alreadyCounted"], second["alertsPublished"]) == (0, 21, 0)
        assert table_items(dynamodb, resources.table) == before
        assert received_alerts(aws, inbox) == []


def test_backfill_over_files_the_function_processed_changes_nothing(stack, capsys):
    put_trail(stack.put)
    inbox = stack.inbox()
    stack.invoke(*FILES)
    capsys.readouterr()  # the function's logs
    dynamodb = boto3.client("dynamodb")
    before = table_items(dynamodb, stack.resources.table)
    assert received_alerts(MotoAccount(), inbox)
    code, out, err = run(capsys, "backfill", f"s3://{stack.bucket}/trails/", *target(stack.resources))
    assert code == 0, err
    totals = json.loads(out)
    assert (totals["counted"], totals["alreadyCounted"], totals["alertsPublished"]) == (0, 21, 0)
    assert table_items(dynamodb, stack.resources.table) == before
    assert received_alerts(MotoAccount(), inbox) == []


def test_since_until_lists_only_the_requested_days(stack, capsys, list_calls):
    put_trail(stack.put)
    code, out, err = run(
        capsys,
        "backfill",
        f"s3://{stack.bucket}/trails/",
        "--since",
        "2023-09-11",
        "--until",
        "2023-09-12",
        "--dry-run",
        "--format",
        "json",
    )
    assert code == 0, err
    delimited = [call["Prefix"] for call in list_calls if call.get("Delimiter") == "/"]
    assert delimited == [
        "trails/",
        "trails/AWSLogs/",
        f"{ORG}/",
        f"{ORG}/111122223333/CloudTrail/",
        f"{ORG}/444455556666/CloudTrail/",
    ]
    regions = [f"{ORG}/111122223333/CloudTrail/eu-west-1/", f"{ORG}/111122223333/CloudTrail/us-east-1/"]
    regions.append(f"{ORG}/444455556666/CloudTrail/us-east-1/")
    listed = sorted(call["Prefix"] for call in list_calls if "Delimiter" not in call)
    assert listed == sorted(region + day for region in regions for day in ("2023/09/11/", "2023/09/12/"))
    sizes = {day: 0 for day in ("2023-09-11", "2023-09-12")}
    for key, (_, day) in FILES.items():
        if day in sizes:
            sizes[day] += boto3.client("s3").head_object(Bucket=stack.bucket, Key=key)["ContentLength"]
    assert json.loads(out) == {
        "files": 3,
        "bytes": sum(sizes.values()),
        "days": {
            "2023-09-11": {"files": 1, "bytes": sizes["2023-09-11"]},
            "2023-09-12": {"files": 2, "bytes": sizes["2023-09-12"]},
        },
    }
    assert stack.items() == []  # a dry run writes nothing
    code, out, _ = run(capsys, "backfill", f"s3://{stack.bucket}/trails/", "--since", "2023-09-11", "--dry-run")
    assert out.splitlines()[0].split() == ["DAY", "FILES", "BYTES"]
    assert out.splitlines()[-1].startswith("total")
    assert [line.split()[:2] for line in out.splitlines()[1:4]] == [
        ["2023-09-11", "1"],
        ["2023-09-12", "2"],
        ["2023-09-13", "1"],
    ]
    code, out, err = run(capsys, "backfill", f"s3://{stack.bucket}/trails/", "--since", "2023-09-13", "--dry-run")
    assert out.splitlines()[-1].endswith(", 1 day)")  # not "1 days"
    assert err.splitlines()[0].startswith("found 1 log file dated 2023-09-13 in 3 region folders")


def test_emit_manifest_writes_the_batch_operations_csv(stack, capsys, tmp_path):
    put_trail(stack.put)
    manifest = tmp_path / "manifest.csv"
    code, out, err = run(capsys, "backfill", f"s3://{stack.bucket}/trails/", "--emit-manifest", str(manifest))
    assert code == 0 and out == ""
    assert "wrote 5 lines" in err
    lines = manifest.read_text().splitlines()
    assert sorted(lines) == sorted(f"{stack.bucket},{key.replace(' ', '%20')}" for key in FILES)
    assert any(line.endswith("_e%20f.json.gz") for line in lines)
    assert stack.items() == []


def test_backfill_needs_a_target_and_names_a_missing_table(stack, capsys):
    put_trail(stack.put)
    code, _, err = run(capsys, "backfill", f"s3://{stack.bucket}/trails/")
    assert code == 2 and "--stack NAME, or --table NAME" in err
    code, _, err = run(capsys, "backfill", f"s3://{stack.bucket}/trails/", "--table", "nope", "--no-alerts")
    assert code == 1 and err.splitlines()[-1].startswith("supportwatch: table nope not found in us-east-1")
    code, _, err = run(capsys, "backfill", f"s3://{stack.bucket}/", "--dry-run")
    assert code == 2 and "no AWSLogs/ folder directly under" in err


def test_stack_gives_the_table_topic_and_alert_settings(stack, capsys):
    """`--stack` reads the deployed stack's outputs and parameters (a plain CloudFormation stack on moto
    with the same outputs and parameters stands in for the SAM one, which moto cannot transform)."""
    put_trail(stack.put)
    inbox = stack.inbox()
    stack.stand_in({"AlertRules": "access-denied", "VolumeThreshold": "50", "MinSeverity": "medium"})
    code, out, err = run(
        capsys, "backfill", f"s3://{stack.bucket}/trails/", "--stack", "supportwatch", "--format", "json"
    )
    assert code == 0, err
    assert json.loads(out)["counted"] == 20
    assert {alert["rule"] for alert in received_alerts(MotoAccount(), inbox)} == {"access-denied"}
    code, _, err = run(capsys, "backfill", f"s3://{stack.bucket}/trails/", "--stack", "absent")
    assert (
        code == 1
        and err.splitlines()[-1] == "supportwatch: stack absent not found in us-east-1: check --stack and --region"
    )


def test_backfill_on_every_core_writes_what_one_process_writes(stack, capsys):
    """The same bucket backfilled into the same (emptied) table with 1 and 3 decoding processes: the same
    totals, notes, items and export."""
    put_trail(stack.put)
    dynamodb = boto3.client("dynamodb")
    results = []
    for jobs in (1, 3):
        for item in dynamodb.scan(TableName=stack.resources.table)["Items"]:
            dynamodb.delete_item(TableName=stack.resources.table, Key={name: item[name] for name in ("pk", "sk")})
        code = main(["backfill", f"s3://{stack.bucket}/trails/", *target(stack.resources), "--jobs", str(jobs)])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        totals = json.loads(captured.out)
        totals.pop("seconds")
        items = dynamodb.scan(TableName=stack.resources.table)["Items"]
        keys = sorted((item["pk"]["S"], item["sk"]["S"]) for item in items)  # the rest holds claim times
        export = export_document(SummaryStore(dynamodb, stack.resources.table).identities())
        results.append((totals, captured.err, keys, export))
    assert results[0][0]["counted"] == 20
    assert results[1] == results[0]


def test_backfill_counts_the_new_events_of_an_object_put_again(stack, capsys):
    """Issue 20 item 1 through the CLI: one key backfilled after each of three puts (v1 with 2 events,
    v2 with 3, v2 again) counts 3."""
    key = next(iter(FILES))
    records = [support_record(time=f"2023-09-10T12:0{minute}:00Z", event_id=f"event-{minute}") for minute in range(3)]
    counted = []
    for version in (records[:2], records, records):
        stack.put(key, gzip_document(version))
        code, out, err = run(capsys, "backfill", f"s3://{stack.bucket}/trails/", *target(stack.resources))
        assert code == 0, err
        totals = json.loads(out)
        counted.append((totals["counted"], totals["alreadyCounted"]))
    assert counted == [(2, 0), (1, 2), (0, 3)]
    summaries = export_document(SummaryStore(boto3.client("dynamodb"), stack.resources.table).identities())
    assert comparable(summaries) == expected_totals(records)


def test_unreadable_files_are_named_and_ctrl_c_says_how_to_resume(stack, capsys, monkeypatch):
    records = put_trail(stack.put)
    broken = f"{ORG}/111122223333/CloudTrail/us-east-1/2023/09/10/111122223333_CloudTrail_us-east-1_broken.json.gz"
    stack.put(broken, b"not gzip, not JSON")
    location = f"s3://{stack.bucket}/trails/"
    attempts, finished = [], []
    retried = backfill.with_retries

    def ctrl_c_at_the_third_file(*args: Any) -> Any:
        attempts.append(args)
        if len(attempts) == 3:
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C there
        finished.append(retried(*args))  # a file already begun is finished, whole
        return finished[-1]

    monkeypatch.setattr(backfill, "with_retries", ctrl_c_at_the_third_file)
    code, out, err = run(capsys, "backfill", location, *target(stack.resources)[:4], "--workers", "1")
    assert (code, out) == (130, "")
    assert err.splitlines()[0] == "found 6 log files dated 2023-09-10 to 2023-09-13 in 3 region folders"
    assert 2 <= len(finished) < 6 and err.splitlines()[-1] == (
        f"supportwatch: interrupted after {len(finished)} of 6 files; re-run to resume (counted work is kept)"
    )
    monkeypatch.undo()
    code, out, err = run(capsys, "backfill", location, *target(stack.resources)[:4], "--workers", "1")
    assert code == 0, err
    assert f"s3://{stack.bucket}/{broken}: unreadable: " in err  # named, as scan and local name it
    lines = out.splitlines()
    assert lines[0].startswith("files           6 (") and "1 unreadable" in lines[0]
    summaries = export_document(SummaryStore(boto3.client("dynamodb"), stack.resources.table).identities())
    assert comparable(summaries) == expected_totals(records)  # the first run's files counted once


def test_nothing_to_do_reads_as_nothing(stack, capsys, monkeypatch):
    put_trail(stack.put)
    period = ["--since", "2024-01-01", "--until", "2024-01-31"]
    code, out, err = run(capsys, "backfill", f"s3://{stack.bucket}/trails/", *target(stack.resources)[:4], *period)
    assert code == 0, err
    assert err.splitlines()[0] == "found 0 log files in 3 region folders (days 2024-01-01 to 2024-01-31 listed)"
    assert out.splitlines()[0] == "files           0"  # not `files 0 ()`
