"""`supportwatch doctor`: read-only checks that the deployment sees every Support Recommendations call.

Exit 0: no check failed; 1: a check failed; 2: could not check (no credentials, region or endpoint,
no such stack, or whether the trails deliver the calls could not be told). Contract section 9.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime

from rich.console import Console

from supportwatch.aws.clients import AWS_ERRORS, explain
from supportwatch.aws.inspection import Inspector, StackProblem
from supportwatch.cli.render import Column, console, print_table, print_text
from supportwatch.doctor.checks import diagnose, exit_code
from supportwatch.doctor.models import Check

WIDTH = 80
STYLES = {"PASS": "green", "WARN": "yellow", "FAIL": "bold red"}
COLUMNS = (
    Column("STATUS", style=STYLES.__getitem__),
    Column("CHECK", wrap=True, most=28),
    Column("DETAIL", wrap=True),
)


def run(args: argparse.Namespace) -> int:
    try:
        with spinner(console(stderr=True)) as step:
            inspector = Inspector(args.endpoint_url, args.region, step)
            observed = inspector.observe(args.stack, datetime.now(UTC), args.services)
    except StackProblem as error:
        sys.stderr.write(f"supportwatch: could not check: {error}\n")
        return 2
    except AWS_ERRORS as error:
        sys.stderr.write(f"supportwatch: could not check: {explain(error)}\n")
        return 2
    checks = diagnose(observed)
    if args.format == "json":
        sys.stdout.write(json.dumps({"checks": [check.document() for check in checks]}) + "\n")
    else:
        render(checks)
    code = exit_code(checks, observed)
    if code == 2:
        sys.stderr.write(
            "supportwatch: could not tell whether every region's trails deliver the calls (see the warnings)\n"
        )
    return code


@contextlib.contextmanager
def spinner(console: Console) -> Iterator[Callable[[str], None]]:
    """A spinner naming what is being read, on a terminal only."""
    if not console.is_terminal:
        yield lambda _text: None
        return
    with console.status("reading") as status:
        yield lambda text: status.update(f"reading {text}")


def render(checks: Sequence[Check]) -> None:
    """The checks as a table that fits the terminal (at most 80 columns), then each fix unbroken (to copy and paste)."""
    print_table(COLUMNS, [(check.status.upper(), check.name, check.detail) for check in checks], limit=WIDTH)
    for check in checks:
        if check.fix and check.status != "pass":
            print_text(f"\nfix {check.name}:", style="bold")
            print_text(f"  {check.fix}", unbroken=True)
    counts = {status: sum(check.status == status for check in checks) for status in ("pass", "warn", "fail")}
    print_text(f"\n{counts['pass']} passed, {counts['warn']} warnings, {counts['fail']} failed")
