"""`supportwatch query`: the summaries table read back into the export format."""

from __future__ import annotations

import argparse

from supportwatch.aws.clients import client
from supportwatch.aws.store import SummaryStore
from supportwatch.cli.output import render


def run(args: argparse.Namespace) -> int:
    store = SummaryStore(client("dynamodb", endpoint_url=args.endpoint_url, region_name=args.region), args.table)
    render(store.identities(), args.format)
    return 0
