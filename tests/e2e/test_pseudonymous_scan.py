"""`scan --pseudonymize-key` over the demo and the test corpora: no real value in any output, the
same totals under pseudonyms (contract section 10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from supportwatch.cli.main import main
from tests.helpers import FIXTURES, REPO
from tests.privacy import KEY_TEXT, as_pseudonymous, leaks, pseudonym, real_values

CORPORA = [REPO / "demo" / "trails", FIXTURES / "trails", FIXTURES / "traps", FIXTURES / "forms"]


def scan(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["scan", *map(str, CORPORA), "--volume-threshold", "1", *argv])  # every rule fires
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "key"
    path.write_text(f"  {KEY_TEXT}\n", encoding="utf-8")
    return path


def test_no_real_value_is_printed_and_totals_are_the_same(capsys, key_file: Path) -> None:
    _, plain_json, _ = scan(capsys, "--format", "json")
    plain = json.loads(plain_json)
    secrets = real_values(plain)
    assert len(secrets) > 20  # the corpora name people, sessions and addresses
    printed, exports = [], []
    for form in ("json", "table"):
        code, out, err = scan(capsys, "--format", form, "--pseudonymize-key", str(key_file), "--wide")
        assert code == 0
        printed.append(out + err)
        exports.append(out)
    assert leaks("\n".join(printed), secrets) == []
    shown = json.loads(exports[0])
    assert shown["summaries"] == as_pseudonymous(plain)
    # every alert names what its plain twin names, under its pseudonym
    rules = sorted(alert["rule"] for alert in plain["alerts"])
    assert sorted(alert["rule"] for alert in shown["alerts"]) == rules and "volume" in rules
    for alert in shown["alerts"]:
        assert alert["identity"] in shown["summaries"] or alert["identity"] is None
        if alert["sourceIp"] and not alert["sourceIp"].endswith(".amazonaws.com"):
            assert alert["sourceIp"].startswith("p-")


def test_allowlist_sees_the_real_identity(capsys, key_file: Path) -> None:
    person = "arn:aws:iam::123837392027:user/*"
    _, plain_json, _ = scan(capsys, "--format", "json", "--allowlist", person, "--rules", "not-allowlisted")
    _, shown_json, _ = scan(
        capsys,
        "--format",
        "json",
        "--allowlist",
        person,
        "--rules",
        "not-allowlisted",
        "--pseudonymize-key",
        str(key_file),
    )
    plain, shown = json.loads(plain_json)["alerts"], json.loads(shown_json)["alerts"]
    assert plain and len(shown) == len(plain)
    kept = {a["identity"] for a in plain if a["identityType"] in ("Root", "AWSService", "AWSAccount")}
    expected = {a["identity"] if a["identity"] in kept else pseudonym(a["identity"]) for a in plain}
    assert {alert["identity"] for alert in shown} == expected


def test_an_unusable_key_is_one_line(capsys, tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("\n")
    code, out, err = scan(capsys, "--pseudonymize-key", str(tmp_path / "empty"))
    assert (code, out) == (2, "") and err.count("\n") == 1 and "empty" in err


def test_local_writes_what_scan_prints(capsys, key_file: Path, tmp_path: Path) -> None:
    """`local --pseudonymize-key` puts the key in its embedded stack's secret: the function's export, its
    log lines and metrics (--verbose) and the report name no one, and equal scan's pseudonymous export."""
    demo = str(REPO / "demo" / "trails")
    assert main(["scan", demo, "--format", "json"]) == 0
    secrets = real_values(json.loads(capsys.readouterr().out))
    assert main(["scan", demo, "--format", "json", "--pseudonymize-key", str(key_file)]) == 0
    scanned = json.loads(capsys.readouterr().out)
    report = tmp_path / "report.html"
    argv = ["local", demo, "--format", "json", "--verbose", "--report", str(report)]
    assert main([*argv, "--pseudonymize-key", str(key_file)]) == 0
    out, err = capsys.readouterr()
    assert leaks(out + err + report.read_text(encoding="utf-8"), secrets) == []
    assert json.loads(out)["summaries"] == scanned["summaries"]
    assert '"service":"supportwatch"' in err.replace(" ", "")  # the function's log lines were there to grep
