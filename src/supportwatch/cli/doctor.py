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
from rich.table import Table
from rich.text import Text

from supportwatch.aws.clients import AWS_ERRORS, explain
from supportwatch.aws.inspection import Inspector, StackProblem
from supportwatch.doctor.checks import diagnose, exit_code
from supportwatch.doctor.models import Check

WIDTH = 80
STYLES = {"pass": "green", "warn": "yellow", "fail": "bold red"}


def run(args: argparse.Namespace) -> int:
    errors = Console(stderr=True)
    try:
        with spinner(errors) as step:
            observed = Inspector(args.endpoint_url, args.region, step).observe(args.stack, datetime.now(UTC))
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
        render(checks, Console(width=WIDTH, soft_wrap=False))
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


def render(checks: Sequence[Check], console: Console) -> None:
    """The checks as a table that fits 80 columns, then each fix unbroken (to copy and paste)."""
    table = Table(box=None, pad_edge=False, show_edge=False, expand=False)
    table.add_column("STATUS", no_wrap=True)
    table.add_column("CHECK", overflow="fold", max_width=28)
    table.add_column("DETAIL", overflow="fold")
    for check in checks:
        table.add_row(Text(check.status.upper(), style=STYLES[check.status]), check.name, check.detail)
    console.print(table, width=min(console.width, WIDTH))
    fixes = [check for check in checks if check.fix and check.status != "pass"]
    for check in fixes:
        console.print(Text(f"\nfix {check.name}:", style="bold"))
        console.print(Text(f"  {check.fix}"), soft_wrap=True)
    counts = {status: sum(check.status == status for check in checks) for status in ("pass", "warn", "fail")}
    console.print(f"\n{counts['pass']} passed, {counts['warn']} warnings, {counts['fail']} failed")
