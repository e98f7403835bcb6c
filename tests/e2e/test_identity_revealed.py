"""`identity-revealed` through `scan`: a reveal in the logs raises it once per pseudonym and UTC day in
pseudonymous mode, naming who revealed in clear; in plain mode nothing is looked for (contract section 10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from supportwatch.cli.main import main
from supportwatch.privacy import Pseudonymizer
from tests.helpers import gzip_document, reveal_record, support_record

KEY = "reveal-alert-key"
ALICE = "arn:aws:sts::111122223333:assumed-role/Support/alice@example.com"
BOB = "arn:aws:sts::111122223333:assumed-role/Security/bob@example.com"
P_ALICE = Pseudonymizer(KEY.encode()).of(ALICE)


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    folder = tmp_path / "AWSLogs"
    folder.mkdir()
    first = [
        support_record(arn=ALICE),
        reveal_record(P_ALICE, event_id="r1"),
        reveal_record(P_ALICE, error="AccessDenied"),
    ]
    (folder / "a.json.gz").write_bytes(gzip_document(first))
    again = [reveal_record(P_ALICE, time="2026-12-06T18:00:00Z", event_id="r2")]  # the same pseudonym and day
    (folder / "b.json.gz").write_bytes(gzip_document(again))
    (tmp_path / "key").write_text(KEY + "\n")
    return tmp_path


def scan(capsys, *argv: str) -> tuple[int, str]:
    code = main(["scan", *argv])
    return code, capsys.readouterr().out


def test_a_reveal_raises_identity_revealed_once(capsys, logs: Path) -> None:
    code, out = scan(capsys, str(logs / "AWSLogs"), "--pseudonymize-key", str(logs / "key"), "--format", "json")
    assert code == 0
    (alert,) = [alert for alert in json.loads(out)["alerts"] if alert["rule"] == "identity-revealed"]
    assert (alert["identity"], alert["revealedBy"], alert["window"], alert["eventId"]) == (
        P_ALICE,
        BOB,
        "2026-12-06",
        "r1",
    )
    assert alert["severity"] == "medium" and alert["sourceIp"].startswith("p-")
    code, out = scan(capsys, str(logs / "AWSLogs"), "--pseudonymize-key", str(logs / "key"), "--wide")
    assert f"Identity {P_ALICE} revealed by" in out


def test_plain_mode_looks_for_no_reveal(capsys, logs: Path) -> None:
    code, out = scan(capsys, str(logs / "AWSLogs"), "--format", "json")
    assert code == 0 and "identity-revealed" not in out and "revealedBy" not in out
