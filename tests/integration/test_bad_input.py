"""Every command, fed each kind of bad path, date and range, answers in one line on stderr and a
non-zero exit, never a traceback (issue 20 item 6); the ranges at the ends of the calendar
(0001-01-01, 9999-12-31) are answered, not refused. On moto, with a table and a bucket that hold
something, so that what is not refused up front really runs."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from supportwatch.aws.clients import client, explain
from supportwatch.aws.local import LocalStack, deploy
from supportwatch.aws.store import SummaryStore
from supportwatch.cli.main import main
from supportwatch.decoding.records import to_support_event
from tests.helpers import TEMPLATE, MotoAccount, gzip_document, support_record
from tests.integration.test_report import report_of

LOG = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/111122223333_CloudTrail_us-east-1_20230911T1635Z_a.json.gz"
FAR = support_record(time="9999-12-31T23:59:59Z", event_id="far", arn="arn:aws:iam::111122223333:user/Far")


@pytest.fixture
def aws() -> Iterator[LocalStack]:
    """A deployed stack whose table counts two events (one on 9999-12-31) and whose bucket holds a log
    (for each test: `local` runs its own embedded AWS, which resets moto's)."""
    with mock_aws():
        stack = deploy(MotoAccount(), TEMPLATE)
        boto3.client("s3").put_object(Bucket=stack.bucket, Key=LOG, Body=gzip_document([support_record()]))
        store = SummaryStore(boto3.client("dynamodb"), stack.table)
        store.commit("s3://b/k", [to_support_event(support_record(event_id="near")), to_support_event(FAR)])
        yield stack


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder, a text file that is no JSON, an empty file, a readable log and an empty key list."""
    root = tmp_path_factory.mktemp("bad")
    (root / "folder").mkdir()
    (root / "text.txt").write_text("not json\n")
    (root / "empty").write_bytes(b"")
    (root / "keys.json").write_text('{"PublicKeyList": []}')
    (root / "log.json.gz").write_bytes(gzip.compress(json.dumps({"Records": [support_record()]}).encode()))
    return root


# Each case: the command's arguments ({T} the table, {B} the bucket, {D} the files' folder) and what
# its one line says. Paths: missing, a folder where a file is wanted, a file in a missing folder,
# unreadable content; dates: malformed, impossible, beyond year 9999; ranges: reversed.
BAD = {
    "scan": [
        ("scan {D}/missing", "no such file or folder"),
        ("scan {D}/log.json.gz --pseudonymize-key {D}/folder", "--pseudonymize-key {D}/folder: a folder, not a file"),
        ("scan {D}/log.json.gz --pseudonymize-key {D}/missing", "--pseudonymize-key {D}/missing: no such file"),
        ("scan {D}/log.json.gz --pseudonymize-key {D}/empty", "pseudonym key"),
        (
            "scan {D}/log.json.gz --services support,kendra",
            "argument --services: unknown service kendra; known: support, q, bedrock",
        ),
        ("scan {D}/log.json.gz --services ,", "argument --services: name at least one service (support, q, bedrock)"),
    ],
    "local": [
        ("local {D}/missing", "no such file or folder"),
        ("local {D}/log.json.gz --report {D}/folder", "--report {D}/folder: a folder, not a file"),
        ("local {D}/log.json.gz --report {D}/missing/r.html", "folder {D}/missing does not exist"),
        ("local {D}/log.json.gz --public-keys {D}/folder", "--public-keys {D}/folder: a folder, not a file"),
        ("local {D}/log.json.gz --public-keys {D}/missing", "--public-keys {D}/missing: no such file"),
        ("local {D}/log.json.gz --template {D}/folder", "--template {D}/folder: a folder, not a file"),
        ("local {D}/log.json.gz --template {D}/text.txt", "template"),
        ("local {D}/log.json.gz --services Q,mq", "argument --services: unknown service mq"),
    ],
    "sandbox": [
        ("sandbox --template {D}/folder", "--template {D}/folder: a folder, not a file"),
        ("sandbox --template {D}/missing", "--template {D}/missing: no such file"),
        ("sandbox --services bedrock-agent", "argument --services: unknown service bedrock-agent"),
    ],
    "query": [
        ("query --table {T} --day 2023-02-30", "--day: 2023-02-30 is not a real date"),
        ("query --table {T} --since 23-09-11", "--since: expected a date YYYY-MM-DD"),
        ("query --table {T} --since 10000-01-01", "--since: expected a date YYYY-MM-DD"),
        ("query --table {T} --since 0000-12-31", "--since: 0000-12-31 is not a real date"),
        ("query --table {T} --since 2023-09-12 --until 2023-09-11", "--since 2023-09-12 is after --until 2023-09-11"),
        ("query --table {T} --active --since 9999-12-31 --until 0001-01-01", "is after --until"),
        ("query --table missing --since 2023-09-11", "table missing not found"),
        ("query --table {T} --services amazon-q", "argument --services: unknown service amazon-q"),
    ],
    "report": [
        ("report --table {T} -o {D}/folder", "--output {D}/folder: a folder, not a file"),
        ("report --table {T} -o {D}/missing/r.html", "folder {D}/missing does not exist"),
        ("report --table {T} --since 2023-02-29 -o {D}/r.html", "--since: 2023-02-29 is not a real date"),
        ("report --table {T} --since 9999-12-31 --until 9999-12-30 -o {D}/r.html", "is after --until"),
        ("report --table missing -o {D}/r.html", "table missing not found"),
        ("report --table {T} -o {D}/r.html --services support,codewhisperer", "unknown service codewhisperer"),
    ],
    "backfill": [
        ("backfill s3://{B} --emit-manifest {D}/folder", "--emit-manifest {D}/folder: a folder, not a file"),
        ("backfill s3://{B} --emit-manifest {D}/missing/m.csv", "folder {D}/missing does not exist"),
        ("backfill s3://{B} --dry-run --since 2023-9-11", "--since: expected a date YYYY-MM-DD"),
        ("backfill s3://{B} --dry-run --since 2023-09-12 --until 2023-09-11", "is after --until"),
        ("backfill {D}/log.json.gz --dry-run", "expected s3://BUCKET"),
        ("backfill s3://missing-bucket --dry-run", "NoSuchBucket"),
        ("backfill s3://{B} --table {T} --no-alerts --services all", "argument --services: unknown service all"),
    ],
    "verify": [
        ("verify s3://{B} --public-keys {D}/folder", "--public-keys {D}/folder: a folder, not a file"),
        ("verify s3://{B} --public-keys {D}/missing", "--public-keys {D}/missing: no such file"),
        ("verify s3://{B} --public-keys {D}/text.txt", "not the JSON `aws cloudtrail list-public-keys` prints"),
        ("verify s3://{B} --since 2023-09-31", "--since: 2023-09-31 is not a real date"),
        ("verify s3://{B} --since 2023-09-12 --until 2023-09-11", "is after --until"),
        ("verify s3://missing-bucket --public-keys {D}/keys.json", "NoSuchBucket"),
    ],
    "redrive": [
        (
            "redrive --queue-url https://sqs.us-east-1.amazonaws.com/123456789012/missing --no-alerts --table {T}",
            "queue",
        ),
        ("redrive --queue-url URL --table {T} --no-alerts --services q,,sagemaker", "unknown service sagemaker"),
    ],
    "doctor": [("doctor --stack missing", "stack missing not found")],
    "migrate": [("migrate --table missing", "table missing not found")],
    "reveal": [("reveal p-aaaaaaaaaaaaaaaaaaaaaaaaaa --table missing", "missing")],
    "forget": [
        ("forget arn:aws:iam::111122223333:user/X --table {T} --pseudonymize-key {D}/folder", "a folder, not a file"),
        ("forget arn:aws:iam::111122223333:user/X --table missing", "missing"),
    ],
}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The exit status, stdout and stderr of one command; anything raised fails the test (a traceback)."""
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse's own refusals
        status = exit_.code
    out, err = capsys.readouterr()
    return int(status or 0), out, err


def arguments(text: str, request: pytest.FixtureRequest, files: Path) -> list[str]:
    """The command line; the stack is deployed for the commands that talk to AWS (moto's)."""
    aws = None if text.split()[0] in ("scan", "local", "sandbox") else request.getfixturevalue("aws")
    return text.format(T=aws and aws.table, B=aws and aws.bucket, D=files).split()


@pytest.mark.parametrize(
    ("line", "says"),
    [case for cases in BAD.values() for case in cases],
    ids=[f"{c}-{i}" for c in BAD for i, _ in enumerate(BAD[c])],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(line, says, request, files, capsys):
    status, _, err = run(arguments(line, request, files), capsys)
    assert status != 0 and "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    assert says.format(D=files) in err, err


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("query --table {T} --since 9999-12-30 --until 9999-12-31 --format json", "arn:aws:iam::111122223333:user/Far"),
        ("query --table {T} --day 9999-12-31 --format csv", "9999-12-31,arn:aws:iam::111122223333:user/Far"),
        ("query --table {T} --active --since 9999-12-30 --until 9999-12-31 --by week --format csv", "9999-12-27,1,"),
        ("query --table {T} --active --since 9999-12-30 --until 9999-12-31 --by month --format csv", "9999-12-01,1,"),
        ("query --table {T} --active --since 0001-01-01 --until 0001-01-02 --format csv", "0001-01-01,0,"),
        ("query --table {T} --top 3 --since 9999-12-30 --until 9999-12-31", "Far"),
        ("query --table {T} --errors --days 3650000", "no failed"),
        ("query --table {T} --identity arn:aws:iam::111122223333:user/Far", "9999-12-31T23:59:59Z"),
    ],
)
def test_the_ends_of_the_calendar_are_answered(line, expected, request, files, capsys):
    status, out, err = run(arguments(line, request, files), capsys)
    assert (status, "Traceback" in err) == (0, False), err
    assert expected in out


def test_a_report_of_the_last_days_and_of_the_first(aws, files, capsys):
    for since, until, calls in (("9999-12-30", "9999-12-31", 1), (None, "0001-01-03", 0)):
        path = files / f"{until}.html"
        dates = (["--since", since] if since else []) + ["--until", until]
        status, _, err = run(["report", "--table", aws.table, *dates, "-o", str(path)], capsys)
        assert status == 0, err
        assert report_of(path)[1]["series"]["activity"][-1]["calls"] == calls


@pytest.mark.parametrize("command", ["backfill s3://{B} --dry-run", "verify s3://{B} --public-keys {D}/keys.json"])
def test_s3_ranges_at_the_end_of_the_calendar(command, request, files, capsys):
    status, _, err = run(
        [*arguments(command, request, files), "--since", "9999-12-30", "--until", "9999-12-31"], capsys
    )
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert status in (0, 2)  # nothing there to process or verify: said in one line


def test_local_reports_an_event_on_the_last_day_of_the_calendar(tmp_path, capsys):
    """`local DIR --report` with an event on 9999-12-31 (section 1 counts it) was exit 1 with no report."""
    (tmp_path / "far.json.gz").write_bytes(gzip_document([FAR]))
    status, out, err = run(
        ["local", str(tmp_path / "far.json.gz"), "--format", "json", "--report", str(tmp_path / "r.html")], capsys
    )
    assert status == 0, err
    data = report_of(tmp_path / "r.html")[1]
    assert (data["period"]["since"], data["period"]["until"]) == ("9999-12-31", "9999-12-31")
    assert (
        data["summaries"] == json.loads(out)["summaries"]
        and data["summaries"][FAR["userIdentity"]["arn"]]["totalCalls"] == 1
    )


def test_an_html_error_page_is_one_line(moto_server, capsys):
    """An operation moto's server lacks is an HTML 500 page; any command meeting one says so in a line."""
    cloudtrail = client("cloudtrail", moto_server, "us-east-1", attempts=1)
    with pytest.raises(ClientError) as raised:
        cloudtrail.list_public_keys()
    assert explain(raised.value) == (
        "ListPublicKeys failed: 500: the endpoint answered with an HTML error page (does it implement this operation?)"
    )
