"""`supportwatch migrate`: bring a table written by an earlier release up to this one's indexes.

Day summaries and published alerts written before index byPeriod existed carry no `periodKey`, so
period reads (`query --since`, `--errors`, `report`) would not see them. One Scan finds them and a
conditional update gives each its place; run it once after the stack update that adds byPeriod.
Repeating it, or running it beside the live function, changes nothing more.
"""

from __future__ import annotations

import argparse
import sys

from supportwatch.aws.clients import client
from supportwatch.aws.store import SummaryStore
from supportwatch.cli.output import plural
from supportwatch.cli.target import existing_table


def run(args: argparse.Namespace) -> int:
    dynamodb = client("dynamodb", endpoint_url=args.endpoint_url, region_name=args.region)
    with existing_table(dynamodb, args.table):
        updated = SummaryStore(dynamodb, args.table).index_periods()
    sys.stdout.write(f"{plural(updated, 'item')} added to index byPeriod in {args.table}\n")
    return 0
