"""Entry point of the `supportwatch` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from supportwatch.aws.clients import AWS_ERRORS, explain
from supportwatch.cli.inputs import InputError
from supportwatch.cli.output import NothingRead
from supportwatch.config import DEFAULT_MAX_DECOMPRESSED_BYTES, RULES, SEVERITIES

Command = Callable[[argparse.Namespace], int]


def _scan(args: argparse.Namespace) -> int:
    from supportwatch.cli import scan

    return scan.run(args)


def _local(args: argparse.Namespace) -> int:
    from supportwatch.cli import local

    return local.run(args)


def _query(args: argparse.Namespace) -> int:
    from supportwatch.cli import query

    return query.run(args)


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="supportwatch",
        description="Who uses AWS Support Recommendations, from CloudTrail logs.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, run: Command, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--format", choices=("table", "json"), default="table", help="output (default: table)")
        sub.set_defaults(run=run)
        return sub

    scan = command("scan", _scan, "Summarise downloaded CloudTrail files offline (no AWS at all).")
    scan.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="log files or folders")
    scan.add_argument(
        "--max-bytes",
        type=int,
        default=DEFAULT_MAX_DECOMPRESSED_BYTES,
        help="refuse a file that decompresses beyond this many bytes (default: 2 GiB)",
    )
    scan.add_argument(
        "--rules", type=_names, default=list(RULES), help="comma-separated alert rules to apply (default: all)"
    )
    scan.add_argument("--volume-threshold", type=int, default=100, help="calls per identity per UTC day (default: 100)")
    scan.add_argument("--allowlist", type=_names, default=[], help="comma-separated glob patterns of identities")
    scan.add_argument("--min-severity", choices=SEVERITIES, default="low", help="least severity to report")

    local = command("local", _local, "Run the deployed pipeline on an embedded AWS (moto) over local files.")
    local.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="log files or folders")
    local.add_argument("--template", type=Path, help="template.yaml to build the stack from")
    local.add_argument("--concurrency", type=int, default=4, help="invocations at a time (default: 4)")
    local.add_argument("--verbose", action="store_true", help="show the function's logs and metrics on stderr")

    query = command("query", _query, "Read the summaries table back.")
    query.add_argument("--table", required=True, help="the stack's SummaryTable name")
    query.add_argument("--endpoint-url", help="an alternative endpoint, e.g. the embedded AWS")
    query.add_argument("--region", help="the table's region (default: the AWS configuration's)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (InputError, NothingRead, FileNotFoundError, ValueError) as error:
        sys.stderr.write(f"supportwatch: {error}\n")
        return 2
    except AWS_ERRORS as error:
        sys.stderr.write(f"supportwatch: {explain(error)}\n")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
