"""Every option mistake is one line on stderr and exit status 2, before any file is read or AWS called."""

from __future__ import annotations

import re

import pytest

from supportwatch.cli import inputs
from supportwatch.cli.main import build_parser, main
from supportwatch.config import RULES

MISTAKES = {
    "backfill without a target": (["backfill", "s3://bucket"], "name the target: --stack NAME"),
    "backfill --table without a topic": (["backfill", "s3://b", "--table", "T"], "--table needs --topic-arn"),
    "backfill not an s3 uri": (["backfill", "bucket", "--dry-run"], "expected s3://BUCKET[/PREFIX]"),
    "backfill --workers 0": (["backfill", "s3://b", "--workers", "0"], "--workers: must be at least 1, got 0"),
    "backfill manifest and dry run": (["backfill", "s3://b", "--dry-run", "--emit-manifest", "m.csv"], "choose one"),
    "backfill manifest folder": (["backfill", "s3://b", "--emit-manifest", "/nope/m.csv"], "/nope does not exist"),
    "backfill dates reversed": (
        ["backfill", "s3://b", "--dry-run", "--since", "2024-02-01", "--until", "2024-01-01"],
        "--since 2024-02-01 is after --until 2024-01-01",
    ),
    "backfill bad date": (["backfill", "s3://b", "--dry-run", "--since", "2024-02-3"], "expected a date"),
    "query not a real date": (
        ["query", "--table", "T", "--since", "2023-13-01"],
        "--since: 2023-13-01 is not a real date",
    ),
    "report not a real date": (["report", "--table", "T", "--since", "2024-02-30", "-o", "r.html"], "not a real date"),
    "query without a table": (["query", "--top", "3"], "name the table: --table NAME or --stack NAME (or set SUPP"),
    "query --table and --stack": (["query", "--table", "T", "--stack", "S"], "not allowed with argument --table"),
    "migrate without a table": (["migrate"], "name the table: --table NAME or --stack NAME (or set SUPPORTWATC"),
    "forget without a table": (["forget", "x"], "name the table: --table NAME or --stack NAME (or set SUPPORTWATCH"),
    "forget --table and --stack": (["forget", "x", "--table", "T", "--stack", "S"], "not allowed with argument"),
    "query --day with --identity": (["query", "--table", "T", "--identity", "a", "--day", "2024-01-01"], "--identity"),
    "query --day with --since": (["query", "--table", "T", "--day", "2024-01-01", "--since", "2024-01-01"], "--day"),
    "query --until alone": (["query", "--table", "T", "--until", "2024-01-01"], "--until needs --since"),
    "query --since in the future": (["query", "--table", "T", "--since", "2999-01-01"], "after today"),
    "query --top -3": (["query", "--table", "T", "--top", "-3"], "--top: must be at least 1, got -3"),
    "query --top x": (["query", "--table", "T", "--top", "x"], "expected a whole number, got 'x'"),
    "query --days without --errors": (["query", "--table", "T", "--days", "3"], "--days goes with --errors"),
    "query --by without --active": (["query", "--table", "T", "--by", "week"], "--by goes with --active"),
    "query two patterns": (["query", "--table", "T", "--top", "3", "--errors"], "not allowed with argument"),
    "scan --volume-threshold -5": (["scan", ".", "--volume-threshold", "-5"], "must be 0 or more, got -5"),
    "scan --rules unknown": (["scan", ".", "--rules", "volume,nope"], "unknown rule nope"),
    "scan --max-bytes 0": (["scan", ".", "--max-bytes", "0"], "--max-bytes: must be at least 1"),
    "local --template missing": (["local", ".", "--template", "/nonexistent.yaml"], "/nonexistent.yaml: no such file"),
    "local --concurrency 0": (["local", ".", "--concurrency", "0"], "--concurrency: must be at least 1"),
    "local --report folder": (["local", ".", "--report", "/nope/r.html"], "/nope does not exist"),
    "redrive without a target": (["redrive", "--queue-url", "q"], "name the target"),
    "redrive --max 0": (["redrive", "--queue-url", "q", "--no-alerts", "--max", "0"], "--max: must be at least 1"),
    "report output folder": (["report", "--table", "T", "-o", "/nope/r.html"], "/nope does not exist"),
    "unknown option": (["scan", ".", "--colour"], "unrecognized arguments: --colour"),
}


@pytest.fixture(autouse=True)
def no_io(monkeypatch):
    """Any AWS call or file discovery fails the test: the mistake must be found first."""
    monkeypatch.delenv("SUPPORTWATCH_TABLE", raising=False)

    def refuse(*_args, **_kwargs):
        raise AssertionError("I/O before the options were checked")

    monkeypatch.setattr("botocore.client.BaseClient._make_api_call", refuse)
    monkeypatch.setattr(inputs, "discover", refuse)


@pytest.mark.parametrize(("argv", "expected"), MISTAKES.values(), ids=MISTAKES.keys())
def test_option_mistakes_are_one_line_and_exit_2(argv, expected, capsys):
    try:
        status = main(argv)
    except SystemExit as exit_:
        status = exit_.code
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert len(err.splitlines()) == 1 and expected in err, err


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith("supportwatch 0.")


def test_a_gz_that_is_not_gzip_says_so_and_cloudtrail_files_get_a_hint(tmp_path, capsys, monkeypatch):
    monkeypatch.undo()  # this one reads files
    (tmp_path / "a.json.gz").write_text('{"Records": [')
    (tmp_path / "b.cloudtrail").write_text("{}")
    assert main(["scan", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "a.json.gz: unreadable: not gzip and not JSON:" in err
    assert "skipped 1 file not named like a log" in err and "hint: .cloudtrail files" in err
    assert err.splitlines()[-1].startswith("supportwatch: the file could not be read: ")


COMMANDS = next(action.choices for action in build_parser()._actions if action.dest == "command")


def help_of(capsys, monkeypatch, *argv: str) -> str:
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_s_help_has_examples_word_placeholders_and_fits_80_columns(command, capsys, monkeypatch):
    text = help_of(capsys, monkeypatch, command)
    examples = text.split("\nexamples:\n")[1].splitlines()
    assert examples and all(line.startswith(f"  supportwatch {command}") for line in examples)
    assert [line for line in text.splitlines() if len(line) > 80] == []
    # --table NAME, --topic-arn ARN, --queue-url URL, ... rather than argparse's option names in capitals
    assert re.findall(r"--[a-z-]+ (?:TABLE|STACK|TOPIC_ARN|QUEUE_URL|ENDPOINT_URL|WORKERS|PROFILE)\b", text) == []


def test_rules_help_names_every_rule_unbroken(capsys, monkeypatch):
    text = " ".join(help_of(capsys, monkeypatch, "scan").split())
    assert all(f" {rule}," in text or f" {rule} " in text for rule in RULES), text


def test_bare_supportwatch_prints_the_help(capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", ["supportwatch"])
    assert main() == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: supportwatch") and "query" in out and "examples:" in out
