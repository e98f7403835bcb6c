"""The report in a real headless browser (Debian's chromium, installed by `make test`): it renders with no
console message (the page has no script to run and loads nothing) and a screenshot lands under build/."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path

import pytest

from supportwatch.report.insights import Period
from supportwatch.report.page import Deployment, render_report
from tests.helpers import REPO, support_record
from tests.integration.test_report import HOSTILE, Page
from tests.unit.test_insights import ledger_of, multi_month

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
]


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    """Run chromium with a fresh profile; fails the test, with the reason, when it cannot start."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.fail("chromium not found: `make test` installs it (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [binary, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120
        )
    if result.returncode != 0:
        pytest.fail(f"chromium exited {result.returncode}: {result.stderr[-2000:]}")
    return result


def console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def report(tmp_path: Path) -> Path:
    records = multi_month(300, seed=9, days=90)
    records += [support_record(arn=arn, time="2023-02-01T10:00:00Z", event_id=f"h{n}") for n, arn in enumerate(HOSTILE)]
    ledger = ledger_of(records)
    days = [summary for (_, day), summary in ledger.summaries.items() if day]
    period = Period.of(date(2023, 1, 1), date(2023, 3, 31), days, ledger.identities())
    alerts = [{"rule": "root-usage", "severity": "critical", "window": "2023-02-01", "title": HOSTILE[0]}]
    path = tmp_path / "report.html"
    path.write_text(render_report(period, alerts, Deployment("table", "supportwatch-summaries")), encoding="utf-8")
    return path


def test_report_renders_without_console_messages_and_is_screenshot(tmp_path):
    path = report(tmp_path)
    dumped = chromium("--dump-dom", path.as_uri())
    assert console_messages(dumped.stderr) == []
    page = Page(dumped.stdout)  # the DOM after rendering: every section, the data still inert JSON
    assert set(page.data()["summaries"]) >= set(HOSTILE)
    assert "Top identities" in "".join(page.text) and dumped.stdout.count("<svg") == 2
    screenshot = REPO / "build" / "report.png"
    screenshot.parent.mkdir(exist_ok=True)
    screenshot.unlink(missing_ok=True)
    shot = chromium("--window-size=1100,1600", "--hide-scrollbars", f"--screenshot={screenshot}", path.as_uri())
    assert console_messages(shot.stderr) == []
    assert screenshot.stat().st_size > 10_000 and screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_console_check_sees_errors(tmp_path):
    """The check above can fail: a page whose script throws is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><script>console.error('boom'); notDefined();</script>")
    messages = console_messages(chromium("--dump-dom", bad.as_uri()).stderr)
    assert any("boom" in line for line in messages) and any("notDefined" in line for line in messages)
