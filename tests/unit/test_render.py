"""The CLI's renderer: tables that fit 80 and 120 columns, `--wide`, alerts by severity; SNS subjects and email."""

from __future__ import annotations

import json

import pytest

from supportwatch.aggregate import Ledger
from supportwatch.cli import doctor
from supportwatch.cli.output import alert_table, render
from supportwatch.cli.render import Column, alerts_by_severity, print_table
from supportwatch.config import AlertSettings
from supportwatch.decoding.records import extract
from supportwatch.doctor.models import Check
from supportwatch.identities.short import shorten_identity as shorten_arn
from supportwatch.messages import email_body, sns_message, subject_line
from supportwatch.models import ObjectRef
from supportwatch.rules import evaluate
from tests.helpers import CANARY, support_record

SSO = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_1b74cd717d47002b/dana@example.com"
ROOT = "arn:aws:iam::111122223333:root"
REF = ObjectRef("trail", "AWSLogs/111122223333/CloudTrail/us-east-1/2023/09/11/f.json.gz")


def scanned(records):
    events = extract(records).events
    ledger = Ledger()
    ledger.commit("f", events)
    settings = AlertSettings(allowlist=("arn:aws:iam::*:user/Nobody",))
    alerts = evaluate(REF, events, {(e.identity, e.day, e.service): 1 for e in events}, settings)
    return ledger.identities(), [alert.to_json() for alert in alerts]


RECORDS = [
    support_record(arn=SSO, issuer="arn:aws:iam::111122223333:role/aws-reserved/AWSReservedSSO_Admin"),
    support_record(arn=ROOT, time="2023-09-11T17:00:00Z"),
    support_record(arn="arn:aws:iam::111122223333:user/intern", error="AccessDeniedException"),
]


@pytest.mark.parametrize("columns", [80, 120])
def test_tables_fit_the_terminal(columns, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", str(columns))
    summaries, alerts = scanned(RECORDS)
    render(summaries, "table", alerts)
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= columns
    assert "111122223333:…/dana@example.com" in out or SSO in out  # the account and the tail survive
    assert "\x1b[" not in out  # not a terminal: no colour


def test_wide_shows_every_column_and_full_values(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    summaries, alerts = scanned(RECORDS)
    render(summaries, "table", alerts, wide=True)
    out = capsys.readouterr().out
    assert SSO in out and "REGIONS" in out and "SOURCE IPS" in out and "2023-09-11T16:34:13Z" in out


def test_narrow_terminals_drop_the_least_useful_columns_first(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    summaries, _ = scanned(RECORDS)
    render(summaries, "table")
    header = capsys.readouterr().out.splitlines()[0].split()
    assert header[:3] == ["IDENTITY", "CALLS", "ERRORS"] and "REGIONS" not in header


def test_json_is_not_touched_by_the_renderer(monkeypatch, capsys):
    summaries, alerts = scanned(RECORDS)
    outputs = []
    for columns in ("40", "200"):
        monkeypatch.setenv("COLUMNS", columns)
        render(summaries, "json", alerts)
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] and json.loads(outputs[0])["alerts"]


def test_alerts_are_listed_by_severity_then_time(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "120")
    _, alerts = scanned(RECORDS)
    ordered = alerts_by_severity(alerts)
    ranks = ["critical", "high", "medium", "low"]
    assert [ranks.index(a["severity"]) for a in ordered] == sorted(ranks.index(a["severity"]) for a in alerts)
    lows = [a["eventTime"] for a in ordered if a["severity"] == "low"]
    assert lows == sorted(lows)


def test_severities_are_coloured_on_a_terminal_only(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "120")
    alerts = [
        {"severity": severity, "rule": "root-usage", "window": "2023-09-10", "title": f"{severity} alert"}
        for severity in ("critical", "high", "medium", "low")
    ]
    alert_table(alerts)
    assert "\x1b[" not in capsys.readouterr().out
    monkeypatch.setenv("FORCE_COLOR", "1")
    alert_table(alerts)
    out = capsys.readouterr().out
    assert "\x1b[1;31mCRITICAL" in out and "\x1b[31mHIGH" in out and "\x1b[33mMEDIUM" in out
    assert any(line.startswith("LOW ") for line in out.splitlines())  # low: plain


def test_values_are_text_not_markup(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    print_table([Column("NAME"), Column("N", right=True)], [["[bold]x[/bold]", "1"]])
    assert "[bold]x[/bold]" in capsys.readouterr().out


def test_arn_rule_keeps_account_and_tail():
    assert shorten_arn(SSO, 200) == SSO
    assert shorten_arn(SSO, 60) == "111122223333:…/dana@example.com"
    assert shorten_arn(SSO, 60, "...") == "111122223333:.../dana@example.com"


def test_subjects_keep_account_and_tail_and_drop_control_characters():
    long = f"New Support Recommendations user: {SSO}"
    assert subject_line(long, SSO) == "New Support Recommendations user: 111122223333:.../dana@example.com"
    for text in ("a\x00b\x07c\x1b[31md\x7fe\u0085f", "tab\there\nnew\rline"):
        subject = subject_line(text)
        assert subject.isascii() and len(subject) < 100
        assert not any(ord(c) < 32 or ord(c) == 127 for c in subject)
    sneaky = SSO.replace("dana", "da\x1bna")
    (alert,) = [a for a in evaluate(REF, extract([support_record(arn=sneaky)]).events, {}, AlertSettings())]
    message = sns_message(alert)
    assert len(message["Subject"]) < 100 and message["Subject"].isascii()
    assert not any(ord(c) < 32 or ord(c) == 127 for c in message["Subject"])
    assert message["Subject"].endswith(":.../da na@example.com")


def test_email_reads_at_a_glance():
    (alert,) = [a for a in evaluate(REF, extract([support_record(arn=SSO)]).events, {}, AlertSettings())]
    lookups = ("supportwatch query --table T --region eu-west-1 --identity " + SSO, "aws dynamodb query ...")
    body = email_body(alert, lookups)
    assert "region us-east-1" in body and "User agent: signin.amazonaws.com" in body
    assert "first seen by supportwatch" in body and "once per ever" not in body
    assert "raised once ever for this identity" in body
    assert body.index("supportwatch query --table T --region eu-west-1") < body.index("aws dynamodb query")
    assert body.splitlines()[0] == "New Support Recommendations user: 111122223333:.../dana@example.com"
    assert CANARY not in body and CANARY not in json.dumps(sns_message(alert, lookups))


def test_doctor_checks_fold_whole_within_the_terminal_and_are_coloured_only_on_a_terminal(monkeypatch, capsys):
    detail = "no trail delivers the calls of us-east-1, eu-west-1, ap-southeast-2 and 31 other regions"
    fix = "aws cloudtrail update-trail --name main --is-multi-region-trail --region us-east-1 --include-global-events"
    checks = [Check("regions", "fail", detail, fix), Check("trail main logging", "pass", "logging")]
    for columns, room in ((60, 60), (200, 80)):
        monkeypatch.setenv("COLUMNS", str(columns))
        doctor.render(checks)
        out = capsys.readouterr().out
        table, _, fixes = out.partition("\nfix ")
        assert max(len(line) for line in table.splitlines()) <= room < len(detail) + 16
        assert detail in " ".join(table.split())  # folded onto more lines, nothing cut
        assert f"  {fix}" in fixes.splitlines()  # one line, to copy and paste
        assert out.endswith("\n1 passed, 0 warnings, 1 failed\n") and "\x1b[" not in out
    monkeypatch.setenv("FORCE_COLOR", "1")
    doctor.render(checks)
    assert "\x1b[1;31mFAIL" in capsys.readouterr().out


def test_the_table_says_why_entries_were_skipped_and_json_keeps_the_contract_shape(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    summaries, alerts = scanned(RECORDS)
    skipped = {"eventName missing": 1, "eventTime not ISO 8601": 2, "not a JSON object": 1}
    render(summaries, "table", alerts, skipped=skipped)
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "skipped 4 entries" in out
    assert "2 eventTime not ISO 8601, 1 eventName missing, 1 not a JSON object" in " ".join(out.split())
    render(summaries, "json", alerts, skipped=skipped)
    with_skips = capsys.readouterr().out
    render(summaries, "json", alerts)
    assert with_skips == capsys.readouterr().out
