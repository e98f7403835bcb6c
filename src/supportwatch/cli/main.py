"""Entry point of the `supportwatch` command.

Each command's module is imported when that command runs: `scan` never loads boto3 or the AWS
adapters, and its start-up stays close to Python's own.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from importlib import import_module
from importlib.metadata import version
from pathlib import Path
from typing import NoReturn

from supportwatch.cli.help import TABLE_ENVIRONMENT, finish
from supportwatch.cli.inputs import InputError
from supportwatch.cli.options import at_least_zero, check, count, default_jobs, port, rule_names, services
from supportwatch.cli.output import NothingRead
from supportwatch.config import DEFAULT_EXACT_MAX_BYTES, DEFAULT_MAX_DECOMPRESSED_BYTES, RULES, SEVERITIES
from supportwatch.report.insights import GRANULARITIES

Command = Callable[[argparse.Namespace], int]


def _lazy(module: str) -> Command:
    """The `run` of `supportwatch.cli.<module>`, imported only when the command runs (scan loads no boto3)."""

    def run(args: argparse.Namespace) -> int:
        return int(import_module(f"supportwatch.cli.{module}").run(args))

    return run


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class Parser(argparse.ArgumentParser):
    """argparse, with a mistake said in one line (`supportwatch query: --top: must be at least 1, got -3`)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


FINDING_FORMATS = ("table", "json", "csv", "asff")  # csv: the summaries; asff: Security Hub findings per alert


STACK_SERVICES = "default: the stack's WatchedServices with --stack, else support"


def _services_option(sub: argparse.ArgumentParser, default: str = "default: support") -> None:
    sub.add_argument(
        "--services",
        type=services,
        metavar="LIST",
        help=f"the watched services, comma-separated: support, q, bedrock ({default}); e.g. support,q,bedrock",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="supportwatch",
        description="Who uses AWS Support Recommendations, from CloudTrail logs.",
    )
    parser.add_argument("--version", action="version", version=f"supportwatch {version('supportwatch')}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser, metavar="COMMAND")

    def command(
        name: str, run: Command, help_text: str, formats: tuple[str, ...] = ("table", "json")
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "--format",
            "--output",
            dest="format",
            choices=formats,
            default="table",
            metavar="FORMAT",
            help=f"{', '.join(formats[:-1])} or {formats[-1]} (default: table)",
        )
        sub.set_defaults(run=run)
        return sub

    scan = command(
        "scan", _lazy("scan"), "Summarise downloaded CloudTrail files offline (no AWS at all).", FINDING_FORMATS
    )
    scan.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="log files or folders")
    scan.add_argument(
        "--max-bytes",
        type=count,
        default=DEFAULT_MAX_DECOMPRESSED_BYTES,
        help="refuse a file that decompresses beyond this many bytes (default: 2 GiB)",
    )
    _services_option(scan)
    _exact_option(scan)
    _jobs_option(scan)
    _alert_options(scan, {"rules": list(RULES), "volume_threshold": 100, "allowlist": [], "min_severity": "low"})
    _key_option(scan)

    _wide(scan)

    local = command(
        "local",
        _lazy("local"),
        "Run the deployed pipeline on an embedded AWS (moto) over local files.",
        FINDING_FORMATS,
    )
    local.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="log files or folders")
    local.add_argument("--template", type=Path, help="template.yaml to build the stack from")
    local.add_argument("--concurrency", type=count, default=4, help="invocations at a time (default: 4)")
    local.add_argument("--verbose", action="store_true", help="show the function's logs and metrics on stderr")
    local.add_argument("--report", type=Path, metavar="FILE", help="also write the HTML report of the files' days")
    local.add_argument(
        "--public-keys",
        metavar="FILE",
        help="`aws cloudtrail list-public-keys` output: digest files are verified (default: not verifiable)",
    )
    _services_option(local)
    _route_options(local)
    _key_option(local)

    _wide(local)

    sandbox = commands.add_parser(
        "sandbox",
        help="Keep an embedded AWS with the stack running until Ctrl-C, to try backfill, query and uploads.",
        description="Start an embedded AWS (moto) with the stack of template.yaml, optionally load PATHs through the "
        "function, print the export lines to use it, and deliver every object put into its bucket to the function "
        "until Ctrl-C.",
    )
    sandbox.set_defaults(run=_lazy("sandbox"))
    sandbox.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="log files or folders to load first")
    sandbox.add_argument("--port", type=port, default=0, help="loopback port to listen on (default: a free one)")
    sandbox.add_argument("--template", type=Path, help="template.yaml to build the stack from")
    sandbox.add_argument("--verbose", action="store_true", help="show the function's logs and metrics on stderr")
    _services_option(sandbox)
    _route_options(sandbox)
    _key_option(sandbox)

    query = command("query", _lazy("query"), "Read the summaries table back.", ("table", "json", "csv"))
    _wide(query)
    _table_options(query)
    _services_option(query, STACK_SERVICES)
    _aws_options(query)
    pattern = query.add_mutually_exclusive_group()
    pattern.add_argument(
        "--identity",
        metavar="IDENTITY",
        help="one identity (its key, a shortened form a table printed, or its end such as dana@example.com): "
        "all fields and its day-by-day history",
    )
    pattern.add_argument("--principal", metavar="ARN", help="all sessions of a role (or one identity's principal)")
    pattern.add_argument("--top", type=count, metavar="N", help="the N identities with the most calls")
    pattern.add_argument("--errors", action="store_true", help="identities with failed calls on recent days")
    pattern.add_argument(
        "--active", action="store_true", help="active identities, calls and conversations per day (default: 30 days)"
    )
    query.add_argument("--by", choices=GRANULARITIES, help="with --active: per day, week or month (default: day)")
    query.add_argument("--days", type=count, help="with --errors: the last N UTC days (default: 7)")
    query.add_argument("--day", metavar="YYYY-MM-DD", help="who used the service on this UTC day")
    query.add_argument("--since", metavar="YYYY-MM-DD", help="who used the service from this UTC day ...")
    query.add_argument("--until", metavar="YYYY-MM-DD", help="... to this one (default: today)")

    backfill = command("backfill", _lazy("backfill"), "Process the CloudTrail logs already in a bucket (exactly once).")
    backfill.add_argument("location", metavar="s3://BUCKET[/PREFIX]", help="the trail's bucket and key prefix")
    backfill.add_argument("--since", metavar="YYYY-MM-DD", help="first UTC day to process (default: all)")
    backfill.add_argument("--until", metavar="YYYY-MM-DD", help="last UTC day to process (default: today)")
    backfill.add_argument("--workers", type=count, default=8, help="objects processed at a time (default: 8)")
    backfill.add_argument("--dry-run", action="store_true", help="only count the files and bytes, per day")
    backfill.add_argument(
        "--emit-manifest", metavar="FILE", help="write an S3 Batch Operations CSV manifest (- for stdout) instead"
    )
    backfill.add_argument("--stack", help="the deployed stack: its table, topic and alert settings")
    backfill.add_argument("--table", help="the summaries table (instead of, or overriding, --stack)")
    backfill.add_argument("--topic-arn", help="the alert topic (instead of, or overriding, --stack)")
    backfill.add_argument("--no-alerts", action="store_true", help="count only: raise no alerts")
    _services_option(backfill, STACK_SERVICES)
    _exact_option(backfill)
    _jobs_option(backfill)
    _key_option(backfill)
    _alert_options(backfill, {})  # the stack's settings, else the function's defaults
    _aws_options(backfill)

    redrive = command("redrive", _lazy("redrive"), "Replay the function's failed events from its DLQ, exactly once.")
    redrive.add_argument("--queue-url", required=True, help="the DLQ (the function's on-failure destination)")
    redrive.add_argument("--dry-run", action="store_true", help="list what would be replayed, change nothing")
    redrive.add_argument("--max", type=count, metavar="N", help="replay at most N messages")
    redrive.add_argument("--stack", help="the deployed stack: its table, topic and alert settings")
    redrive.add_argument("--table", help="the summaries table (instead of, or overriding, --stack)")
    redrive.add_argument("--topic-arn", help="the alert topic (instead of, or overriding, --stack)")
    redrive.add_argument("--no-alerts", action="store_true", help="count only: raise no alerts")
    _services_option(redrive, STACK_SERVICES)
    _exact_option(redrive)
    _key_option(redrive)
    _alert_options(redrive, {})
    _aws_options(redrive)

    report = commands.add_parser(
        "report",
        help="Write a period of the summaries as one self-contained HTML file.",
        description="Write a period of the summaries as one self-contained HTML file (charts, tables, data).",
    )
    report.set_defaults(run=_lazy("report"))
    _table_options(report)
    report.add_argument("--since", metavar="YYYY-MM-DD", help="first UTC day (default: 30 days before --until)")
    report.add_argument("--until", metavar="YYYY-MM-DD", help="last UTC day (default: today)")
    report.add_argument("-o", "--output", type=Path, required=True, metavar="FILE", help="the HTML file to write")
    _services_option(report, STACK_SERVICES)
    _aws_options(report)

    doctor = command(
        "doctor", _lazy("doctor"), "Check (read-only) that the deployment sees every Support Recommendations call."
    )
    doctor.add_argument("--stack", help="the deployed stack: also check its bucket, wiring, function, queues and logs")
    _services_option(doctor, STACK_SERVICES)
    _aws_options(doctor)

    verify = command(
        "verify", _lazy("verify"), "Prove with CloudTrail's digest files which logs are intact, altered or gone."
    )
    verify.add_argument("location", metavar="s3://BUCKET[/PREFIX]", help="the trail's bucket and key prefix")
    verify.add_argument("--since", metavar="YYYY-MM-DD", help="first UTC day to verify (default: all)")
    verify.add_argument("--until", metavar="YYYY-MM-DD", help="last UTC day to verify (default: today)")
    verify.add_argument(
        "--public-keys", metavar="FILE", help="`aws cloudtrail list-public-keys` output to use instead of CloudTrail"
    )
    _aws_options(verify)

    reveal = commands.add_parser(
        "reveal",
        help="Print the identity behind a pseudonym (a KMS Decrypt that CloudTrail logs and that alerts).",
        description="Decrypt the identity sealed under PSEUDONYM (pseudonymous mode). Only the stack's "
        "RevealPrincipals may; each reveal is logged by CloudTrail and raises identity-revealed. Exit 1: nothing "
        "sealed under it; 2: KMS refused.",
    )
    reveal.set_defaults(run=_lazy("reveal"))
    reveal.add_argument("pseudonym", metavar="PSEUDONYM", help="p- and 26 characters, as the table shows it")
    reveal.add_argument("--table", required=True, help="the stack's SummaryTable name")
    _aws_options(reveal)

    forget = commands.add_parser(
        "forget",
        help="Erase one identity: every item that holds or names it (a data-subject erasure request).",
        description="Delete the summary, days, set members, alerts and sealed identity of one identity; no other "
        "identity's numbers change. Safe to repeat; a run cut short is finished by the next.",
    )
    forget.set_defaults(run=_lazy("forget"))
    forget.add_argument("identity", metavar="IDENTITY_OR_PSEUDONYM", help="an identity key, or its pseudonym")
    _table_options(forget)
    _key_option(forget, "the table's pseudonym key (default: --stack's): IDENTITY is erased under its pseudonym too")
    _aws_options(forget)

    pseudonym = commands.add_parser(
        "pseudonym",
        help="Print the pseudonym a value (an identity key, an address) is written as in pseudonymous mode.",
        description="Print the pseudonym a value (an identity key, an address) is written as in pseudonymous mode, "
        "to look a known person up.",
    )
    pseudonym.set_defaults(run=_lazy("pseudonym"))
    pseudonym.add_argument("value", metavar="VALUE", help="e.g. arn:aws:sts::111122223333:assumed-role/Dev/jane")
    key = pseudonym.add_mutually_exclusive_group(required=True)
    _key_option(key)
    key.add_argument("--stack", help="the deployed stack of IdentityMode=pseudonymous: its key, from Secrets Manager")
    _aws_options(pseudonym)

    migrate = commands.add_parser(
        "migrate",
        help="Once after upgrading: index the day summaries and alerts an earlier release wrote; or rewrite a "
        "table of clear identities in pseudonymous form (--pseudonymize).",
        description="Give the day summaries and published alerts written before index byPeriod their place in "
        "it (one Scan; safe to repeat and beside the live function). With --pseudonymize: rewrite each identity "
        "and alert of a table written in clear under pseudonyms, then record the table's mode (safe to repeat; "
        "a run cut short is finished by the next; run it while no function writes into the table).",
    )
    migrate.set_defaults(run=_lazy("migrate"))
    _table_options(migrate)
    migrate.add_argument(
        "--pseudonymize",
        action="store_true",
        help="rewrite a table of clear identities in pseudonymous form (contract section 10); safe to repeat",
    )
    _key_option(migrate, "with --pseudonymize: the pseudonym key (default: --stack's secret)")
    _aws_options(migrate)
    finish(parser, commands.choices)
    return parser


def _key_option(
    sub: argparse._ActionsContainer,  # a parser or a group of it
    help_text: str = "pseudonymous mode: identities of people and source addresses are written as keyed "
    "pseudonyms (the key is FILE's content)",
) -> None:
    sub.add_argument("--pseudonymize-key", type=Path, metavar="FILE", help=help_text)


def _wide(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--wide", action="store_true", help="tables: every column with full values, however wide")


def _route_options(sub: argparse.ArgumentParser) -> None:
    """The template's switches of contract section 11, on in the embedded stack."""
    sub.add_argument(
        "--security-hub", action="store_true", help="SecurityHubFindings=enabled: import each alert as a finding"
    )
    sub.add_argument(
        "--eventbridge", action="store_true", help="EventBridgeAlerts=enabled: each alert on the default bus"
    )
    sub.add_argument("--chat", action="store_true", help="ChatTopicArn: each alert to a chat topic")


def _aws_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--endpoint-url", help="an alternative endpoint, e.g. the embedded AWS")
    sub.add_argument(
        "--region", help="the region (default: $AWS_REGION, $AWS_DEFAULT_REGION or the profile's, as the AWS CLI)"
    )
    sub.add_argument("--profile", help="a named profile of the AWS configuration (default: $AWS_PROFILE or default)")


def _table_options(sub: argparse.ArgumentParser) -> None:
    """The summaries table read: --table (default $SUPPORTWATCH_TABLE) or the deployed --stack's."""
    target = sub.add_mutually_exclusive_group()
    target.add_argument("--table", help=f"the summaries table (default: ${TABLE_ENVIRONMENT})")
    target.add_argument("--stack", help="the deployed stack (its SummaryTableName output)")


def _exact_option(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--exact-max-bytes",
        type=count,
        default=DEFAULT_EXACT_MAX_BYTES,
        metavar="BYTES",
        help="the most a file the streaming reader cannot read (another form, a bomb) may inflate to in memory, "
        "about the peak memory it takes (default: 256 MiB)",
    )


def _jobs_option(sub: argparse.ArgumentParser) -> None:
    jobs = default_jobs()
    sub.add_argument(
        "--jobs",
        type=count,
        default=jobs,
        metavar="N",
        help=f"processes decoding files at once; the output is the same for any N (default: the cores, {jobs})",
    )


def _alert_options(sub: argparse.ArgumentParser, defaults: dict[str, object]) -> None:
    """The alert settings of the function's parameters; without `defaults` they default to None."""
    sub.add_argument(
        "--rules", type=rule_names, help=f"comma-separated alert rules to apply (default: all): {', '.join(RULES)}"
    )
    sub.add_argument("--volume-threshold", type=at_least_zero, help="calls per identity per UTC day (default: 100)")
    sub.add_argument("--allowlist", type=_names, help="comma-separated glob patterns of identities")
    sub.add_argument("--min-severity", choices=SEVERITIES, help="least severity to report (default: low)")
    sub.set_defaults(**defaults)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    if not (sys.argv[1:] if argv is None else argv):  # bare `supportwatch`: what it can do
        parser.print_help()
        return 0
    args = parser.parse_args(argv)
    try:
        check(args)
        if not hasattr(args, "profile"):
            return args.run(args)
        from supportwatch.aws.clients import profile  # commands that talk to AWS load it anyway

        with profile(args.profile):
            return args.run(args)
    except (InputError, NothingRead, ValueError) as error:
        sys.stderr.write(f"supportwatch: {error}\n")
        return 2
    except KeyboardInterrupt as interrupt:  # a run over files says how far it got (cli/output.Interrupted)
        if str(interrupt):
            sys.stderr.write(f"supportwatch: {interrupt}\n")
        return 130
    except BrokenPipeError:  # `supportwatch ... | head`: the reader has what it wanted
        sys.stderr.close()
        return 0
    except OSError as error:  # a file that cannot be read or written (a folder, no permission, a full disk)
        where = f"{error.filename}: " if error.filename else ""
        sys.stderr.write(f"supportwatch: {where}{error.strerror or error}\n")
        return 2
    except Exception as error:
        if (message := aws_problem(error)) is None:
            raise
        sys.stderr.write(f"supportwatch: {message}\n")
        return 1


def aws_problem(error: Exception) -> str | None:
    """The one-line message of a failure to reach AWS or of a missing resource; None for anything else.

    Only a command that loaded the AWS modules can raise one, so nothing is imported for the others.
    """
    if "supportwatch.aws.clients" not in sys.modules:
        return None
    from supportwatch.aws.clients import AWS_ERRORS, explain

    if isinstance(error, AWS_ERRORS):
        return explain(error)
    if "supportwatch.cli.target" in sys.modules:
        from supportwatch.cli.target import AwsProblem, NotFound

        if isinstance(error, (AwsProblem, NotFound)):
            return str(error)
    return None


if __name__ == "__main__":
    sys.exit(main())
