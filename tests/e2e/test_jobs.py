"""`--jobs N`: scan decodes on every core and say exactly what one process says."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from supportwatch.cli.main import main
from tests.e2e.test_cli import trail_folder
from tests.helpers import FIXTURES, REPO, gzip_document, random_support_records
from tests.hostile import corpus


def scan(capsys, jobs: int, *args: str) -> tuple[int, str, str]:
    code = main(["scan", *args, "--jobs", str(jobs)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def hostile(root: Path) -> Path:
    assert corpus.main([str(root)]) == 0
    return root


def injected(root: Path) -> Path:
    trail_folder(root)
    return root


CORPORA = {
    "trails": lambda _: FIXTURES / "trails",
    "forms": lambda _: FIXTURES / "forms",
    "traps": lambda _: FIXTURES / "traps",
    "demo": lambda _: REPO / "demo" / "trails",
    "hostile": hostile,
    "injected": injected,
}


@pytest.mark.parametrize("name", CORPORA)
# Not asff: a finding of an alert with no event time is stamped with the time of the run.
@pytest.mark.parametrize("output", [["--format", "json"], ["--format", "table"]])
def test_scan_on_every_core_prints_what_one_process_prints(name, output, capsys, tmp_path):
    path = CORPORA[name](tmp_path / name)
    capsys.readouterr()  # what writing the corpus printed
    one = scan(capsys, 1, str(path), *output)
    assert one[1], one[2]
    assert scan(capsys, 3, str(path), *output) == one


def test_scan_of_several_corpora_keeps_the_order_given(capsys, tmp_path):
    paths = [str(FIXTURES / "forms"), str(injected(tmp_path / "injected")), str(FIXTURES / "traps")]
    capsys.readouterr()
    one = scan(capsys, 1, *paths, "--format", "json")
    assert scan(capsys, 2, *paths, "--format", "json") == one
    assert scan(capsys, 2, *reversed(paths), "--format", "json")[1] == one[1]  # the numbers do not depend on it


def test_ctrl_c_stops_every_worker(tmp_path):
    """SIGINT to the whole process group (what a terminal's Ctrl-C sends) while 3 workers decode: exit 130,
    no traceback, and no process of the group is left behind."""
    records = random_support_records(20, seed=3) * 200  # the same events again and again: decoding work
    body = gzip_document(records)
    for number in range(60):
        (tmp_path / f"log-{number:02}.json.gz").write_bytes(body)
    process = subprocess.Popen(
        [sys.executable, "-m", "supportwatch.cli.main", "scan", str(tmp_path), "--jobs", "3", "--format", "json"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal gives a command
    )
    try:
        _wait_for(lambda: len(_group(process.pid)) >= 4, "the workers to start")  # scan, forkserver, workers
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, err
    assert "Traceback" not in err and out == ""
    _wait_for(lambda: not _group(process.pid), "every process of the group to exit")


def _group(pgid: int) -> list[int]:
    """The live processes of a process group (zombies have exited)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def _wait_for(condition, what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)
