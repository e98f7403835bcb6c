"""Every option mistake is one line on stderr and exit status 2, before any file is read or AWS called."""

from __future__ import annotations

import pytest

from supportwatch.cli import inputs
from supportwatch.cli.main import main

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
    "backfill bad date": (["backfill", "s3://b", "--dry-run", "--since", "2024-02-30"], "expected a date"),
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
