"""Contract section 12 end to end over tests/fixtures/services/ (its README says what each record tests):
the exports written by hand there, through scan, local and the function; never any typed text."""

from __future__ import annotations

import json
from pathlib import Path

from supportwatch.cli.main import main
from tests.helpers import FIXTURES

SERVICES = FIXTURES / "services"
TRAIL = SERVICES / "trail"
TYPED = "CANARY"  # begins every piece of typed text the corpus holds


def expected(name: str) -> dict:
    return json.loads((SERVICES / name).read_text(encoding="utf-8"))


def as_expected(document: dict, like: dict) -> dict:
    """The export with each alert cut to the fields the expected file holds (the contract's; not the prose)."""
    fields = like["alerts"][0].keys()
    return {
        "summaries": document["summaries"],
        "alerts": [{name: alert.get(name) for name in fields} for alert in document["alerts"]],
    }


def run_cli(capsys, *args: str | Path) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_scan_by_default_counts_support_alone_as_written_by_hand(capsys):
    code, out, err = run_cli(capsys, "scan", TRAIL, "--format", "json")
    assert code == 0, err
    document, want = json.loads(out), expected("expected-support.json")
    assert as_expected(document, want) == want
    assert all("service" not in alert for alert in document["alerts"])  # the alert JSON of before
    assert TYPED not in out + err
