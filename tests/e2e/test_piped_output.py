"""Piped JSON and CSV are for scripts: the real CLI in its own process, stdout a pipe, at 80 and 200
columns, prints the same bytes every time, without colour, progress or notes (those go to stderr)."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

from supportwatch.aws.store import SummaryStore
from supportwatch.decoding.records import extract
from tests.helpers import REPO, embedded_stack, gzip_document, random_support_records, run_process, support_record

WIDTHS = ("80", "200")
NOISE = ("\x1b", "\r", "supportwatch:", "skipped")  # colour, a redrawn progress line, the CLI's notes


def piped(*args: str, columns: str) -> tuple[bytes, str]:
    """stdout (bytes, as a script reads them) and stderr of `supportwatch ARGS`, both pipes."""
    command = [sys.executable, "-m", "supportwatch.cli.main", *args]
    done = run_process(command, text=False, COLUMNS=columns, PYTHONUNBUFFERED="1")
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout, done.stderr.decode()


def stable(*args: str) -> tuple[bytes, str]:
    """The output at every width, checked to be the same bytes and free of terminal noise."""
    runs = [piped(*args, columns=columns) for columns in WIDTHS]
    (out, err), (again, _) = runs
    assert out == again, f"`{' '.join(args)}` differs between COLUMNS=80 and 200"
    text = out.decode()
    assert out.endswith(b"\n") and not any(noise in text for noise in NOISE)
    return out, err


def mixed_log(root: Path) -> Path:
    """Support events of several identities, and entries that name the source but are skipped."""
    records = random_support_records(40, seed=21, identities=5)
    records += [{**support_record(), "eventTime": "yesterday"}, {"eventSource": records[0]["eventSource"]}]
    path = root / "111122223333_CloudTrail_us-east-1_20230911T1200Z_mixed.json.gz"
    path.write_bytes(gzip_document(records))
    return path


def test_scan_and_local_json_are_byte_stable(tmp_path):
    log = mixed_log(tmp_path)
    scanned, err = stable("scan", str(log), str(REPO / "demo" / "trails"), "--format", "json")
    assert "skipped 2 of 42 entries" in err  # the notes are on stderr, not in the document
    document = json.loads(scanned)
    assert set(document) == {"summaries", "alerts"} and document["alerts"]
    # One invocation at a time: at `local`'s default of 4, as in Lambda, which of an identity's events a
    # once-per-window alert quotes is the one whose invocation claimed the window first (docs/cli.md).
    local, _ = stable("local", str(REPO / "demo" / "trails"), "--concurrency", "1", "--format", "json")
    assert json.loads(local)["summaries"] == json.loads((REPO / "demo" / "EXPECTED.json").read_text())["summaries"]


def test_query_csv_and_json_are_byte_stable(monkeypatch):
    events = extract(random_support_records(30, seed=22, identities=6)).events
    with embedded_stack(monkeypatch) as (aws, stack):
        SummaryStore(aws.client("dynamodb"), stack.table).commit("s3://bucket/key", events)
        where = ("--table", stack.table, "--endpoint-url", aws.endpoint_url)
        table, _ = stable("query", *where, "--format", "csv")
        rows = list(csv.DictReader(io.StringIO(table.decode())))
        assert len(rows) == len({event.identity for event in events})
        assert sum(int(row["totalCalls"]) for row in rows) == len(events)
        document, _ = stable("query", *where, "--format", "json")
        assert sum(summary["totalCalls"] for summary in json.loads(document)["summaries"].values()) == len(events)
        top, _ = stable("query", *where, "--top", "3", "--format", "csv")
        assert top.decode().splitlines()[1:] == table.decode().splitlines()[1:4]
