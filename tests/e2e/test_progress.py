"""Progress bars under a real pseudo-terminal: fitted to 80 columns, no stale lines, one clean final line."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
import textwrap

import pytest

from supportwatch.cli.progress import Progress, timing
from supportwatch.models import ObjectRef
from supportwatch.pipeline import ObjectReport
from tests.helpers import gzip_document, support_record

REPORT = ObjectReport(ObjectRef("", "f"), "counted", entries=1000, support_events=2)
SCRIPT = textwrap.dedent(
    """
    import time
    from supportwatch.cli.progress import Progress
    from supportwatch.models import ObjectRef
    from supportwatch.pipeline import ObjectReport

    report = ObjectReport(ObjectRef("", "f"), "counted", entries=123456, support_events=2)
    with Progress(40) as progress:
        for _ in range(40):
            time.sleep(0.01)
            progress.advance_report(report)
    print("after", flush=True)
    """
)


def screen(output: str, width: int) -> list[str]:
    """What a terminal of `width` columns shows after `output`: CR, LF, erase-line and cursor-up applied."""
    lines, row, column = [""], 0, 0
    for token in re.findall(r"\x1b\[([?\d;]*)([A-Za-z])|\x1b\][^\x07]*\x07|(\r\n|\r|\n)|([^\x1b\r\n]+)", output):
        number, command, newline, text = token
        if newline in ("\n", "\r\n"):
            row, column = row + 1, 0
            lines += [""] * (row + 1 - len(lines))
        elif newline == "\r":
            column = 0
        elif command == "K":
            lines[row] = lines[row][:column]
        elif command == "A":
            row = max(row - int(number or 1), 0)
        elif text:
            assert column + len(text) <= width, f"a line longer than {width} columns: {text!r}"
            lines[row] = lines[row][:column] + text + lines[row][column + len(text) :]
            column += len(text)
    return [line for line in lines if line.strip()]


def in_terminal(argv: list[str], columns: int) -> list[str]:
    """What a terminal of `columns` shows after `argv` ran in it (stdout and stderr); it exits 0."""
    leader, follower = pty.openpty()
    os.set_blocking(leader, True)
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    child = subprocess.Popen(argv, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert child.wait(timeout=60) == 0
    os.close(leader)
    return screen(b"".join(chunks).decode(), columns)


@pytest.mark.parametrize("columns", [80, 120])
def test_progress_in_a_terminal_leaves_one_clean_line(columns):
    shown = in_terminal([sys.executable, "-c", SCRIPT], columns)
    assert len(shown) == 2, shown  # the final progress line, then what came after: nothing stale
    final, after = shown
    assert "40/40 files" in final and "files/s  in 0:" in final and after == "after"
    assert ("4,938,240 events" in final) == (columns >= 100)


def test_nothing_is_drawn_when_not_a_terminal():
    pipe = io.StringIO()
    with Progress(2, pipe) as progress:
        progress.advance_report(REPORT)
        progress.advance_report(REPORT)
    assert pipe.getvalue() == "" and progress.counts == {"events": 2000, "support events": 4}


def test_timing_shows_rate_and_eta_then_the_time_taken():
    assert timing(1, 4, 2.0, "files") == "0.5 files/s  ETA 0:06"
    assert timing(4, 4, 8.0, "files") == "0.5 files/s  in 0:08"
    assert timing(0, 4, 1.0, "objects") == "0.0 objects/s  ETA ?"


def test_notes_about_files_fit_the_terminal(tmp_path):
    """A file with a skipped entry and an unreadable one, their CloudTrail names 74 characters long: at 80
    columns each note is the file's name (its folders left out) and the note wrapped below it."""
    folder = tmp_path / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / "2023" / "09" / "11"
    folder.mkdir(parents=True)
    name = "111122223333_CloudTrail_us-east-1_20230911T1200Z_{}.json.gz"
    bad = {**support_record(), "eventTime": "yesterday"}
    (folder / name.format("Sk1pped0neEntry0")).write_bytes(gzip_document([support_record(), bad]))
    (folder / name.format("Unr3adab1eF1le00")).write_bytes(b"not gzip, not JSON")
    shown = in_terminal([sys.executable, "-m", "supportwatch.cli.main", "scan", str(tmp_path)], 80)
    skipped = shown.index(f"…/{name.format('Sk1pped0neEntry0')}:")
    assert shown[skipped + 1 : skipped + 3] == [
        "  skipped 1 of 2 entries that name Support Recommendations but are not",
        "  well-formed records: 1 eventTime not ISO 8601",
    ]
    unreadable = shown.index(f"…/{name.format('Unr3adab1eF1le00')}:")
    assert shown[unreadable + 1].startswith("  unreadable: ")
