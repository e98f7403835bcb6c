"""What the CLI calls the events it counts (contract section 12): Support Recommendations' with support
alone, as it always did; with more watched, the watched services' (a Bedrock-only scan has no support events)."""

from __future__ import annotations

import csv
import io
from urllib.parse import unquote

from supportwatch.cli import backfill, redrive, sandbox
from supportwatch.cli.main import main
from supportwatch.cli.summary_csv import write_csv
from supportwatch.models import ObjectRef, Summary
from supportwatch.pipeline import ObjectReport
from tests.helpers import REPO
from tests.unit.test_aggregate import ADMIN

REPORT = ObjectReport(ObjectRef("trail", "AWSLogs/a.json.gz"), "counted", entries=9, support_events=3, counted=3)


def test_scan_with_no_event_of_the_watched_services_says_so(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["scan", str(REPO / "demo" / "trails"), "--services", "bedrock"]) == 0
    assert capsys.readouterr().out == "no events of the watched services found\n"


def test_backfill_totals_and_sandbox_lines_name_the_watched_events(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    totals = backfill.Totals.of([REPORT], [], 1.0)
    backfill._print_totals(totals, "table", ("support",))
    support_only = capsys.readouterr().out.splitlines()
    backfill._print_totals(totals, "table", ("bedrock",))
    bedrock = capsys.readouterr().out.splitlines()
    assert support_only[2] == "support events  3"  # as it always was
    assert bedrock[2] == "watched events  3" and bedrock[:2] + bedrock[3:] == support_only[:2] + support_only[3:]
    sandbox.note(REPORT)
    sandbox.note(REPORT, ("support", "q"))
    assert capsys.readouterr().err.splitlines() == [
        "s3://trail/AWSLogs/a.json.gz: 3 support events, 3 counted now",
        "s3://trail/AWSLogs/a.json.gz: 3 watched events, 3 counted now",
    ]


def test_csv_models_cell_splits_back_into_the_callers_model_ids(capsys):
    """A model ID is the caller's text: one holding `;` or `=` would read as other models and counts, one
    starting with `=`, `+`, `-` or `@` as a spreadsheet formula."""
    models = {"m;x=99": 1, "=HYPERLINK(1)": 2, "@SUM(1)": 3, "-2+3": 4, "a%3B": 5, "anthropic.claude-v2:1": 6}
    summary = Summary(ADMIN, None, "IAMUser", ADMIN, "", 21, "", "", 0, models=models, services={"bedrock": 21})
    write_csv([summary], ("support", "bedrock"))
    (row,) = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    cell = row["models"]
    assert cell[:1] not in "=+-@"
    decoded = {unquote(name): int(count) for name, count in (entry.split("=") for entry in cell.split(";"))}
    assert decoded == models
    assert "anthropic.claude-v2:1=6" in cell  # real model IDs as written


def test_redrive_says_a_file_had_no_watched_events():
    empty = ObjectReport(ObjectRef("trail", "AWSLogs/a.json.gz"), "counted", entries=9)
    assert redrive._outcome(empty) == "no support events"  # as it always was
    assert redrive._outcome(empty, ("bedrock",)) == "no watched events"
