"""`supportwatch sandbox` in its own process, used by the CLI through the lines it prints, stopped by Ctrl-C."""

from __future__ import annotations

import json
import os
import re
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
from tests.helpers import (
    EVERY_SERVICE,
    REPO,
    SERVICES_CORPUS,
    TYPED,
    as_expected,
    gzip_document,
    random_support_records,
    services_expected,
)

STARTUP_SECONDS = 600  # a loaded machine (110 files took over 300 s at load 11); it starts in seconds


def write_trail(root: Path, day: int, files: int, seed: int) -> Path:
    """Trail files of one day under AWSLogs/ keys, support events of a few identities in each."""
    for number in range(files):
        stamp = f"202309{day:02d}T{12 + number // 60:02d}{number % 60:02d}Z"
        key = (
            f"AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/{day:02d}/"
            f"111122223333_CloudTrail_us-east-1_{stamp}_f{seed}{number}.json.gz"
        )
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(gzip_document(random_support_records(15, seed=seed * 100 + number)))
    return root


def run(capsys, *args: str) -> tuple[int, dict]:
    code = main(list(args))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return code, json.loads(captured.out)


def start(tmp_path: Path, argv: list[str], **environ: str) -> tuple[subprocess.Popen, list[str]]:
    """The sandbox started by `argv` from the repository root; its process and the lines it printed up to READY."""
    process = subprocess.Popen(
        argv,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "stderr").open("w"),  # a file: a full pipe would block the sandbox
        text=True,
        env={**os.environ, **environ},
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
    return process, lines


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture
def sandbox(tmp_path):
    """The sandbox started with one folder to load; yields (process, the variables of its export lines)."""
    loaded = write_trail(tmp_path / "loaded", day=11, files=2, seed=1)
    process, lines = start(tmp_path, [sys.executable, "-m", "supportwatch.cli.main", "sandbox", str(loaded)])
    yield process, exported(lines), loaded, tmp_path / "stderr"
    stop(process)


def exported(lines: list[str]) -> dict[str, str]:
    """The variables of the sandbox's export lines (every line it printed pastes into a shell)."""
    variables = {}
    for line in lines:
        assert line.startswith(("#", "export ")), line
        if line.startswith("export "):
            variables.update(word.split("=", 1) for word in shlex.split(line)[1:])
    return variables


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
    more = write_trail(tmp_path / "more", day=13, files=3, seed=3)  # 2 + 2 + 3 files, and the trail's own
    for path in sorted(more.rglob("*.json.gz")):
        s3.put_object(Bucket=bucket, Key=path.relative_to(more).as_posix(), Body=path.read_bytes())
    _, totals = run(capsys, "backfill", f"s3://{bucket}", "--table", table, "--topic-arn", variables["TOPIC_ARN"],
                    "--format", "json")  # fmt: skip
    assert totals["files"] == 8 and totals["counted"] + totals["alreadyCounted"] == totals["supportEvents"]
    _, expected = run(capsys, "scan", str(loaded), str(uploaded), str(more), "--format", "json")
    _, found = run(capsys, "query", "--table", table, "--format", "json")
    assert found["summaries"] == expected["summaries"]

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    errors = stderr.read_text()
    assert "Traceback" not in errors
    assert errors.rstrip().endswith("sandbox stopped")
    # files loaded at the start make no line each (a count on stdout); each one put later does, within 80 columns
    assert "_f10.json.gz" not in errors and "_f20.json.gz: 15 support events, 15 counted now" in errors
    assert max(map(len, errors.splitlines())) <= 80


def test_verify_and_doctor_pass_in_the_sandbox_and_a_file_put_by_hand_fails_verify(sandbox, capsys, monkeypatch):
    """The sandbox's trail signed digests of what it loaded (the key in $PUBLIC_KEYS) and doctor finds the
    trail and the stack; a loaded log overwritten by hand is what verify exists to catch."""
    _, variables, loaded, _ = sandbox
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    bucket, keys = variables["BUCKET"], variables["PUBLIC_KEYS"]
    assert main(["verify", f"s3://{bucket}", "--public-keys", keys, "--format", "json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["logs"]["verified"] == 3 and found["digests"]["verified"] >= 2  # 2 loaded + the trail's own
    assert main(["doctor", "--stack", "supportwatch-local", "--format", "json"]) == 0
    checks = {check["name"]: check["status"] for check in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["trail supportwatch-local events"] == checks["delivery notification"] == "pass", checks
    assert checks["delivery bucket"] == checks["trail supportwatch-local validation"] == "pass", checks
    assert "fail" not in checks.values()  # warnings: other regions, and the loaded files' old folders

    (tampered,) = [path for path in loaded.rglob("*.json.gz") if path.name.endswith("_f10.json.gz")]
    key = tampered.relative_to(loaded).as_posix()
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=gzip_document(random_support_records(3, seed=9)))
    assert main(["verify", f"s3://{bucket}", "--public-keys", keys, "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["logs"]["tampered"] == [key]


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


def test_many_files_load_quietly_within_80_columns_exports_first(tmp_path):
    """110 files: no metrics JSON (Powertools prints its EMF when a metric holds 100 values, disabled or
    not), no line per file, every line within 80 columns; the exports before the loading, the count after it."""
    loaded = write_trail(tmp_path / "loaded", day=11, files=110, seed=4)
    argv = [sys.executable, "-m", "supportwatch.cli.main", "sandbox", str(loaded)]
    process, lines = start(tmp_path, argv, COLUMNS="80")
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    stop(process)
    assert (tmp_path / "stderr").read_text() == "sandbox stopped\n"
    assert [line for line in lines if len(line) > 80] == []
    exports = [number for number, line in enumerate(lines) if line.startswith("export ")]
    (loaded_line,) = [number for number, line in enumerate(lines) if line.startswith("# Loaded 110 files;")]
    assert exports and max(exports) < loaded_line


README_BLOCK = re.compile(r"^```sh needs-aws sandbox-(\w+)\n(.*?)^```", re.M | re.S)


def test_the_readme_tour_runs_as_written_in_a_new_shell(tmp_path):
    """README's sandbox blocks verbatim: terminal 1's command, then in a shell whose PATH has no
    supportwatch, the lines the sandbox printed and terminal 2's block, with bash (every command exits 0)."""
    blocks = dict(README_BLOCK.findall((REPO / "README.md").read_text()))
    (command,) = [line for line in blocks["terminal1"].splitlines() if line and not line.startswith("#")]
    process, lines = start(tmp_path, ["bash", "-c", f"exec {command}"])
    try:
        script = "set -euo pipefail\n" + "\n".join(lines) + "\n" + blocks["terminal2"]
        shell = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", str(tmp_path)), "COLUMNS": "80"}
        done = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, env=shell, capture_output=True, text=True, timeout=600, check=False
        )
        assert done.returncode == 0, (done.stdout, done.stderr)
        assert "dana@example.com" in done.stdout and "7 identities, 23 calls" in done.stderr  # as scan counts
        assert "digests  7 verified" in done.stdout and "0 failed" in done.stdout  # verify, doctor
        wide = [line for line in (done.stdout + done.stderr).splitlines() if len(line) > 80]
        assert all(line.startswith("  aws ") for line in wide), wide  # but doctor's fixes, unbroken to copy
    finally:
        stop(process)


def test_a_pseudonymous_sandbox_holds_what_scan_prints_and_refuses_clear_identities(tmp_path, capsys, monkeypatch):
    """`sandbox --pseudonymize-key` puts the key in its stack's secret: the function writes scan's
    pseudonyms, and a backfill without the key is refused in one line (contract section 10)."""
    key = tmp_path / "key"
    key.write_text("sandbox key\n", encoding="utf-8")
    loaded = write_trail(tmp_path / "loaded", day=11, files=2, seed=1)
    argv = [sys.executable, "-m", "supportwatch.cli.main", "sandbox", str(loaded), "--pseudonymize-key", str(key)]
    process, lines = start(tmp_path, argv)
    try:
        variables = exported(lines)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        _, expected = run(capsys, "scan", str(loaded), "--format", "json", "--pseudonymize-key", str(key))
        _, found = run(capsys, "query", "--table", variables["TABLE"], "--format", "json")
        assert found["summaries"] == expected["summaries"] and all(name.startswith("p-") for name in found["summaries"])
        backfill = ["backfill", f"s3://{variables['BUCKET']}", "--table", variables["TABLE"], "--no-alerts"]
        assert main(backfill) == 2
        assert "holds pseudonymous identities" in capsys.readouterr().err
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        stop(process)


def test_a_sandbox_watching_every_service_counts_them_and_query_and_report_show_them(tmp_path, capsys, monkeypatch):
    """`sandbox --services` is its stack's WatchedServices: the function counts tests/fixtures/services as written
    by hand there; query and report of its table show the services when asked (contract section 12)."""
    every = ",".join(EVERY_SERVICE)
    argv = [sys.executable, "-m", "supportwatch.cli.main", "sandbox", str(SERVICES_CORPUS), "--services", every]
    process, lines = start(tmp_path, argv)
    try:
        for name, value in exported(lines).items():
            monkeypatch.setenv(name, value)
        want = services_expected("expected-support-q-bedrock.json")
        _, found = run(capsys, "query", "--services", every, "--format", "json")  # $SUPPORTWATCH_TABLE
        assert as_expected(found, want) == want
        _, plain = run(capsys, "query", "--format", "json")
        assert not [summary for summary in plain["summaries"].values() if "services" in summary]
        pages = {}
        for given in ([], ["--services", every]):
            page = tmp_path / f"report{len(given)}.html"
            assert main(["report", "--since", "2025-03-10", "--until", "2025-03-11", "-o", str(page), *given]) == 0
            pages[bool(given)] = page.read_text(encoding="utf-8")
        assert "serviceUse" in pages[True] and "serviceUse" not in pages[False]
        assert TYPED not in json.dumps(found) + "".join(pages.values()) + capsys.readouterr().err
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        stop(process)
    assert TYPED not in (tmp_path / "stderr").read_text()


def test_with_every_route_each_inbox_shows_one_message_per_alert(tmp_path):
    from supportwatch.aws.local import received_alerts, received_chat, received_events

    loaded = write_trail(tmp_path / "loaded", day=11, files=2, seed=1)
    argv = [sys.executable, "-m", "supportwatch.cli.main", "sandbox", str(loaded), "--security-hub", "--eventbridge"]
    process, lines = start(tmp_path, [*argv, "--chat"])
    try:
        variables = exported(lines)

        class Sandbox:  # clients as the printed lines configure them
            def client(self, service: str):
                return boto3.client(
                    service,
                    endpoint_url=variables["AWS_ENDPOINT_URL"],
                    region_name="us-east-1",
                    aws_access_key_id=variables["AWS_ACCESS_KEY_ID"],
                    aws_secret_access_key=variables["AWS_SECRET_ACCESS_KEY"],
                )

        alerts = received_alerts(Sandbox(), variables["INBOX_URL"])
        findings = Sandbox().client("securityhub").get_findings()["Findings"]
        events = received_events(Sandbox(), variables["EVENT_INBOX_URL"])
        chat = received_chat(Sandbox(), variables["CHAT_INBOX_URL"])
        assert len(alerts) == len(findings) == len(events) == len(chat) > 0
        assert variables["CHAT_TOPIC_ARN"].endswith(":supportwatch-local-chat")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        assert "Traceback" not in (tmp_path / "stderr").read_text()
    finally:
        stop(process)
