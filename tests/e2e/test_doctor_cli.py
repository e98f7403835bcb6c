"""`supportwatch doctor` as a user runs it: a separate process against moto's server."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

from rich.console import Console

from supportwatch.aws.clients import client
from supportwatch.aws.local import EmbeddedAws
from supportwatch.cli.doctor import spinner


def run(endpoint: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "supportwatch.cli.main", "doctor", "--endpoint-url", endpoint, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200", "AWS_DEFAULT_REGION": "us-east-1"},
        check=False,
    )


def test_doctor_prints_an_80_column_table_then_the_fixes_and_exact_json():
    with EmbeddedAws() as aws:
        client("s3", aws.endpoint_url).create_bucket(Bucket="doctor-e2e-logs")
        cloudtrail = client("cloudtrail", aws.endpoint_url, "eu-west-1")
        cloudtrail.create_trail(Name="write-only", S3BucketName="doctor-e2e-logs", EnableLogFileValidation=True)
        cloudtrail.put_event_selectors(
            TrailName="write-only", EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]
        )
        cloudtrail.start_logging(Name="write-only")

        table = run(aws.endpoint_url)
        assert table.returncode == 1, table.stderr
        rows, _, fixes = table.stdout.partition("\nfix ")
        assert all(len(line) <= 80 for line in rows.splitlines())
        assert rows.splitlines()[0].split() == ["STATUS", "CHECK", "DETAIL"]
        assert "FAIL    trail write-only events" in rows and "\x1b[" not in table.stdout  # no colour into a pipe
        assert "aws cloudtrail put-event-selectors --region eu-west-1 --trail-name write-only" in fixes
        assert table.stdout.rstrip().endswith("0 warnings, 2 failed")
        assert table.stderr == ""  # no progress when stderr is not a terminal

        document = run(aws.endpoint_url, "--format", "json")
        assert document.returncode == 1
        checks = json.loads(document.stdout)
        assert list(checks) == ["checks"]
        assert [(check["name"], check["status"]) for check in checks["checks"]] == [
            ("trail write-only events", "fail"),
            ("trail write-only logging", "pass"),
            ("regions", "fail"),
        ]


def test_progress_is_drawn_on_a_terminal_only_and_cleared():
    terminal, pipe = io.StringIO(), io.StringIO()
    with spinner(Console(file=terminal, force_terminal=True)) as step:
        step("trails: 1/34 regions")
    with spinner(Console(file=pipe)) as step:
        step("trails: 1/34 regions")
    assert "reading trails: 1/34 regions" in terminal.getvalue()
    assert terminal.getvalue().endswith("\x1b[2K")  # the spinner's line is erased when done
    assert pipe.getvalue() == ""
