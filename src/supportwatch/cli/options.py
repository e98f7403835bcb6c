"""Option values and combinations, checked before any command reads a file or calls AWS.

Value types (`count`, `at_least_zero`, `rule_names`) are argparse `type=` functions; `check(args)`
looks at the combinations. Either way a mistake is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import os
from datetime import date
from pathlib import Path

from supportwatch.cli.help import TABLE_ENVIRONMENT
from supportwatch.config import RULES
from supportwatch.layout import LayoutError, parse_day, parse_s3_uri, today
from supportwatch.services import DEFAULT_SERVICES, SERVICES, parse_services


class OptionError(ValueError):
    """A wrong option or combination of options: the message names it."""


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def count(text: str) -> int:
    """A number of things: at least 1."""
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def default_jobs() -> int:
    """The cores this process may run on: how many files `--jobs` decodes at once by default."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def at_least_zero(text: str) -> int:
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def port(text: str) -> int:
    """A TCP port; 0 asks for a free one."""
    value = _integer(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port from 0 to 65535, got {value}")
    return value


def rule_names(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if unknown := sorted(set(names) - set(RULES)):
        raise argparse.ArgumentTypeError(f"unknown rule {', '.join(unknown)} (known: {', '.join(RULES)})")
    return names


def services(text: str) -> tuple[str, ...]:
    """A `--services` list: the watched services, in the order supportwatch.services lists them; at least one."""
    if not text.replace(",", "").strip():
        raise argparse.ArgumentTypeError(f"name at least one service ({', '.join(SERVICES)}), got {text!r}")
    try:
        return parse_services(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _given(args: argparse.Namespace, *names: str) -> list[str]:
    """The options among `names` that were given, as they are spelt on the command line."""
    return ["--" + name.replace("_", "-") for name in names if getattr(args, name, None) not in (None, False)]


def _output_file(option: str, value: str | Path | None) -> None:
    """A file to write (or `-`, stdout): not a folder, in a folder that exists."""
    if value is None or str(value) == "-":
        return
    path = Path(value).expanduser()
    if path.is_dir():
        raise OptionError(f"{option} {value}: a folder, not a file")
    if not path.parent.is_dir():
        raise OptionError(f"{option} {value}: folder {path.parent} does not exist")


INPUT_FILES = ("template", "public_keys", "pseudonymize_key")  # the options naming a file to read


def _input_files(args: argparse.Namespace) -> None:
    """Each file the command would read exists and is not a folder."""
    for name in INPUT_FILES:
        if (value := getattr(args, name, None)) is None:
            continue
        option, path = "--" + name.replace("_", "-"), Path(value).expanduser()
        if path.is_dir():
            raise OptionError(f"{option} {value}: a folder, not a file")
        if not path.exists():
            raise OptionError(f"{option} {value}: no such file")


def _target(args: argparse.Namespace) -> None:
    """backfill and redrive write to a table (and a topic): named by --stack, or --table with --topic-arn."""
    if args.stack or (args.table and (args.topic_arn or args.no_alerts)):
        return
    if args.table:
        raise OptionError("--table needs --topic-arn ARN for the alerts, or --no-alerts")
    raise OptionError("name the target: --stack NAME, or --table NAME with --topic-arn ARN (or --no-alerts)")


def _day(option: str, text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return parse_day(text)
    except LayoutError as error:
        raise OptionError(f"--{option}: {error}") from None


def _dates(args: argparse.Namespace) -> None:
    _day("day", getattr(args, "day", None))
    since, until = _day("since", getattr(args, "since", None)), _day("until", getattr(args, "until", None))
    if since and until and since > until:
        raise OptionError(f"--since {since} is after --until {until}")


def _query(args: argparse.Namespace) -> None:
    if args.day and (args.since or args.until):
        raise OptionError("--day cannot be combined with --since/--until")
    if dated := _given(args, "day", "since", "until"):
        if pattern := _given(args, "identity", "principal", "errors"):
            raise OptionError(f"{pattern[0]} cannot be combined with {dated[0]}")
        if args.until and not args.since:
            raise OptionError("--until needs --since")
        if args.since and not args.until and parse_day(args.since) > today():
            raise OptionError(f"--since {args.since} is after today ({today()}, UTC)")
    if args.days is not None and not args.errors:
        raise OptionError("--days goes with --errors")
    if args.by is not None and not args.active:
        raise OptionError("--by goes with --active")
    args.days = 7 if args.days is None else args.days
    args.by = args.by or "day"


def _summaries_table(args: argparse.Namespace) -> None:
    """query, report, migrate and forget read the table named by --table, --stack, or $SUPPORTWATCH_TABLE."""
    if args.table or getattr(args, "stack", None):
        return
    args.table = os.environ.get(TABLE_ENVIRONMENT) or None
    if args.table is None:
        stack = " or --stack NAME" if hasattr(args, "stack") else ""
        raise OptionError(f"name the table: --table NAME{stack} (or set {TABLE_ENVIRONMENT})")


def _services(args: argparse.Namespace) -> None:
    """Without --services a command watches support alone, unless it names a deployed --stack: then the
    stack's WatchedServices decide (read when the command runs)."""
    if getattr(args, "services", DEFAULT_SERVICES) is None and not getattr(args, "stack", None):
        args.services = DEFAULT_SERVICES


def check(args: argparse.Namespace) -> None:
    """Every combination the command's options allow, before it starts; raises OptionError."""
    _services(args)
    _dates(args)
    _input_files(args)
    command = args.command
    if command in ("query", "report", "migrate", "forget"):
        _summaries_table(args)
    if command == "query":
        _query(args)
    elif command in ("backfill", "verify"):
        try:
            parse_s3_uri(args.location)
        except LayoutError as error:
            raise OptionError(str(error)) from None
    if command == "backfill":
        _output_file("--emit-manifest", args.emit_manifest)
        if args.emit_manifest and args.dry_run:
            raise OptionError("--emit-manifest and --dry-run: choose one")
        if not (args.emit_manifest or args.dry_run):
            _target(args)
    elif command == "redrive" and not args.dry_run:
        _target(args)
    elif command == "local":
        _output_file("--report", args.report)
    elif command == "report":
        _output_file("--output", args.output)
