"""The `supportwatch` command end to end: `local` on moto's server, `scan` offline, `query` back."""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import sys
from pathlib import Path

import pytest

from supportwatch.aggregate import Ledger
from supportwatch.aws.store import SummaryStore
from supportwatch.cli import local
from supportwatch.cli.main import main
from supportwatch.decoding import decode
from supportwatch.decoding.records import extract
from supportwatch.export import export_document
from tests.helpers import (
    CANARY,
    FIXTURES,
    REPO,
    comparable,
    embedded_stack,
    expected_totals,
    gzip_document,
    random_support_records,
    run_process,
    support_record,
)

TRAILS = FIXTURES / "trails"


def trail_folder(root: Path) -> list[dict]:
    """The real fixture trails as a trail would deliver them (gzip, AWSLogs/ keys), with support
    events injected at random places, one of them in two files. Returns the injected records."""
    rng = random.Random(4)
    injected = random_support_records(60, seed=5)
    sources = sorted(TRAILS.iterdir())
    assert len(sources) >= 4
    chunks = [injected[n :: len(sources)] for n in range(len(sources))]
    chunks[1].append(chunks[0][0])  # CloudTrail delivers some events twice, in different files
    for number, (source, extra) in enumerate(zip(sources, chunks, strict=True)):
        records = decode(source.read_bytes(), 1 << 30)
        for record in extra:
            records.insert(rng.randrange(len(records) + 1), record)
        key = (
            f"AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/1{number}/"
            f"111122223333_CloudTrail_us-east-1_2023091{number}T1200Z_file{number}.json.gz"
        )
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
    return injected


def windows(document: dict) -> set[tuple]:
    return {(alert["rule"], alert["window"], alert["identity"]) for alert in document["alerts"]}


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_local_and_scan_agree_with_an_independent_count(tmp_path, capsys):
    injected = trail_folder(tmp_path)
    code, local_out, local_err = run_cli(capsys, "local", str(tmp_path), "--format", "json")
    assert code == 0, local_err
    code, scan_out, _ = run_cli(capsys, "scan", str(tmp_path), "--format", "json")
    assert code == 0
    local, scan = json.loads(local_out), json.loads(scan_out)
    assert local["summaries"] == scan["summaries"]
    assert comparable(local) == expected_totals(injected)
    # The same alert windows, once each; local's went through SNS into a subscribed queue.
    assert windows(local) == windows(scan)
    assert len(windows(local)) == len(local["alerts"])
    assert {alert["rule"] for alert in local["alerts"]} == {"new-identity", "access-denied"}
    assert all(alert["bucket"] == "supportwatch-local-trail-123456789012-us-east-1" for alert in local["alerts"])
    assert CANARY not in local_out + local_err


def test_local_reads_every_file_of_trees_sharing_every_path(tmp_path, capsys):
    """Issue 20 item 2: `local A B` where B holds other events under every path of A (and one file
    the same in both) counts what `scan A B` counts; no file of A is overwritten by B's."""
    names = [
        "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/10/111122223333_CloudTrail_us-east-1_20230910T1200Z_a.json.gz",
        "AWSLogs/111122223333/CloudTrail/eu-west-1/2023/09/11/111122223333_CloudTrail_eu-west-1_20230911T1200Z_b.json.gz",
        "export.json.gz",
    ]
    shared = random_support_records(5, seed=2)
    written = list(shared)
    for seed, tree in enumerate(("A", "B")):
        batch = random_support_records(20, seed=seed, identities=9)
        written += batch
        for number, name in enumerate(names):
            (tmp_path / tree / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / tree / name).write_bytes(gzip_document(batch[number::2] if number < 2 else shared))
    trees = [str(tmp_path / "A"), str(tmp_path / "B")]
    code, local_out, local_err = run_cli(capsys, "local", *trees, "--format", "json")
    assert code == 0, local_err
    code, scan_out, _ = run_cli(capsys, "scan", *trees, "--format", "json")
    assert code == 0
    local, scan = json.loads(local_out), json.loads(scan_out)
    assert local["summaries"] == scan["summaries"]
    assert comparable(local) == expected_totals(written)


def test_demo_folder_matches_its_expected_summaries(capsys):
    expected = json.loads((REPO / "demo" / "EXPECTED.json").read_text())
    code, out, err = run_cli(capsys, "local", str(REPO / "demo" / "trails"), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["summaries"] == expected["summaries"]


def test_query_reads_the_table_back(capsys, monkeypatch):
    records = random_support_records(25, seed=6)
    with embedded_stack(monkeypatch) as (aws, stack):
        events = extract(records).events
        SummaryStore(aws.client("dynamodb"), stack.table).commit("s3://bucket/key", events)
        code, out, err = run_cli(
            capsys, "query", "--table", stack.table, "--endpoint-url", aws.endpoint_url, "--format", "json"
        )
        assert code == 0, err
        ledger = Ledger()
        ledger.commit("key", events)
        assert json.loads(out) == export_document(ledger.identities())
        code, out, _ = run_cli(capsys, "query", "--table", stack.table, "--endpoint-url", aws.endpoint_url)
        assert out.startswith("IDENTITY") and "25 calls" in out
        code, _, err = run_cli(capsys, "query", "--table", "missing", "--endpoint-url", aws.endpoint_url)
        assert code == 1 and "ResourceNotFoundException" in err and len(err.splitlines()) == 1


def test_nothing_readable_exits_non_zero_with_one_line(tmp_path, capsys):
    (tmp_path / "broken.json.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    (tmp_path / "notes.txt").write_text("not a log")
    for command in ("scan", "local"):
        code, out, err = run_cli(capsys, command, str(tmp_path))
        assert code == 2 and out == ""
        assert err.splitlines()[-1].startswith("supportwatch: the file could not be read: ")
        assert "skipped 1 file not named like a log" in err
    code, _, err = run_cli(capsys, "scan", str(tmp_path / "absent"))
    assert code == 2 and err == f"supportwatch: {tmp_path / 'absent'}: no such file or folder\n"


def test_explicit_files_are_always_read_and_table_output(tmp_path, capsys):
    log = tmp_path / "export.txt"
    log.write_text(json.dumps({"Records": random_support_records(3, seed=11, identities=1)}))
    code, out, _ = run_cli(capsys, "scan", str(log), "--wide")
    assert code == 0
    assert out.splitlines()[0].split() == [
        "IDENTITY",
        "TYPE",
        "CALLS",
        "ERRORS",
        "FIRST",
        "SEEN",
        "LAST",
        "SEEN",
        "SOURCE",
        "IPS",
        "REGIONS",
    ]
    assert "\n1 identity, 3 calls\n" in out
    assert out.rstrip().splitlines()[-1].startswith("LOW       ")
    assert "New Support Recommendations user: " in out.rstrip().splitlines()[-1]


def test_console_script_keeps_stdout_clean():
    """The installed command in a fresh process: JSON only on stdout, notes on stderr."""
    command = [sys.executable, "-m", "supportwatch.cli.main", "local", str(REPO / "demo" / "trails"), "--format=json"]
    result = run_process(command, PYTHONUNBUFFERED="1")
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)) == {"summaries", "alerts"}
    assert "CANARY" not in result.stdout + result.stderr


@pytest.mark.skipif(not (REPO.parent / "shared" / "real-trails").is_dir(), reason="../shared/real-trails absent")
def test_scan_reads_the_whole_real_corpus(capsys):
    code, out, err = run_cli(capsys, "scan", str(REPO.parent / "shared" / "real-trails"), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["summaries"] == {}  # the public corpus holds no Support Recommendations event
    assert "unreadable" not in err


MIXED_TIMES = [
    ("2023-09-11T16:34:13Z", "b"),
    ("2023-09-11T18:00:00+02:00", "a"),  # 16:00Z: earlier, though it sorts last as text
    ("2023-09-11T16:34:13.5Z", "c"),  # half a second later, though "." sorts before "Z"
    ("2023-09-12T00:10:00+09:00", "d"),  # 15:10Z: the earliest, on the UTC day 2023-09-11
    ("20230911T163414Z", "e"),  # the basic format: the latest
    ("2023-09-11T20:00:00", "naive"),  # no offset: names no instant, a skipped entry
]


def test_mixed_time_forms_order_as_instants_in_scan_and_local(tmp_path, capsys):
    records = [support_record(time=time, event_id=event) for time, event in MIXED_TIMES]
    key = tmp_path / "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/111122223333_CloudTrail_x.json.gz"
    key.parent.mkdir(parents=True)
    key.write_bytes(gzip_document(records))
    outputs = []
    for command in ("scan", "local"):
        code, out, err = run_cli(capsys, command, str(tmp_path), "--format", "json")
        assert code == 0, err
        assert "skipped 1 of 6 entries" in err
        outputs.append(json.loads(out)["summaries"])
    scan, local = outputs
    assert scan == local
    summary = scan["arn:aws:iam::111122223333:user/Admin"]
    assert (summary["totalCalls"], summary["firstSeen"], summary["lastSeen"]) == (
        5,
        "2023-09-11T15:10:00Z",  # the UTC instants, written as CloudTrail writes them
        "2023-09-11T16:34:14Z",
    )


def test_local_with_every_route_receives_one_of_each_per_alert(capsys):
    code, out, err = run_cli(
        capsys, "local", str(REPO / "demo" / "trails"), "--format", "asff", "--security-hub", "--eventbridge", "--chat"
    )
    assert code == 0, err
    count = len(json.loads(out))
    assert count > 0
    assert f"received: {count} Security Hub findings, {count} EventBridge events, {count} chat notifications\n" in err


def test_sandbox_instructions_name_each_routes_inbox():
    from supportwatch.aws.local import LocalStack, RouteInboxes, Routes
    from supportwatch.cli.sandbox import instructions, tour

    stack = LocalStack("b", "t", "arn:topic", {}, "AWSLogs/", ".json.gz", Routes(True, True, True), "arn:chat")
    routed = RouteInboxes(True, "http://events", "http://chat")
    text = "\n".join(instructions("http://127.0.0.1:1", stack, "http://inbox", routed) + tour(stack, routed))
    assert "EVENT_INBOX_URL=http://events" in text and "CHAT_INBOX_URL=http://chat" in text
    assert "CHAT_TOPIC_ARN=arn:chat" in text and "--endpoint-url $AWS_ENDPOINT_URL securityhub get-findings" in text
    stack = LocalStack("b", "t", "arn:topic", {}, "AWSLogs/", ".json.gz")
    plain = "\n".join(instructions("http://127.0.0.1:1", stack, "i") + tour(stack))
    assert "export SUPPORTWATCH_TABLE=t" in plain and "supportwatch query --top 10" in plain  # the table's default
    assert "INBOX_URL=i" in plain and "securityhub" not in plain and "EVENT_INBOX" not in plain


@pytest.mark.parametrize("verbose", [False, True])
def test_local_prints_no_metrics_json_unless_verbose(tmp_path, capsys, verbose):
    """Powertools' Metrics prints its EMF document when a metric holds 100 values, whatever
    POWERTOOLS_METRICS_DISABLED says: over 110 files, local's output is the export and nothing else."""
    for number in range(110):
        key = (
            f"AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/"
            f"111122223333_CloudTrail_us-east-1_20230911T{10 + number // 60:02d}{number % 60:02d}Z_q{number}.json.gz"
        )
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(gzip_document([support_record(time="2023-09-11T10:00:00Z")]))
    code, out, err = run_cli(capsys, "local", str(tmp_path), "--format", "json", *(["--verbose"] if verbose else []))
    assert code == 0, err
    assert json.loads(out)["summaries"]  # stdout: one JSON document
    emf = [line for line in err.splitlines() if '"_aws"' in line]
    if verbose:
        assert emf  # the function's metrics, as Lambda would print them
    else:
        assert err == ""


def test_scan_says_skipped_digests_in_one_line_and_prints_csv(tmp_path, capsys):
    trail_folder(tmp_path)
    digests = tmp_path / "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/09/10"
    digests.mkdir(parents=True)
    for name in ("a", "b", "c"):
        (digests / f"111122223333_CloudTrail-Digest_us-east-1_{name}.json.gz").write_bytes(gzip_document([]))
    code, out, err = run_cli(capsys, "scan", str(tmp_path), "--format", "json")
    assert code == 0 and "skipped 3 digest files\n" in err and "Digest_us-east-1_a" not in err
    exported = json.loads(out)["summaries"]
    code, out, _ = run_cli(capsys, "scan", str(tmp_path), "--output", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and {row["identity"]: int(row["totalCalls"]) for row in rows} == {
        identity: summary["totalCalls"] for identity, summary in exported.items()
    }
    assert [int(row["totalCalls"]) for row in rows] == sorted((int(row["totalCalls"]) for row in rows), reverse=True)


def test_ctrl_c_in_local_says_how_far_it_got(tmp_path, capsys, monkeypatch):
    trail_folder(tmp_path)
    invoked = []
    invoke = local.invoke

    def ctrl_c_at_the_second_file(*args):
        if len(invoked) == 1:
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C there
        invoked.append(invoke(*args))
        return invoked[-1]

    monkeypatch.setattr(local, "invoke", ctrl_c_at_the_second_file)
    code, out, err = run_cli(capsys, "local", str(tmp_path), "--concurrency", "1")
    assert (code, out) == (130, "")
    assert err.splitlines()[-1] == (
        f"supportwatch: interrupted after {len(invoked)} of 4 files; "
        "the embedded AWS stops with it: re-run to start again"
    )
