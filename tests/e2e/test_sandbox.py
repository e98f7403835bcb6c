"""`supportwatch sandbox` in its own process, used by the CLI through the lines it prints, stopped by Ctrl-C."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest

from supportwatch.cli.main import main
from supportwatch.cli.sandbox import READY
from tests.helpers import REPO, gzip_document, random_support_records

STARTUP_SECONDS = 300  # a loaded machine; the sandbox itself starts in a few seconds


def write_trail(root: Path, day: int, files: int, seed: int) -> Path:
    """Trail files of one day under AWSLogs/ keys, support events of a few identities in each."""
    for number in range(files):
        key = (
            f"AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/{day:02d}/"
            f"111122223333_CloudTrail_us-east-1_202309{day:02d}T12{number:02d}Z_f{seed}{number}.json.gz"
        )
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(gzip_document(random_support_records(15, seed=seed * 100 + number)))
    return root


def run(capsys, *args: str) -> tuple[int, dict]:
    code = main(list(args))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return code, json.loads(captured.out)


@pytest.fixture
def sandbox(tmp_path):
    """The sandbox started with one folder to load; yields (process, the variables of its export lines)."""
    loaded = write_trail(tmp_path / "loaded", day=11, files=2, seed=1)
    process = subprocess.Popen(
        [sys.executable, "-m", "supportwatch.cli.main", "sandbox", str(loaded)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "stderr").open("w"),  # a file: a full pipe would block the sandbox
        text=True,
    )
    watchdog = threading.Timer(STARTUP_SECONDS, process.kill)
    watchdog.start()
    lines = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith(READY):
            break
    watchdog.cancel()
    assert lines and lines[-1] == READY, (lines, (tmp_path / "stderr").read_text())
    variables = {}
    for line in lines:
        assert line.startswith(("#", "export ")), line  # every line pastes into a shell
        if line.startswith("export "):
            variables.update(word.split("=", 1) for word in shlex.split(line)[1:])
    yield process, variables, loaded, tmp_path / "stderr"
    if process.poll() is None:
        process.kill()
        process.wait()


def test_uploads_reach_the_function_backfill_and_query_agree_with_scan_and_ctrl_c_stops(
    sandbox, tmp_path, capsys, monkeypatch
):
    process, variables, loaded, stderr = sandbox
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    bucket, table = variables["BUCKET"], variables["TABLE"]
    s3 = boto3.client("s3")  # through AWS_ENDPOINT_URL and the dummy credentials printed

    # An object put into the bucket reaches the function, as S3's notification would deliver it.
    uploaded = write_trail(tmp_path / "uploaded", day=12, files=2, seed=2)
    for path in sorted(uploaded.rglob("*.json.gz")):
        s3.put_object(Bucket=bucket, Key=path.relative_to(uploaded).as_posix(), Body=path.read_bytes())
    _, expected = run(capsys, "scan", str(loaded), str(uploaded), "--format", "json")
    deadline = time.monotonic() + 120
    while True:
        _, found = run(capsys, "query", "--table", table, "--format", "json")
        if found["summaries"] == expected["summaries"] or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert found["summaries"] == expected["summaries"]

    # More files, then backfill at once (racing the function over them): counted exactly once.
    more = write_trail(tmp_path / "more", day=13, files=3, seed=3)
    for path in sorted(more.rglob("*.json.gz")):
        s3.put_object(Bucket=bucket, Key=path.relative_to(more).as_posix(), Body=path.read_bytes())
    _, totals = run(capsys, "backfill", f"s3://{bucket}", "--table", table, "--topic-arn", variables["TOPIC_ARN"],
                    "--format", "json")  # fmt: skip
    assert totals["files"] == 7 and totals["counted"] + totals["alreadyCounted"] == totals["supportEvents"]
    _, expected = run(capsys, "scan", str(loaded), str(uploaded), str(more), "--format", "json")
    _, found = run(capsys, "query", "--table", table, "--format", "json")
    assert found["summaries"] == expected["summaries"]

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    errors = stderr.read_text()
    assert "Traceback" not in errors
    assert errors.rstrip().endswith("sandbox stopped")
    assert f"s3://{bucket}/AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/" in errors  # loaded, line by line


def test_sigterm_stops_it_cleanly_too(sandbox):
    process, _, _, stderr = sandbox
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert "Traceback" not in stderr.read_text()


def test_option_errors_are_one_line_before_anything_starts(capsys, tmp_path):
    assert main(["sandbox", "--template", str(tmp_path / "none.yaml")]) == 2
    assert capsys.readouterr().err == f"supportwatch: --template {tmp_path / 'none.yaml'}: no such file\n"
    with pytest.raises(SystemExit) as exited:
        main(["sandbox", "--port", "70000"])
    assert exited.value.code == 2
    assert "must be a port from 0 to 65535, got 70000" in capsys.readouterr().err
