"""Contract section 12 end to end over tests/fixtures/services/ (its README says what each record tests):
the exports written by hand there, through scan and local; with support alone (the default) every
output as before; never any typed text."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from supportwatch.cli.main import main
from tests.helpers import (
    EVERY_SERVICE,
    FIXTURES,
    REPO,
    SERVICES_CORPUS,
    TYPED,
    as_expected,
    run_process,
    services_expected,
    titled_by_service,
)
from tests.integration.test_report import report_of

TRAIL = SERVICES_CORPUS
EVERY = ",".join(EVERY_SERVICE)
CORPORA = [REPO / "demo" / "trails", FIXTURES / "trails", TRAIL]


def run_cli(capsys, *args: str | Path) -> tuple[int, str, str]:
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_scan_by_default_counts_support_alone_as_written_by_hand(capsys):
    code, out, err = run_cli(capsys, "scan", TRAIL, "--format", "json")
    assert code == 0, err
    document, want = json.loads(out), services_expected("expected-support.json")
    assert as_expected(document, want) == want
    assert all("service" not in alert for alert in document["alerts"])  # the alert JSON of before
    assert TYPED not in out + err


@pytest.mark.parametrize("corpus", CORPORA, ids=lambda path: path.name)
@pytest.mark.parametrize("output", ["json", "csv", "table", "asff"])
def test_services_support_is_the_default_byte_for_byte(corpus, output, capsys):
    """Every existing corpus (and the mixed one): `--services support` prints exactly what no option does."""
    printed = [run_cli(capsys, "scan", corpus, "--format", output, *given) for given in ([], ["--services", "support"])]
    assert printed[0][0] == 0, printed[0][2]
    if output == "asff":  # each finding's CreatedAt and UpdatedAt are the time of the run
        printed = [(code, _timeless(out), err) for code, out, err in printed]
    assert printed[1] == printed[0]


def _timeless(out: str) -> list[dict]:
    return [{**finding, "CreatedAt": None, "UpdatedAt": None} for finding in json.loads(out)]


def test_scan_counts_every_watched_service_as_written_by_hand(capsys):
    code, out, err = run_cli(capsys, "scan", TRAIL, "--services", EVERY, "--format", "json", "--jobs", "2")
    assert code == 0, err
    document, want = json.loads(out), services_expected("expected-support-q-bedrock.json")
    assert as_expected(document, want) == want
    assert titled_by_service(document["alerts"])
    # the malformed Q entry is named, as malformed support entries are (contract section 1)
    assert "Al1ceSupp0rtAndQ.json.gz: skipped 1 of 108 entries that name a watched service but" in err
    for output in ("table", "csv", "asff"):
        code, printed, noted = run_cli(capsys, "scan", TRAIL, "--services", EVERY, "--format", output)
        assert code == 0, noted
        out, err = out + printed, err + noted
    assert TYPED not in out + err


def test_local_counts_what_the_stack_watches(capsys, tmp_path):
    """`local --services` is the embedded stack's WatchedServices: the function counts them."""
    report = tmp_path / "report.html"
    code, out, err = run_cli(
        capsys, "local", TRAIL, "--services", EVERY, "--format", "json", "--verbose", "--report", report
    )
    assert code == 0, err
    want = services_expected("expected-support-q-bedrock.json")
    assert as_expected(json.loads(out), want) == want  # local's alerts went through SNS
    html, data = report_of(report)  # the report of every day the files hold embeds the same export
    assert as_expected(data, want) == want
    # the export, the function's log lines and metrics (--verbose), the report
    assert TYPED not in out + err + html
    code, out, err = run_cli(capsys, "local", TRAIL, "--format", "json")
    assert code == 0, err
    want = services_expected("expected-support.json")
    assert as_expected(json.loads(out), want) == want


def test_local_with_services_support_prints_what_it_always_did(capsys):
    """One invocation at a time: which file's event an alert names depends on the order they are read."""
    printed = [
        run_cli(capsys, "local", REPO / "demo" / "trails", "--format", "json", "--concurrency", "1", *given)
        for given in ([], ["--services", "support"])
    ]
    assert printed[0][0] == 0, printed[0][2]
    assert printed[1] == printed[0]


def test_the_corpus_is_what_its_script_writes():
    checked = run_process([sys.executable, "tests/fixtures/make_services.py", "--check"])
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_pseudonymous_scan_of_every_service_prints_no_person(capsys, tmp_path):
    """Contract section 10 over every service: the export of the corpus under pseudonyms, with the same
    numbers and the per-service fields, and no person's identity or address in any output."""
    from tests.privacy import KEY_TEXT, as_pseudonymous, leaks, real_values

    key = tmp_path / "key"
    key.write_text(KEY_TEXT, encoding="utf-8")
    code, out, err = run_cli(capsys, "scan", TRAIL, "--services", EVERY, "--format", "json")
    assert code == 0, err
    plain = json.loads(out)
    printed = []
    for output in ("json", "table", "csv", "asff"):
        code, out, err = run_cli(
            capsys, "scan", TRAIL, "--services", EVERY, "--format", output, "--pseudonymize-key", key, "--wide"
        )
        assert code == 0, err
        printed += [out, err]
    secrets = real_values(plain)
    assert {"arn:aws:iam::111122223333:user/alice", "bob", "carol", "203.0.113.7"} <= secrets
    assert leaks("\n".join(printed), secrets) == []
    shown = json.loads(printed[0])
    assert shown["summaries"] == as_pseudonymous(plain)
    assert [(alert["rule"], alert["service"]) for alert in shown["alerts"]] == [
        (alert["rule"], alert["service"]) for alert in plain["alerts"]
    ]


@pytest.mark.parametrize("command", ["scan", "local", "sandbox", "query", "report", "backfill", "redrive", "doctor"])
def test_every_command_that_reads_logs_or_the_table_shows_services_in_its_help(command, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    shown = capsys.readouterr().out
    assert done.value.code == 0
    assert "--services LIST" in shown and "support,q,bedrock" in shown
